/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_OPTS_H
#define PYPROBED_OPTS_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PP_DEFAULT_CONFIG "/etc/pyprobe/pyprobed.conf"

/* Settings a command-line option and the config file can both give: the option wins. */
enum opt_key {
	OPT_SAMPLE_HZ,
	OPT_MAX_CLIENTS,
	OPT_MAX_SESSIONS,
	OPT_MAX_THREADS,
	OPT_GC_MAX_RATE,
	OPT_WINDOW,
	OPT_GC_TIMING,
	OPT_METRICS,
	OPT_METRICS_THREADS,
	OPT_RESCAN,
	OPT_GC_ATTACH,
	OPT_MAX_TREE,
	OPT_LOOP_THRESHOLD,
	OPT_NKEYS
};

/*
 * Who else may observe processes (config file only): members of allow-group
 * any process, but those of deny-user and, unless allow-nondumpable, those
 * that are not dumpable. access.c applies it.
 */
#define ACCESS_MAX_NAMES 32
struct access_policy {
	gid_t allow_gids[ACCESS_MAX_NAMES];
	unsigned int nallow;
	uid_t deny_uids[ACCESS_MAX_NAMES];
	unsigned int ndeny;
	bool allow_nondumpable;
};

struct opts {
	const char *socket_path;
	const char *config_path;
	bool config_given;	/* --config: the file must exist */
	bool check_config;	/* --check-config: parse, report, exit */
	bool foreground;
	bool verbose;
	unsigned int sample_hz;		/* CPU sampler rate per CPU */
	unsigned int max_clients;
	unsigned int max_sessions;
	unsigned int max_threads;	/* BPF thread map size */
	unsigned int gc_max_rate;	/* exact GC tracing stops above this many collections/s */
	unsigned int max_tree;		/* processes of one classify --tree at most */
	unsigned int loop_threshold;	/* ms: an event-loop iteration this long is a stall */
	/* Watched processes (config file rules). */
	unsigned int window;		/* seconds per rolling window */
	enum gc_timing {
		GC_TIMING_AUTO,		/* exact where uprobe_multi links make it cheap, else sampled */
		GC_TIMING_EXACT,
		GC_TIMING_SAMPLED,
	} gc_timing;			/* watched processes, and classify windows */
	enum gc_attach {
		GC_ATTACH_AUTO,		/* uprobe_multi where the kernel has it, else perf-event uprobes */
		GC_ATTACH_MULTI,
		GC_ATTACH_PERF,
	} gc_attach;
	unsigned int rescan;		/* seconds between /proc scans for new matches, 0 = never */
	/* Prometheus exposition: off when metrics_port is 0. */
	char metrics_addr[64];		/* IPv4 or IPv6 literal */
	unsigned int metrics_port;
	bool metrics_threads;		/* per-thread series */
	struct access_policy access;
	uint32_t from_cmdline;		/* bit (1 << enum opt_key): given as an option */
};

/*
 * Parse argv into o (defaults first). Returns 0 to run, 1 when --help/--version
 * was handled (exit 0), or -EINVAL after printing the problem (exit 2).
 */
int opts__parse(struct opts *o, int argc, char **argv);
/*
 * Set one setting from text (an option's argument or a config value). Returns
 * 0, or -EINVAL with the reason in err.
 */
int opts__set(struct opts *o, enum opt_key key, const char *value, char *err, size_t len);
/* The key of a long option / config key name, or -1. */
int opts__key(const char *name);
const char *opts__key_name(enum opt_key key);

#endif
