// SPDX-License-Identifier: MIT
/*
 * make bench's floor mode: attach tests/bench/floor.bpf.c's empty program to
 * the scheduler's switch hook, print "ready", hold it until SIGINT or
 * SIGTERM, then print the program's "runs ns" from the kernel's statistics
 * (zeros unless kernel.bpf_stats_enabled was on).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	struct pp_floor *skel;
	int err;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	skel = pp_floor__open_and_load();
	if (!skel) {
		fprintf(stderr, "floor: cannot load the program: %s\n", strerror(errno));
		return 1;
	}
	err = pp_floor__attach(skel);
	if (err) {
		fprintf(stderr, "floor: cannot attach to sched_switch: %s\n", strerror(-err));
		pp_floor__destroy(skel);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		pause();
	if (bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.floor_sched_switch), &info, &len) == 0)
		printf("%llu %llu\n", (unsigned long long)info.run_cnt, (unsigned long long)info.run_time_ns);
	pp_floor__destroy(skel);
	return 0;
}
