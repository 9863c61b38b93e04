// SPDX-License-Identifier: MIT
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pyprobe/ctl.h"
#include "opts.h"

static const char usage[] =
	"Usage: pyprobed [OPTIONS]\n"
	"The pyprobe daemon: observes CPython processes with eBPF on request of the\n"
	"pyprobe command and says why they are slow.\n"
	"\n"
	"  -s, --socket PATH     control socket (default " PP_CTL_DEFAULT_SOCKET ",\n"
	"                        or $" PP_CTL_SOCKET_ENV ")\n"
	"  -f, --foreground      stay in the foreground (default: detach)\n"
	"  -v, --verbose         debug logging, including libbpf's\n"
	"      --sample-hz N     CPU sampling rate per CPU, 1-999 (default 99)\n"
	"      --max-clients N   concurrent clients (default 128)\n"
	"      --max-sessions N  processes observed at once (default 64)\n"
	"      --max-threads N   threads tracked across all targets (default 16384)\n"
	"      --gc-max-rate N   above N collections/s per process, stop timing each\n"
	"                        collection and estimate from samples (default 1000)\n"
	"  -h, --help            this help\n"
	"  -V, --version         print the version\n";

static int parse_uint(const char *name, const char *s, unsigned int lo, unsigned int hi, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi) {
		fprintf(stderr, "pyprobed: --%s must be an integer from %u to %u, not '%s'\n", name, lo, hi, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int opts__parse(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "sample-hz", required_argument, NULL, 1 },
		{ "max-clients", required_argument, NULL, 2 },
		{ "max-sessions", required_argument, NULL, 3 },
		{ "max-threads", required_argument, NULL, 4 },
		{ "gc-max-rate", required_argument, NULL, 5 },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	const char *env = getenv(PP_CTL_SOCKET_ENV);
	int c, err = 0;

	memset(o, 0, sizeof(*o));
	o->socket_path = env && *env ? env : PP_CTL_DEFAULT_SOCKET;
	o->sample_hz = 99;
	o->max_clients = 128;
	o->max_sessions = 64;
	o->max_threads = 16384;
	o->gc_max_rate = 1000;
	while ((c = getopt_long(argc, argv, "s:fvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket_path = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 1:
			err = parse_uint("sample-hz", optarg, 1, 999, &o->sample_hz);
			break;
		case 2:
			err = parse_uint("max-clients", optarg, 1, 4096, &o->max_clients);
			break;
		case 3:
			err = parse_uint("max-sessions", optarg, 1, 256, &o->max_sessions);
			break;
		case 4:
			err = parse_uint("max-threads", optarg, 64, 1 << 20, &o->max_threads);
			break;
		case 5:
			err = parse_uint("gc-max-rate", optarg, 1, 1000000, &o->gc_max_rate);
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case 'V':
			printf("pyprobed %s\n", PYPROBE_VERSION);
			return 1;
		default:
			fputs("Try 'pyprobed --help'.\n", stderr);
			return -EINVAL;
		}
		if (err)
			return err;
	}
	if (optind < argc) {
		fprintf(stderr, "pyprobed: unexpected argument '%s'\nTry 'pyprobed --help'.\n", argv[optind]);
		return -EINVAL;
	}
	if (strlen(o->socket_path) >= 108) {
		fprintf(stderr, "pyprobed: socket path too long (max 107 bytes): %s\n", o->socket_path);
		return -EINVAL;
	}
	return 0;
}
