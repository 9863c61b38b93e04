// SPDX-License-Identifier: MIT
/* pyprobed: connects the modules and runs the loop. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/stat.h>
#include "config.h"
#include "ctl_server.h"
#include "evloop.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "monitor.h"
#include "notify.h"
#include "opts.h"
#include "registry.h"
#include "requests.h"

struct sigwatch {
	struct watch w;
	struct evloop *ev;
	struct opts *o;
	struct monitor *mon;
	struct requests *req;
	int argc;
	char **argv;
};

/* --check-config: what the daemon would run with. */
static int check_config(const struct opts *o, const struct rules *rules)
{

	printf("config %s: ok\n", o->config_path);
	printf("sample-hz = %u\nmax-clients = %u\nmax-sessions = %u\nmax-threads = %u\ngc-max-rate = %u\n",
	       o->sample_hz, o->max_clients, o->max_sessions, o->max_threads, o->gc_max_rate);
	printf("max-tree = %u\nloop-threshold = %u\n", o->max_tree, o->loop_threshold);
	printf("window = %u\ngc-timing = %s\ngc-attach = %s\nrescan = %u\n", o->window,
	       o->gc_timing == GC_TIMING_EXACT ? "exact" : o->gc_timing == GC_TIMING_SAMPLED ? "sampled" : "auto",
	       o->gc_attach == GC_ATTACH_PERF ? "perf" : o->gc_attach == GC_ATTACH_MULTI ? "uprobe-multi" : "auto",
	       o->rescan);
	if (o->metrics_port)
		printf(strchr(o->metrics_addr, ':') ? "metrics = [%s]:%u\n" : "metrics = %s:%u\n", o->metrics_addr,
		       o->metrics_port);
	else
		printf("metrics = off\n");
	printf("metrics-threads = %s\n", o->metrics_threads ? "yes" : "no");
	for (unsigned int i = 0; i < o->access.nallow; i++) {
		struct group *g = getgrgid(o->access.allow_gids[i]);

		printf("allow-group = %s (gid %u)\n", g ? g->gr_name : "?", (unsigned)o->access.allow_gids[i]);
	}
	for (unsigned int i = 0; i < o->access.ndeny; i++) {
		struct passwd *pw = getpwuid(o->access.deny_uids[i]);

		printf("deny-user = %s (uid %u)\n", pw ? pw->pw_name : "?", (unsigned)o->access.deny_uids[i]);
	}
	printf("allow-nondumpable = %s\n", o->access.allow_nondumpable ? "yes" : "no");
	for (size_t i = 0; i < rules->n; i++)
		printf("watch = %s %s   (line %d)\n", rule_kind_name(rules->v[i].kind), rules->v[i].arg, rules->v[i].line);
	if (!rules->n)
		printf("no watch rules: processes are observed on request only\n");
	return 0;
}

/*
 * SIGHUP: read the file again over the command line's options. A file with
 * any error changes nothing; settings that need a restart are reported.
 */
static void reload(struct sigwatch *sw)
{
	struct opts n, *o = sw->o;
	struct rules rules = {};
	char err[4096];

	notify_send("RELOADING=1");
	opterr = 0;
	if (opts__parse(&n, sw->argc, sw->argv) ||
	    config__load(o->config_path, o->config_given, &n, &rules, err, sizeof(err))) {
		log_err("reload: config not changed:\n%s", err);
		rules__free(&rules);
		notify_send("READY=1");
		return;
	}
	if (n.sample_hz != o->sample_hz || n.max_clients != o->max_clients || n.max_sessions != o->max_sessions ||
	    n.max_threads != o->max_threads || n.gc_max_rate != o->gc_max_rate || n.metrics_port != o->metrics_port ||
	    n.gc_attach != o->gc_attach ||
	    strcmp(n.metrics_addr, o->metrics_addr))
		log_warn("reload: sample-hz, max-*, gc-max-rate, gc-attach and metrics take effect at the next restart");
	o->window = n.window;
	o->max_tree = n.max_tree;
	o->loop_threshold = n.loop_threshold;
	o->gc_timing = n.gc_timing;
	o->rescan = n.rescan;
	o->metrics_threads = n.metrics_threads;
	o->access = n.access;
	requests__policy_changed(sw->req);
	log_info("reloaded %s: %zu watch rule%s", o->config_path, rules.n, rules.n == 1 ? "" : "s");
	monitor__settings_changed(sw->mon);
	monitor__set_rules(sw->mon, &rules);
	notify_send("READY=1");
}

