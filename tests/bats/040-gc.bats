#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# GC pauses against the workload's own gc.callbacks timing, on every interpreter.

load ../daemon_suite

# gc_burst PYTHON CMD...: start gc_timed.py, open a window with `pyprobe CMD`,
# fire the burst inside it; leaves the reply in $output and the workload's own
# "count total gen0 gen1 gen2 stall gen2_total" in $TRUTH.
gc_burst() {
	local py=$1 res
	shift
	res=$TEST_DIR/gc-truth.$RANDOM
	start_workload "$py" gc_timed "$res" "${BURST:-60}"
	# The window must hold the whole burst: on a slow day 3.6 spends ~5 s in these collections.
	gc_window_burst "$WL_PID" "$res" "$@" --seconds "${WINDOW:-10}"
}

# extra_daemon DIR ARGS...: a second pyprobed on DIR/s with its log in DIR/log; sets EXTRA_PID.
extra_daemon() {
	local dir=$1
	shift
	mkdir -p "$dir"
	: >"$dir/empty.conf"
	"$BIN/pyprobed" --foreground --socket "$dir/s" --config "$dir/empty.conf" "$@" 2>"$dir/log" 3>&- &
	EXTRA_PID=$!
	for _ in $(seq 100); do [ -S "$dir/s" ] && break; sleep 0.05; done
	[ -S "$dir/s" ]
}

# The kernel has uprobe_multi links (6.6+): the daemon's default attach.
default_attach() {
	if bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | grep -q BPF_TRACE_UPROBE_MULTI; then
		echo uprobe_multi
	else
		echo perf_event
	fi
}

