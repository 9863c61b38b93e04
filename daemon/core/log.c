// SPDX-License-Identifier: MIT
/* Logging to stderr; "<N>" priority prefixes when journald reads us. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include "log.h"

static bool log_verbose;
static bool log_journal;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level lvl = level == LIBBPF_WARN ? LOG_WARN : level == LIBBPF_INFO ? LOG_INFO : LOG_DEBUG;

	if (lvl == LOG_DEBUG && !log_verbose)
		return 0;
	if (log_journal)
		fprintf(stderr, "<%d>", lvl);
	return vfprintf(stderr, fmt, ap);
}

/*
 * systemd sets JOURNAL_STREAM=DEV:INODE when stderr goes to the journal; a
 * stderr redirected elsewhere since (a shell in between) gets plain lines.
 */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st))
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void log_init(bool verbose)
{
	log_verbose = verbose;
	log_journal = stderr_is_journal();
	libbpf_set_print(libbpf_print);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if (lvl == LOG_DEBUG && !log_verbose)
		return;
	if (log_journal)
		fprintf(stderr, "<%d>", lvl);
	else
		fputs("pyprobed: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
