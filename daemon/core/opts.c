// SPDX-License-Identifier: MIT
/* Command-line options; the same setters serve the config file (config.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "pyprobe/ctl.h"
#include "opts.h"

static const char usage[] =
	"Usage: pyprobed [OPTIONS]\n"
	"The pyprobe daemon: observes CPython processes with eBPF on request of the\n"
	"pyprobe command, or continuously for the processes its config file watches,\n"
	"and says why they are slow.\n"
	"\n"
	"  -s, --socket PATH       control socket (default " PP_CTL_DEFAULT_SOCKET ",\n"
	"                          or $" PP_CTL_SOCKET_ENV ")\n"
	"  -c, --config PATH       config file (default " PP_DEFAULT_CONFIG ";\n"
	"                          a missing default file means no watch rules)\n"
	"      --check-config      read the config file, print what it sets, exit\n"
	"  -f, --foreground        stay in the foreground (default: detach)\n"
	"  -v, --verbose           debug logging, including libbpf's\n"
	"      --sample-hz N       CPU sampling rate per CPU, 1-999 (default 99)\n"
	"      --max-clients N     concurrent clients (default 128)\n"
	"      --max-sessions N    processes observed at once (default 64)\n"
	"      --max-threads N     threads tracked across all targets (default 16384)\n"
	"      --gc-max-rate N     above N collections/s per process, stop timing each\n"
	"                          collection and estimate from samples (default 5000)\n"
	"      --max-tree N        processes one classify --tree observes at most\n"
	"                          (1-1024, default 64)\n"
	"      --loop-threshold MS an event-loop iteration this long is a stall\n"
	"                          (10-60000, default 100)\n"
	"      --window N          seconds per rolling window of watched processes\n"
	"                          (1-3600, default 10)\n"
	"      --gc-timing MODE    GC pauses of watched processes and classify windows:\n"
	"                          auto (default: exact where the kernel has uprobe_multi\n"
	"                          links, else sampled), exact or sampled\n"
	"      --gc-attach KIND    GC probes: auto (default), uprobe-multi (Linux 6.6+,\n"
	"                          nothing per context switch) or perf (perf-event uprobes)\n"
	"      --metrics ADDR      serve Prometheus metrics on [HOST:]PORT (default off;\n"
	"                          HOST defaults to 127.0.0.1)\n"
	"      --metrics-threads yes|no  per-thread series (default yes)\n"
	"      --rescan N          seconds between scans of /proc for processes the\n"
	"                          watch rules match, 0 = only on exec/fork (default 30)\n"
	"  -h, --help              this help\n"
	"  -V, --version           print the version\n"
	"\n"
	"Options override the config file; SIGHUP re-reads it (see pyprobed.conf(5)).\n";

static const char *const key_names[OPT_NKEYS] = {
	[OPT_SAMPLE_HZ] = "sample-hz",
	[OPT_MAX_CLIENTS] = "max-clients",
	[OPT_MAX_SESSIONS] = "max-sessions",
	[OPT_MAX_THREADS] = "max-threads",
	[OPT_GC_MAX_RATE] = "gc-max-rate",
	[OPT_WINDOW] = "window",
	[OPT_GC_TIMING] = "gc-timing",
	[OPT_METRICS] = "metrics",
	[OPT_METRICS_THREADS] = "metrics-threads",
	[OPT_RESCAN] = "rescan",
	[OPT_GC_ATTACH] = "gc-attach",
	[OPT_MAX_TREE] = "max-tree",
	[OPT_LOOP_THRESHOLD] = "loop-threshold",
};

int opts__key(const char *name)
{
	for (int k = 0; k < OPT_NKEYS; k++)
		if (!strcmp(name, key_names[k]))
			return k;
	return -1;
}

const char *opts__key_name(enum opt_key key)
{
	return key < OPT_NKEYS ? key_names[key] : "?";
}

static int parse_uint(const char *s, unsigned int lo, unsigned int hi, unsigned int *out, char *err, size_t len,
		      const char *name)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || *s == '-' || v < lo || v > hi) {
		snprintf(err, len, "%s must be an integer from %u to %u, not '%s'", name, lo, hi, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_bool(const char *s, bool *out, char *err, size_t len, const char *name)
{
	if (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "on") || !strcmp(s, "1"))
		*out = true;
	else if (!strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "off") || !strcmp(s, "0"))
		*out = false;
	else {
		snprintf(err, len, "%s must be yes or no, not '%s'", name, s);
		return -EINVAL;
	}
	return 0;
}

/* off | PORT | HOST:PORT | [IPV6]:PORT, HOST a numeric address. */
static int parse_listen(struct opts *o, const char *s, char *err, size_t len)
{
	char host[64] = "127.0.0.1";
	const char *port = s, *colon;
	unsigned char buf[16];

	if (!strcmp(s, "off") || !strcmp(s, "no")) {
		o->metrics_port = 0;
		return 0;
	}
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, close - s - 1);
		host[close - s - 1] = 0;
		port = close + 2;
		if (inet_pton(AF_INET6, host, buf) != 1)
			goto bad;
	} else if ((colon = strrchr(s, ':'))) {
		if ((size_t)(colon - s) >= sizeof(host) || colon == s)
			goto bad;
		memcpy(host, s, colon - s);
		host[colon - s] = 0;
		port = colon + 1;
		if (inet_pton(AF_INET, host, buf) != 1)
			goto bad;
	}
	if (parse_uint(port, 1, 65535, &o->metrics_port, err, len, "metrics port"))
		return -EINVAL;
	snprintf(o->metrics_addr, sizeof(o->metrics_addr), "%s", host);
	return 0;
