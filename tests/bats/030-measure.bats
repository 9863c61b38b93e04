#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The numbers behind the verdict: reply shape, and agreement with ground truth.

load ../daemon_suite

BUCKETS=(oncpu runqueue gil_wait lock_wait net_io file_io poll_wait sleep child_wait other)

@test "the JSON reply has every documented field" {
	start_workload /usr/bin/python3 gil_threads
	run_pyprobe -0 classify "$WL_PID" --seconds 1 --json
	for f in .pid .window_seconds .python.version .python.build .verdict.label .verdict.confidence \
		.gil.acquire_seconds .gil.handoff_seconds .cpu.samples .cpu.python_share; do
		[ "$(json_get "$f")" != null ] || { echo "missing $f"; return 1; }
	done
	[ "$(json_get .pid)" = "$WL_PID" ]
	[ "$(json_get '.verdict.reasons | type')" = array ]
	[ "$(json_get '.verdict.advice | length > 0')" = true ]
	[ "$(json_get '.verdict.confidence >= 0 and .verdict.confidence <= 1')" = true ]
	# main + 4 workers + watchdog
	[ "$(json_get '.threads | length')" -ge 5 ]
	for b in "${BUCKETS[@]}"; do
		[ "$(json_get "[.threads[].seconds.$b | type] | unique")" = '[
  "number"
]' ] || { echo "bucket $b missing"; return 1; }
	done
	[ "$(json_get '.threads[0] | has("tid") and has("name")')" = true ]
}

@test "on-CPU seconds agree with /proc utime+stime" {
	start_workload /usr/bin/python3 gil_threads
	local before after
	before=$(cat /proc/"$WL_PID"/task/*/stat | awk '{ s += $14 + $15 } END { print s }')
	run_pyprobe -0 classify "$WL_PID" --seconds 3 --json
	after=$(cat /proc/"$WL_PID"/task/*/stat | awk '{ s += $14 + $15 } END { print s }')
	local hz proc ours
	hz=$(getconf CLK_TCK)
	proc=$(awk -v a="$after" -v b="$before" -v hz="$hz" 'BEGIN { print (a - b) / hz }')
	ours=$(json_get '.totals.seconds.oncpu')
	echo "# /proc: $proc s, pyprobe: $ours s" >&3
	# Tick accounting is coarse and the two windows differ by the CLI round trip.
	awk -v p="$proc" -v o="$ours" 'BEGIN { d = p - o; if (d < 0) d = -d; exit !(d <= 0.1 * p + 0.15) }'
}

@test "run-queue seconds agree with the scheduler's own run_delay" {
	start_workload /usr/bin/python3 gil_threads
	local before after proc ours t0 t1
	# The two measure different intervals (the truth also spans attach and the reply, which
	# on a loaded machine add run-queue time): compare rates, scaled to the window.
	t0=$(date +%s%N)
	before=$(cat /proc/"$WL_PID"/task/*/schedstat | awk '{ s += $2 } END { print s }')
	run_pyprobe -0 classify "$WL_PID" --seconds 2 --json
	after=$(cat /proc/"$WL_PID"/task/*/schedstat | awk '{ s += $2 } END { print s }')
	t1=$(date +%s%N)
	proc=$(awk -v a="$after" -v b="$before" -v t0="$t0" -v t1="$t1" -v w="$(json_get .window_seconds)" \
		'BEGIN { print (a - b) / 1e9 / ((t1 - t0) / 1e9) * w }')
	ours=$(json_get '.totals.seconds.runqueue')
	echo "# schedstat run_delay (over the window): $proc s, pyprobe runqueue: $ours s" >&3
	awk -v p="$proc" -v o="$ours" 'BEGIN { d = p - o; if (d < 0) d = -d; exit !(d <= 0.1 * p + 0.05) }'
}

@test "GIL waits are split into acquisition and forced hand-off, both counted" {
	start_workload /usr/bin/python3 gil_threads
	run_pyprobe -0 classify "$WL_PID" --seconds 2 --json
	[ "$(json_get '.gil.acquire_waits > 10')" = true ]
	[ "$(json_get '.gil.acquire_seconds > 0.5')" = true ]
	echo "# $(json_get -c .gil | cut -c1-200)" >&3
	# Spinners force a hand-off about every switch interval (5 ms); the holder waits when the
	# new one has not taken the GIL yet (020 checks the rate on every interpreter).
	[ "$(json_get '.gil.handoff_waits > 10')" = true ]
	[ "$(json_get '.gil.handoff_seconds > 0')" = true ]
	# The buckets add up: thread wall time is never more than the window per thread.
	[ "$(json_get '([.threads[] | [.seconds[]] | add] | max) <= (.window_seconds * 1.02)')" = true ]
	[ "$(json_get '([.threads[] | [.seconds[]] | add] | max) >= (.window_seconds * 0.9)')" = true ]
}