static void signal_event(struct watch *w, uint32_t events)
{
	struct sigwatch *sw = (struct sigwatch *)w;
	struct signalfd_siginfo si;

	if (read(w->fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		reload(sw);
		return;
	}
	log_info("signal %u: shutting down", si.ssi_signo);
	evloop__stop(sw->ev);
}

/* systemd's watchdog: WATCHDOG=1 at half the interval, from the loop itself. */
static void watchdog_event(struct watch *w, uint32_t events)
{
	uint64_t n;

	if (read(w->fd, &n, sizeof(n)) > 0)
		notify_send("WATCHDOG=1");
}

/* mkdir of one directory, 0755 whatever the umask: every user must reach the socket. */
static int make_dir(const char *dir)
{
	if (mkdir(dir, 0755))
		return errno == EEXIST ? 0 : -errno;
	return chmod(dir, 0755) ? -errno : 0;
}

/* mkdir -p of the socket's directory; directories that exist are left as they are. */
static int make_socket_dir(const char *path)
{
	char dir[108], *p;
	int err;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = 0;
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		err = make_dir(dir);
		if (err)
			return err;
		*p = '/';
	}
	return make_dir(dir);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct evloop *ev = NULL;
	struct registry *reg = NULL;
	struct requests *req = NULL;
	struct ctl_server *ctl = NULL;
	struct monitor *mon = NULL;
	struct metrics *mx = NULL;
	struct rules rules = {};
	struct sigwatch sw = { .w.fd = -1, .argc = argc, .argv = argv, .o = &o };
	struct watch wd = { .fd = -1, .fn = watchdog_event };
	uint64_t wd_usec;
	sigset_t mask;
	char cfg_err[4096];
	int listen_fd, err;

	err = opts__parse(&o, argc, argv);
	if (err)
		return err > 0 ? 0 : 2;
	if (config__load(o.config_path, o.config_given, &o, &rules, cfg_err, sizeof(cfg_err))) {
		fprintf(stderr, "pyprobed: bad config file:\n%s\n", cfg_err);
		rules__free(&rules);
		return 2;
	}
	if (o.check_config) {
		err = check_config(&o, &rules);
		rules__free(&rules);
		return err;
	}
	log_init(o.verbose);
	signal(SIGPIPE, SIG_IGN);

	ev = evloop__new();
	if (!ev) {
		err = -errno;
		log_err("epoll: %s", strerror(-err));
		goto cleanup;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sw.w.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	sw.w.fn = signal_event;
	sw.ev = ev;
	if (sw.w.fd < 0 || evloop__add(ev, &sw.w, EPOLLIN)) {
		err = -errno;
		log_err("signalfd: %s", strerror(-err));
		goto cleanup;
	}

	reg = registry__new(ev, &o);
	if (!reg) {
		err = -errno;
		if (err == -EOPNOTSUPP)
			log_err("gc-attach = uprobe-multi: this kernel has no uprobe_multi links (Linux 6.6+)");
		else
			log_err("cannot load the BPF programs: %s (needs root or CAP_BPF+CAP_PERFMON+CAP_SYS_PTRACE "
				"and a kernel with BTF; -v shows libbpf's log)", strerror(-err));
		goto cleanup;
	}
	req = requests__new(ev, &o, reg);
	if (!req) {
		err = -errno;
		log_err("requests: %s", strerror(-err));
		goto cleanup;
	}
	listen_fd = notify_listen_fd();
	err = listen_fd >= 0 ? 0 : make_socket_dir(o.socket_path);
	if (err) {
		log_err("cannot create the directory of %s: %s", o.socket_path, strerror(-err));
		goto cleanup;
	}
	ctl = ctl_server__new(ev, listen_fd, listen_fd >= 0 ? "(socket activation)" : o.socket_path, o.max_clients,
			      &(struct ctl_handlers){ requests__request, requests__client_closed, req });
	if (!ctl) {
		err = -errno;
		log_err("cannot listen on %s: %s", o.socket_path,
			err == -EADDRINUSE ? "another pyprobed is serving it" : strerror(-err));
		goto cleanup;
	}
	mon = monitor__new(ev, reg, &o);
	if (!mon) {
		err = -errno;
		log_err("monitor: %s", strerror(-err));
		goto cleanup;
	}
	sw.mon = mon;
	sw.req = req;
	if (o.metrics_port) {
		mx = metrics__new(ev, &o, &(struct metrics_sources){ mon, reg, req, ctl });
		if (!mx) {
			err = -errno;
			log_err("cannot serve metrics on %s port %u: %s", o.metrics_addr, o.metrics_port, strerror(-err));
			goto cleanup;
		}
	}

	if (!o.foreground && daemon(0, 0)) {
		err = -errno;
		log_err("daemon: %s", strerror(-err));
		goto cleanup;
	}
	wd_usec = notify_watchdog_usec();
	if (wd_usec) {
		struct itimerspec its = { .it_interval.tv_nsec = (wd_usec / 2 % 1000000) * 1000,
					  .it_interval.tv_sec = wd_usec / 2 / 1000000 };

		its.it_value = its.it_interval;
		wd.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (wd.fd < 0 || timerfd_settime(wd.fd, 0, &its, NULL) || evloop__add(ev, &wd, EPOLLIN))
			log_warn("watchdog timer: %s", strerror(errno));
	}
	log_info("pyprobed %s listening on %s", PYPROBE_VERSION,
		 listen_fd >= 0 ? "a socket passed by systemd" : o.socket_path);
	if (mx)
		log_info("metrics on http://%s%s%s:%u/metrics", strchr(o.metrics_addr, ':') ? "[" : "", o.metrics_addr,
			 strchr(o.metrics_addr, ':') ? "]" : "", o.metrics_port);
	if (rules.n)
		log_info("%s: %zu watch rule%s", o.config_path, rules.n, rules.n == 1 ? "" : "s");
	monitor__set_rules(mon, &rules);
	notify_send("READY=1\nSTATUS=waiting for requests");
	err = evloop__run(ev);
	notify_send("STOPPING=1");
	if (err)
		log_err("event loop: %s", strerror(-err));

cleanup:
	if (wd.fd >= 0) {
		evloop__del(ev, &wd);
		close(wd.fd);
	}
	metrics__free(mx);
	monitor__free(mon);
	rules__free(&rules);
	ctl_server__free(ctl);
	requests__free(req);
	registry__free(reg);
	if (sw.w.fd >= 0)
		close(sw.w.fd);
	evloop__free(ev);
	return err ? 1 : 0;
}
