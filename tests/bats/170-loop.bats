#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Event-loop stalls (issue 15, docs/classify.md "Event loops"): pyprobe loop on
# asyncio servers whose handlers block (time.sleep, a blocking socket read) or
# compute, a saturated loop and a healthy one; stall counts and lengths against
# the workload's own log; the loop-blocked trait in classify.

load ../daemon_suite

# loop_window PY MODE SECONDS: run aio_stalls.py MODE under PY, pyprobe loop over it; sets output and
# LOGGED (the stalls the workload logged as lying inside the window, one duration in ms per line: one
# under way at the attach is of unknown length to pyprobe, and not reported).
loop_window() {
	local py=$1 mode=$2 secs=$3 t0 t1
	start_workload "$py" aio_stalls "$mode" || return 1
	run_pyprobe -0 loop "$WL_PID" --seconds "$secs" --json || return 1
	t0=$(json_get .window_start_monotonic)
	t1=$(json_get '.window_start_monotonic + .window_seconds')
	LOGGED=$(awk -v a="$t0" -v b="$t1" '$1 == "stall" && $2 - $3 / 1000 > a && $2 <= b { print $3 }' "$WL_OUT")
}

# check_stalls PY MODE CAUSE SITE_LINE [BUCKET SYSCALL]: count within one of the log's, every
# stall's length within 15% of the median logged one; cause, site, coroutine and (blocking) where
# it waited right for all stalls of the window but one. The one: CI runs have shown about one stall
# in 60 whose blocked interval the scheduler hook's record lacked (told from the samples since:
# tests/unit/test_loopstats.c), and one in 90 with no record at all (issue 15's note); a window
# with two wrong still fails. The daemon's count of switches its hook did not see is printed.
check_stalls() {
	local py=$1 mode=$2 cause=$3 line=$4 bucket=${5:-} call=${6:-} n logged med
	loop_window "$py" "$mode" 3 || return 1
	n=$(json_get '[.loop.stalls[] | select(.ongoing | not)] | length')
	logged=$(grep -c . <<<"$LOGGED")
	med=$(sort -n <<<"$LOGGED" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	echo "# $py $mode: pyprobe $n stalls $(json_get -c '[.loop.stalls[] | [(.start_seconds * 100 | floor / 100), (.duration_ms | floor), .cause, .site, .task, .blocked_in.bucket, .blocked_in.syscall, .ongoing]]')," \
		"logged $logged, median ${med} ms; threads $(json_get -c '[.loop.threads[] | [.state, .stalls]]');" \
		"daemon's unseen switches so far $("$BIN/pyprobe" --socket "$SOCK" status --json 3>&- | jq .bpf.switches_unseen)" >&3
	[ "$logged" -ge 3 ] || return 1
	# The same stalls: a period ends a moment after the handler's own clock stops (a boundary may differ).
	[ $((n - logged)) -le 1 ] && [ $((logged - n)) -le 1 ] || return 1
	json_get --argjson m "$med" '[.loop.stalls[] | select(.ongoing | not) | .duration_ms] | all(. >= 0.85 * $m and . <= 1.15 * $m)' | grep -qx true || return 1
	most --arg c "$cause" '.cause == $c' || return 1
	most --arg l "aio_stalls.py:$line)" '.site // "" | endswith($l)' || return 1
	most '.task == "handle_client"' || return 1
	[ "$(json_get '.loop.threads[0].state')" = stalled ] || return 1
	if [ -n "$bucket" ]; then
		most --arg b "$bucket" --arg s "$call" '.blocked_in.bucket == $b and (.blocked_in.syscall // "" | test($s))' || return 1
	fi
}

# time.sleep is clock_nanosleep, or select on 3.6.
# most [JQ ARGS] FILTER: FILTER holds for all but at most one of the stalls that ended in the window.
most() {
	json_get "${@:1:$#-1}" "[.loop.stalls[] | select(.ongoing | not) | (${!#})] | (map(select(.)) | length) + 1 >= length" |
		grep -qx true
}

sleep_stalls() { check_stalls "$1" sleep blocking 53 sleep 'nanosleep|select'; }
compute_stalls() { check_stalls "$1" compute python 46; }
sockread_stalls() { check_stalls "$1" sockread blocking 56 ipc_wait 'recv'; }

@test "a handler calling time.sleep stalls the loop: each stall counted, timed, and named blocked in sleep at its line, on every interpreter" {
	each_interpreter sleep_stalls
}

@test "a handler computing for 300 ms stalls the loop: python on CPU at the hot line (Debian's, the oldest, the newest)" {
	each_interpreter compute_stalls sweep_interpreters
}

@test "a blocking socket read in a handler: blocked in recvfrom, the reading line named (Debian's, the oldest, the newest)" {
	each_interpreter sockread_stalls sweep_interpreters
}

@test "a saturated loop (short callbacks back to back) is saturated, not stalled; a loop with nothing slow is neither" {
	loop_window /usr/bin/python3 saturated 2
	echo "# saturated: $(json_get -c '[.loop.threads, .loop.stalls_total]')" >&3
	[ "$(json_get '.loop.threads | length')" = 1 ]
	[ "$(json_get '.loop.threads[0].state')" = saturated ]
	[ "$(json_get .loop.stalls_total)" = 0 ]
	[ "$(json_get '.loop.threads[0].busy_share > 0.9')" = true ]
	stop_workload
	loop_window /usr/bin/python3 none 2
	echo "# none: $(json_get -c '[.loop.threads, .loop.stalls_total]')" >&3
	[ "$(json_get .loop.stalls_total)" = 0 ]
	[[ $(json_get '.loop.threads[0].state') =~ ^(idle|healthy)$ ]]
	[ "$(json_get '.loop.threads[0].iterations >= 3')" = true ]
}

@test "--threshold moves the line: 250 ms leaves the 200 ms sleeps out; human output and errors" {
	start_workload /usr/bin/python3 aio_stalls sleep
	run_pyprobe -0 loop "$WL_PID" --seconds 1.5 --threshold 250 --json
	[ "$(json_get .loop.threshold_ms)" = 250 ]
	[ "$(json_get .loop.stalls_total)" = 0 ]
	[ "$(json_get '.loop.threads[0].max_ms > 150')" = true ]
	run_pyprobe -0 loop "$WL_PID" --seconds 1.5
	echo "$output" >&3
	[[ $output == *"stall threshold 100 ms"* ]]
	[[ $output == *"blocked: sleep in clock_nanosleep()  at stall (aio_stalls.py:53)  [handle_client]"* ]]
	[[ $output == *"stall sites:"* ]]
	run_pyprobe -2 loop "$WL_PID" --threshold 0
	[[ $output == *"--threshold must be an integer from 1 to 60000"* ]]
	run_pyprobe -2 classify "$WL_PID" --threshold 100
	[[ $output == *"--threshold is for loop only"* ]]
	run_pyprobe -0 loop --help
	[[ $output == *"epoll_wait, poll or select"* ]]
	stop_workload
	start_workload /usr/bin/python3 cpu_python
	run_pyprobe -0 loop "$WL_PID" --seconds 0.5
	[[ $output == *"no event loop"* ]]
}

# classify_loop MODE TRAIT REASON ADVICE: classify on aio_stalls.py MODE (Debian's python3).
classify_loop() {
	start_workload /usr/bin/python3 aio_stalls "$1" || return 1
	run_pyprobe -0 classify "$WL_PID" --seconds 2.5 --json || return 1
	stop_workload
	echo "# $1: $(json_get -c '[.verdict.label, .verdict.traits, (.verdict.reasons | map(select(test("event loop"))))]')" >&3
	[ "$(json_get --arg t "$2" '.verdict.traits | index($t) != null')" = true ] || return 1
	[[ $(json_get '.verdict.reasons | join(" ")') == *"$3"* ]] || return 1
	[[ $(json_get '.verdict.advice | join(" ")') == *"$4"* ]] || return 1
	[ "$(json_get '.loop.threads | length')" -ge 1 ]
}

@test "classify: loop-blocked names the worst stall site with advice by cause; loop-saturated; neither for a plain CPU loop" {
	classify_loop sleep loop-blocked "blocked in sleep, clock_nanosleep at stall (aio_stalls.py:53) in handle_client()" \
		"await asyncio.sleep()"
	classify_loop compute loop-blocked "python on CPU at crunch (aio_stalls.py:46)" "ProcessPoolExecutor"
	classify_loop sockread loop-blocked "blocked in ipc_wait, recvfrom at stall (aio_stalls.py:56)" "async counterpart"
	classify_loop saturated loop-saturated "never got back to waiting" "more processes"
	start_workload /usr/bin/python3 cpu_python
	run_pyprobe -0 classify "$WL_PID" --seconds 1 --json
	[ "$(json_get '.verdict.traits | map(select(startswith("loop-"))) | length')" = 0 ]
	[ "$(json_get '.loop.threads | length')" = 0 ]
}

# stable_loop PY: 10 consecutive 2 s classify windows on a loop whose handler computes for 300 ms:
# loop-blocked, its worst site the hot line, in at least 9.
stable_loop() {
	local py=$1 right=0 seen=() ok
	start_workload "$py" aio_stalls compute || return 1
	for _ in $(seq 10); do
		run_pyprobe classify "$WL_PID" --seconds 2 --json
		ok=$(json_get '(.verdict.traits | index("loop-blocked") != null) and
			(.verdict.reasons | join(" ") | contains("python on CPU at crunch (aio_stalls.py:46)"))')
		seen+=("$(json_get -r '.verdict.label + "/" + (.verdict.traits | join("+"))')")
		[ "$ok" = true ] && right=$((right + 1))
	done
	stop_workload
	echo "# $py: $right of 10 right: ${seen[*]}" >&3
	[ "$right" -ge 9 ]
}

@test "stable trait: 10 consecutive 2 s classify windows on a computing handler, 9 or more loop-blocked at the hot line (Debian's, the oldest, the newest)" {
	each_interpreter stable_loop sweep_interpreters
}
