// SPDX-License-Identifier: MIT
/* pyprobe: the command-line client of pyprobed. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pyprobe/ctl.h"
#include "ctl_client.h"
#include "cli.h"

static const struct {
	const char *name;
	cmd_fn fn;
	const char *summary;
} commands[] = {
	{ "classify", cmd_classify, "say why a Python process is slow (I/O, CPU, GIL, idle)" },
	{ "gc", cmd_gc, "garbage-collector pauses: count, length, share of wall time" },
	{ "top", cmd_top, "hottest Python functions and lines, from CPU samples" },
	{ "attrs", cmd_attrs, "hot attribute and global lookups, and whether caching them pays" },
	{ "churn", cmd_churn, "CPU time spent allocating and freeing objects, and where" },
	{ "loop", cmd_loop, "event-loop iterations and stalls: how long, what the loop was doing" },
	{ "record", cmd_record, "write a CPU profile: folded stacks, pprof or speedscope" },
	{ "status", cmd_status, "show the daemon's state" },
	{ "list", cmd_list, "list the processes being observed" },
	{ "detach", cmd_detach, "stop observing a process" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: pyprobe [--socket PATH] COMMAND [ARGS]\n"
		   "Ask pyprobed why a running CPython process is slow, without restarting it.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nOptions:\n"
		   "  -s, --socket PATH  daemon socket (default $" PP_CTL_SOCKET_ENV " or " PP_CTL_DEFAULT_SOCKET ")\n"
		   "  -h, --help         this help; 'pyprobe COMMAND --help' for a command\n"
		   "  -V, --version      print the version\n\n"
		   "Exit status: 0 success, 1 the daemon refused or failed the request, 2 usage error,\n"
		   "3 the daemon could not be reached.\n"
		   "Example: pyprobe classify 1234 --seconds 5\n");
}

json_t *cli_call(const struct cli *cli, json_t *req, int timeout_ms, bool json, int *rc)
{
	return cli_call_progress(cli, req, timeout_ms, json, rc, 0);
}

json_t *cli_call_progress(const struct cli *cli, json_t *req, int timeout_ms, bool json, int *rc, double seconds)
{
	json_t *reply = ctl_call(cli->socket_path, req, timeout_ms, seconds >= 2 && isatty(STDERR_FILENO) ? seconds : 0),
	       *err;

	json_decref(req);
	if (!reply) {
		*rc = EXIT_NO_DAEMON;
		return NULL;
	}
	if (json_is_true(json_object_get(reply, "ok"))) {
		*rc = EXIT_OK;
		return reply;
	}
	err = json_object_get(reply, "error");
	if (json)
		cli_print_json(reply);
	else
		fprintf(stderr, "pyprobe: %s (%s)\n", json_string_value(json_object_get(err, "message")) ?: "error",
			json_string_value(json_object_get(err, "code")) ?: "?");
	json_decref(reply);
	*rc = EXIT_FAILED;
	return NULL;
}

pid_t cli_parse_pid(const char *cmd, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v <= 0 || v > 0x3fffffff) {
		fprintf(stderr, "pyprobe %s: '%s' is not a process ID\n", cmd, s);
		return -1;
	}
	return (pid_t)v;
}

void cli_print_json(json_t *reply)
{
	json_dumpf(reply, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
	fputc('\n', stdout);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	const char *env = getenv(PP_CTL_SOCKET_ENV);
	struct cli cli = { .socket_path = env && *env ? env : PP_CTL_DEFAULT_SOCKET };
	int c;

	/* '+': stop at the command name; its options are its own. */
	while ((c = getopt_long(argc, argv, "+s:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			cli.socket_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("pyprobe %s (protocol v%d)\n", PYPROBE_VERSION, PP_CTL_VERSION);
			return EXIT_OK;
		default:
			fputs("Try 'pyprobe --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;

			optind = 0;	/* 0, not 1: glibc then also resets its "+" scanning mode */
			return commands[i].fn(&cli, sub_argc, sub_argv);
		}
	}
	fprintf(stderr, "pyprobe: unknown command '%s'\nTry 'pyprobe --help'.\n", argv[optind]);
	return EXIT_USAGE;
}