# exact_vs_truth PY...: gc windows against gc.callbacks; WANT_ATTACH is how the probes must be attached.
exact_vs_truth() {
	local py failed=() n total g0 g1 g2 stall full want_method
	for py in "$@"; do
		gc_burst "$py" gc
		stop_workload
		read -r n total g0 g1 g2 stall full <<<"$TRUTH"
		want_method=uprobe
		# Debian's builds (the host's and the sid root's) have the USDT probes.
		[[ $py == /usr/bin/python3 || $py == "$ROOTS_DIR"/* ]] && want_method=usdt
		echo "# $py: truth $n collections $total s (generation 2 $full s, stall $stall s); pyprobe $(json_get '[.gc.method, .gc.attach, .gc.all.collections, .gc.all.timed, .gc.pause_seconds, .gc.generations[2].pause_seconds] | @tsv')" >&3
		[ "$(json_get .gc.method)" = "$want_method" ] || failed+=("$py: method $(json_get .gc.method)")
		[ "$(json_get .gc.attach)" = "$WANT_ATTACH" ] || failed+=("$py: attach $(json_get .gc.attach)")
		[ "$(json_get .gc.all.collections)" = "$n" ] || failed+=("$py: count $(json_get .gc.all.collections) != $n")
		[ "$(json_get .gc.all.timed)" = "$n" ] || failed+=("$py: timed $(json_get .gc.all.timed) != $n")
		[ "$(json_get '[.gc.generations[].collections] | map(tostring) | join(" ")')" = "$g0 $g1 $g2" ] ||
			failed+=("$py: per generation $(json_get '[.gc.generations[].collections]' | tr -d ' \n') != $g0 $g1 $g2")
		[ "$(json_get "[.gc.generations[].timed] | map(tostring) | join(\" \")")" = "$g0 $g1 $g2" ] ||
			failed+=("$py: timed per generation $(json_get '[.gc.generations[].timed]' | tr -d ' \n')")
		# What gc.callbacks times also holds the callbacks themselves and the probes' traps, outside
		# the interval the probes see: about 0.1 ms a collection on a quiet machine, up to 1-2 ms on
		# a loaded one, where the workload is also descheduled now and then (stall: the most one
		# collection took beyond its generation's median). So: full collections (milliseconds each)
		# within 10% give or take one stall, and all of them never more than the truth nor under
		# 80% of it.
		awk -v a="$(json_get '.gc.generations[2].pause_seconds')" -v b="$full" -v x="$stall" \
			'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.1 * b + x) }' ||
			failed+=("$py: generation 2 pauses $(json_get '.gc.generations[2].pause_seconds') s vs $full s (stall $stall s)")
		awk -v a="$(json_get .gc.pause_seconds)" -v b="$total" 'BEGIN { exit !(a <= 1.02 * b && a >= 0.8 * b) }' ||
			failed+=("$py: pause $(json_get .gc.pause_seconds) s vs $total s")
	done
	echo "# covered: $*" >&3
	if [ "${#failed[@]}" -gt 0 ]; then
		printf '%s\n' "${failed[@]}"
		return 1
	fi
}

@test "GC count exact and pauses as gc.callbacks times them, on every interpreter (uprobe_multi: USDT on Debian's, symbols on pyenv's)" {
	mapfile -t PYS < <(interpreters)
	WANT_ATTACH=$(default_attach) exact_vs_truth "${PYS[@]}"
}

@test "the perf-event uprobes still time every collection when forced (--gc-attach perf)" {
	local main_sock=$SOCK dir=$TEST_DIR/perfattach pid st=0
	extra_daemon "$dir" --gc-attach perf
	pid=$EXTRA_PID
	SOCK=$dir/s
	WANT_ATTACH=perf_event exact_vs_truth /usr/bin/python3 "$(interpreters | sed -n 2p)" || st=1
	SOCK=$main_sock
	kill "$pid"
	wait "$pid" || st=1
	run ! grep -qE "$SANITIZER_REPORT" "$dir/log"
	[ "$st" = 0 ]
}

@test "the sampled estimate (gc-timing = sampled) against gc.callbacks: counts exact, pause time within 30% (Debian's, the oldest, the newest)" {
	local main_sock=$SOCK dir=$TEST_DIR/sampled pid st=0 py failed=() n total est
	extra_daemon "$dir" --gc-timing sampled
	pid=$EXTRA_PID
	SOCK=$dir/s
	while read -r py; do
		# A longer burst: the estimate counts CPU samples (99 Hz) taken inside the collector.
		BURST=120 gc_burst "$py" classify
		stop_workload
		read -r n total _ <<<"$TRUTH"
		est=$(json_get .gc.pause_seconds)
		echo "# $py: truth $n collections, $total s; estimate $(json_get '[.gc.method, .gc.all.collections, .gc.pause_seconds, .gc.sampled_seconds] | @tsv')" >&3
		[ "$(json_get .gc.method)" = sampled ] || failed+=("$py: method $(json_get .gc.method)")
		[ "$(json_get .gc.all.collections)" = "$n" ] || failed+=("$py: count $(json_get .gc.all.collections) != $n")
		awk -v a="$est" -v b="$total" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0.2 && d <= 0.3 * b + 0.02) }' ||
			failed+=("$py: estimated $est s of pauses, gc.callbacks timed $total s")
	done < <(sweep_interpreters)
	SOCK=$main_sock
	kill "$pid"
	wait "$pid" || st=1
	run ! grep -qE "$SANITIZER_REPORT" "$dir/log"
	[ "$st" = 0 ]
	if [ "${#failed[@]}" -gt 0 ]; then
		printf '%s\n' "${failed[@]}"
		return 1
	fi
}

@test "classify times collections exactly where uprobe_multi makes it cheap (gc-timing = auto)" {
	[ "$(default_attach)" = uprobe_multi ] || skip "this kernel has no uprobe_multi links"
	start_workload /usr/bin/python3 gc_auto
	run_pyprobe -0 classify "$WL_PID" --seconds 1.5 --json
	echo "# $(json_get -c '.gc | [.method, .attach, .all.collections, .all.timed]')" >&3
	[ "$(json_get .gc.method)" = usdt ]
	[ "$(json_get .gc.attach)" = uprobe_multi ]
	[ "$(json_get '(.gc.all.collections - .gc.all.timed) | fabs <= 2')" = true ]
}

@test "automatic collections are timed and attributed to their generation" {
	for py in /usr/bin/python3 $(interpreters | grep -E 'python3\.(8|13)$'); do
		start_workload "$py" gc_auto
		run_pyprobe -0 gc "$WL_PID" --seconds 1.5 --json
		stop_workload
		echo "# $py: $(json_get '[.gc.method, .gc.all.collections, .gc.all.timed, [.gc.generations[].timed]] | tostring')" >&3
		[ "$(json_get '.gc.generations[0].timed > 10')" = true ]
		[ "$(json_get '([.gc.generations[].timed] | add) == .gc.all.timed')" = true ]
		# A collection in flight at either edge of the window may be counted but not timed.
		[ "$(json_get '(.gc.all.collections - .gc.all.timed) | fabs <= 2')" = true ]
	done
}

@test "classify shows the gc-pressure trait and GC advice when pauses are a visible share" {
	# A 4 s window holding ~1 s of collections: pauses a clear share of it, not one near the
	# trait's threshold (200 collections in 10 s gave 4.9-6.5 % of the wall, either side of it).
	WINDOW=4 BURST=300 gc_burst /usr/bin/python3 classify
	echo "# $(json_get '[.gc.share_of_wall, .verdict.traits] | tostring')" >&3
	[ "$(json_get '.verdict.traits | index("gc-pressure") != null')" = true ]
	[[ $(json_get '.verdict.advice | join(" ")') == *"gc.freeze()"* ]]
	[ "$(json_get '.gc.share_of_wall > 0.05')" = true ]
}

@test "a process that does not collect reports zero collections, not an error" {
	start_workload /usr/bin/python3 sleeping
	run_pyprobe -0 gc "$WL_PID" --seconds 1 --json
	[ "$(json_get .gc.all.collections)" = 0 ]
	[ "$(json_get .gc.pause_seconds)" = 0 ]
	run_pyprobe -0 classify "$WL_PID" --seconds 1 --json
	[ "$(json_get '.verdict.traits | length')" = 0 ]
}

@test "the rate guard stops exact tracing on a GC storm and the reply says so" {
	for py in /usr/bin/python3 $(interpreters | grep -E 'python3\.12$'); do
		start_workload "$py" gc_storm
		run_pyprobe -0 gc "$WL_PID" --seconds 2 --json
		echo "# $py: $(json_get '[.gc.method, .gc.rate_guard, .gc.all.collections, .gc.sampled_seconds] | @tsv')" >&3
		[ "$(json_get .gc.rate_guard)" = true ]
		[ "$(json_get .gc.method)" = sampled ]
		[[ $(json_get .gc.note) == *"estimated from CPU samples"* ]]
		# Counts stay exact: the interpreter's own statistics need no probe.
		[ "$(json_get '.gc.all.collections > 2000')" = true ]
		[ "$(json_get '.gc.counts_exact')" = true ]
		stop_workload
	done
}

@test "pyprobe gc human output: table and histogram" {
	local res=$TEST_DIR/gc-human
	start_workload /usr/bin/python3 gc_timed "$res"
	kill -USR1 "$WL_PID"
	run_pyprobe -0 gc "$WL_PID" --seconds 1
	[[ $output == *"GC: "*" collections, paused "*"(method: usdt)"* ]]
	[[ $output == *"gen   collections"* ]]
	[[ $output == *"pause lengths:"*"us |#"* ]]
	run_pyprobe -0 gc --help
	[[ $output == "Usage: pyprobe gc"* ]]
}