@test "Python threads are identified by their threading.get_ident() value" {
	for py in /usr/bin/python3 $(interpreters | grep -E 'python3\.(6|8|13)$'); do
		start_workload "$py" gil_threads
		sleep 0.2
		run_pyprobe -0 classify "$WL_PID" --seconds 0.5 --json
		local want got
		want=$(awk '/^idents/ { $1 = ""; print }' "$WL_OUT" | tr ' ' '\n' | grep . | LC_ALL=C sort | tr '\n' ' ')
		got=$(json_get '[.threads[].python.ident | select(. != null) | tostring] | sort | join(" ")')
		echo "# $py: want $want got $got" >&3
		[ "$got " = "$want" ]
		[ "$(json_get "[.threads[] | select(.tid == $WL_PID) | .python.main][0]")" = true ]
		stop_workload
	done
}

@test "threads blocked since before the attach are accounted from the start" {
	start_workload /usr/bin/python3 sleeping
	run_pyprobe -0 classify "$WL_PID" --seconds 1 --json
	# The watchdog thread sleeps for minutes: it never wakes in the window.
	[ "$(json_get '[.threads[] | select(.seconds.sleep > 0.9)] | length')" -ge 2 ]
}

@test "samples from other processes never count" {
	start_workload /usr/bin/python3 sleeping
	local pid=$WL_PID
	/usr/bin/python3 "$WORKLOADS/cpu_python.py" >/dev/null 3>&- &
	local busy=$!
	run_pyprobe -0 classify "$pid" --seconds 1.5 --json
	kill "$busy"
	[ "$(json_get .verdict.label)" = idle ]
	[ "$(json_get '.cpu.samples < 10')" = true ]
}

@test "two clients classify the same process at once" {
	start_workload /usr/bin/python3 cpu_python
	"$BIN/pyprobe" --socket "$SOCK" classify "$WL_PID" --seconds 1.5 --json >"$TEST_DIR/a.json" 3>&- &
	local a=$!
	run_pyprobe -0 classify "$WL_PID" --seconds 1 --json
	wait "$a"
	[ "$(json_get .verdict.label)" = cpu-bound-python ]
	[ "$(jq -r .verdict.label "$TEST_DIR/a.json")" = cpu-bound-python ]
	run_pyprobe -0 list --json
	[ "$(json_get '.sessions | length')" = 0 ]
}

@test "human output: verdict line, advice and the per-thread table" {
	start_workload /usr/bin/python3 cpu_python
	run_pyprobe -0 classify "$WL_PID" --seconds 1
	[[ $output == *"verdict: cpu-bound-python (confidence "* ]]
	[[ $output == *"advice:"* ]]
	[[ $output == *"TID NAME"*"oncpu"*"gil"* ]]
	[[ $output == *"$WL_PID python3"* ]]
}

@test "each wall-time bucket on its own: a main thread that only waits one way (run queue: three native spinners pinned to one CPU) spends >= 60% there (Debian's, the oldest, the newest)" {
	local py failed=() kind bucket share pid
	while read -r py; do
		for kind in net:net_io file:file_io lock:lock_wait child:child_wait loop:poll_wait sleep:sleep queue:runqueue; do
			bucket=${kind#*:}
			kind=${kind%%:*}
			start_workload "$py" one_wait "$kind"
			pid=$WL_PID
			run_pyprobe classify "$pid" --seconds 1.5 --json
			stop_workload
			share=$(json_get "[.threads[] | select(.tid == $pid)][0] | .seconds.$bucket / ([.seconds[]] | add) | . * 100 | round")
			echo "# $py $kind: $bucket $share% of the main thread's time ($(json_get "[.threads[] | select(.tid == $pid)][0].seconds | to_entries | map(select(.value > 0.01)) | map(\"\(.key) \(.value * 1000 | round) ms\") | join(\", \")"))" >&3
			[ "${share:-0}" -ge 60 ] || failed+=("$py $kind: $bucket only ${share:-?}% of the main thread's time")
		done
	done < <(sweep_interpreters)
	if [ "${#failed[@]}" -gt 0 ]; then
		printf '%s\n' "${failed[@]}"
		return 1
	fi
}
