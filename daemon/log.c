// SPDX-License-Identifier: MIT
/* Logging to stderr; "<N>" priority prefixes when journald reads us. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

void log_init(bool verbose)
{
	log_verbose = verbose;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
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