bad:
	snprintf(err, len, "metrics must be off, PORT, ADDRESS:PORT or [IPV6]:PORT with a numeric address, not '%s'",
		 s);
	return -EINVAL;
}

int opts__set(struct opts *o, enum opt_key key, const char *v, char *err, size_t len)
{
	const char *name = opts__key_name(key);

	switch (key) {
	case OPT_SAMPLE_HZ:
		return parse_uint(v, 1, 999, &o->sample_hz, err, len, name);
	case OPT_MAX_CLIENTS:
		return parse_uint(v, 1, 4096, &o->max_clients, err, len, name);
	case OPT_MAX_SESSIONS:
		return parse_uint(v, 1, 256, &o->max_sessions, err, len, name);
	case OPT_MAX_THREADS:
		return parse_uint(v, 64, 1 << 20, &o->max_threads, err, len, name);
	case OPT_GC_MAX_RATE:
		return parse_uint(v, 1, 1000000, &o->gc_max_rate, err, len, name);
	case OPT_WINDOW:
		return parse_uint(v, 1, 3600, &o->window, err, len, name);
	case OPT_MAX_TREE:
		return parse_uint(v, 1, 1024, &o->max_tree, err, len, name);
	case OPT_LOOP_THRESHOLD:
		return parse_uint(v, 10, 60000, &o->loop_threshold, err, len, name);
	case OPT_RESCAN:
		return parse_uint(v, 0, 86400, &o->rescan, err, len, name);
	case OPT_GC_TIMING:
		if (!strcmp(v, "auto") || !strcmp(v, "sampled") || !strcmp(v, "exact")) {
			o->gc_timing = !strcmp(v, "exact") ? GC_TIMING_EXACT :
				       !strcmp(v, "sampled") ? GC_TIMING_SAMPLED : GC_TIMING_AUTO;
			return 0;
		}
		snprintf(err, len, "gc-timing must be auto, exact or sampled, not '%s'", v);
		return -EINVAL;
	case OPT_GC_ATTACH:
		if (!strcmp(v, "auto") || !strcmp(v, "uprobe-multi") || !strcmp(v, "perf")) {
			o->gc_attach = !strcmp(v, "perf") ? GC_ATTACH_PERF :
				       !strcmp(v, "uprobe-multi") ? GC_ATTACH_MULTI : GC_ATTACH_AUTO;
			return 0;
		}
		snprintf(err, len, "gc-attach must be auto, uprobe-multi or perf, not '%s'", v);
		return -EINVAL;
	case OPT_METRICS:
		return parse_listen(o, v, err, len);
	case OPT_METRICS_THREADS:
		return parse_bool(v, &o->metrics_threads, err, len, name);
	case OPT_NKEYS:
		break;
	}
	snprintf(err, len, "unknown setting");
	return -EINVAL;
}

static void defaults(struct opts *o)
{
	const char *env = getenv(PP_CTL_SOCKET_ENV);

	memset(o, 0, sizeof(*o));
	o->socket_path = env && *env ? env : PP_CTL_DEFAULT_SOCKET;
	o->config_path = PP_DEFAULT_CONFIG;
	o->sample_hz = 99;
	o->max_clients = 128;
	o->max_sessions = 64;
	o->max_threads = 16384;
	o->gc_max_rate = 5000;
	o->max_tree = 64;
	o->loop_threshold = 100;
	o->window = 10;
	o->rescan = 30;
	o->metrics_threads = true;
	snprintf(o->metrics_addr, sizeof(o->metrics_addr), "127.0.0.1");
}

int opts__parse(struct opts *o, int argc, char **argv)
{
	enum { LONG_BASE = 0x100, CHECK_CONFIG = 0x200 };
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, CHECK_CONFIG },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "sample-hz", required_argument, NULL, LONG_BASE + OPT_SAMPLE_HZ },
		{ "max-clients", required_argument, NULL, LONG_BASE + OPT_MAX_CLIENTS },
		{ "max-sessions", required_argument, NULL, LONG_BASE + OPT_MAX_SESSIONS },
		{ "max-threads", required_argument, NULL, LONG_BASE + OPT_MAX_THREADS },
		{ "gc-max-rate", required_argument, NULL, LONG_BASE + OPT_GC_MAX_RATE },
		{ "window", required_argument, NULL, LONG_BASE + OPT_WINDOW },
		{ "gc-timing", required_argument, NULL, LONG_BASE + OPT_GC_TIMING },
		{ "metrics", required_argument, NULL, LONG_BASE + OPT_METRICS },
		{ "metrics-threads", required_argument, NULL, LONG_BASE + OPT_METRICS_THREADS },
		{ "rescan", required_argument, NULL, LONG_BASE + OPT_RESCAN },
		{ "gc-attach", required_argument, NULL, LONG_BASE + OPT_GC_ATTACH },
		{ "max-tree", required_argument, NULL, LONG_BASE + OPT_MAX_TREE },
		{ "loop-threshold", required_argument, NULL, LONG_BASE + OPT_LOOP_THRESHOLD },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	char err[256];
	int c;

	defaults(o);
	optind = 0;	/* a full restart of getopt: SIGHUP parses argv again */
	while ((c = getopt_long(argc, argv, "s:c:fvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket_path = optarg;
			break;
		case 'c':
			o->config_path = optarg;
			o->config_given = true;
			break;
		case CHECK_CONFIG:
			o->check_config = true;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case 'V':
			printf("pyprobed %s\n", PYPROBE_VERSION);
			return 1;
		default:
			if (c >= LONG_BASE && c < LONG_BASE + OPT_NKEYS) {
				if (opts__set(o, c - LONG_BASE, optarg, err, sizeof(err))) {
					fprintf(stderr, "pyprobed: --%s\n", err);
					return -EINVAL;
				}
				o->from_cmdline |= 1u << (c - LONG_BASE);
				break;
			}
			fputs("Try 'pyprobed --help'.\n", stderr);
			return -EINVAL;
		}
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
