#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The headline: for every CPython on the machine, each labeled workload gets its label.

load ../helpers

setup_file() {
	start_daemon
	mapfile -t PYS < <(interpreters)
	[ "${#PYS[@]}" -gt 0 ]
	echo "# interpreters covered: ${PYS[*]}" >&3
}

teardown_file() {
	stop_daemon
}

teardown() {
	stop_workload
}

# expect_label WORKLOAD LABEL [ARGS...]: run the workload under every interpreter.
expect_label() {
	local name=$1 want=$2 py got failed=() covered=()
	shift 2
	mapfile -t PYS < <(interpreters)
	for py in "${PYS[@]}"; do
		start_workload "$py" "$name" "$@"
		run_pyprobe classify "$WL_PID" --seconds 2 --json
		got=$(jq -r '.verdict.label // .error.code' <<<"$output" 2>/dev/null)
		ver=$(jq -r '.python.version // "?"' <<<"$output" 2>/dev/null)
		stop_workload
		covered+=("$ver")
		if [ "$got" != "$want" ]; then
			failed+=("$py ($ver): got '$got', want '$want'")
			echo "# $py: $(jq -c '{verdict, gil: .gil.wait_seconds, cpu: .cpu.python_share}' <<<"$output" 2>/dev/null || echo "$output")" >&3
		fi
	done
	echo "# $name: ${#PYS[@]} interpreters (${covered[*]})" >&3
	if [ "${#failed[@]}" -gt 0 ]; then
		printf '%s\n' "${failed[@]}"
		return 1
	fi
}

# expect_label_together WORKLOAD LABEL [ARGS...]: expect_label for a workload that hardly uses a
# CPU (idle, I/O-bound): every interpreter's process runs at once, classified in the same window.
expect_label_together() {
	local name=$1 want=$2 i got ver failed=() covered=()
	shift 2
	mapfile -t PYS < <(interpreters)
	start_together "$name" "$@"
	pyprobe_together classify --seconds 2 --json
	stop_workload
	for i in "${!PYS[@]}"; do
		got=$(jq -r '.verdict.label // .error.code' <<<"${REPLIES[i]}" 2>/dev/null)
		ver=$(jq -r '.python.version // "?"' <<<"${REPLIES[i]}" 2>/dev/null)
		covered+=("$ver")
		if [ "$got" != "$want" ]; then
			failed+=("${PYS[i]} ($ver): got '$got', want '$want'")
			echo "# ${PYS[i]}: $(jq -c '{verdict, gil: .gil.wait_seconds, cpu: .cpu.python_share}' <<<"${REPLIES[i]}" 2>/dev/null ||
				echo "${REPLIES[i]}")" >&3
		fi
	done
	echo "# $name: ${#PYS[@]} interpreters at once (${covered[*]})" >&3
	if [ "${#failed[@]}" -gt 0 ]; then
		printf '%s\n' "${failed[@]}"
		return 1
	fi
}

@test "single-thread pure-Python loop: cpu-bound-python on every interpreter" {
	expect_label cpu_python cpu-bound-python
}

@test "four threads of pure-Python loops: gil-contended on every interpreter" {
	expect_label gil_threads gil-contended
}

# task_times PID: "tid cpu_seconds run_delay_seconds" per thread, from /proc/PID/task/TID/schedstat
# (the scheduler's own nanosecond counts: the threads' truth; stat's ticks are 10 ms coarse).
task_times() {
	local t
	for t in /proc/"$1"/task/*; do
		awk -v tid="${t##*/}" '{ printf "%s %.6f %.6f\n", tid, $1 / 1e9, $2 / 1e9 }' "$t/schedstat" 2>/dev/null
	done
}

@test "GIL wait per thread against each thread's own /proc truth, and forced hand-offs every switch interval, on every interpreter" {
	local py failed=() before after w0 w1 tid cpu rd cpu1 rd1 truth got win handoffs hsec n cl
	mapfile -t PYS < <(interpreters)
	for py in "${PYS[@]}"; do
		start_workload "$py" gil_threads
		# The truth is taken over pyprobe's own window: from the session's start (the process
		# is in `list`) to the reply, not over the attach before it.
		"$BIN/pyprobe" --socket "$SOCK" classify "$WL_PID" --seconds 2 --json >"$TEST_DIR/gil.reply" 3>&- &
		cl=$!
		wait_listed "$WL_PID"
		before=$(task_times "$WL_PID")
		w0=$(date +%s.%N)
		wait "$cl" || failed+=("$py: classify failed")
		w1=$(date +%s.%N)
		after=$(task_times "$WL_PID")
		output=$(cat "$TEST_DIR/gil.reply")
		stop_workload
		win=$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')
		n=0
		# The four spinners: what is neither CPU nor run queue is waiting for the GIL.
		# (Thread names are the process's before 3.14: pick the spinners by their utilization.)
		for tid in $(json_get '.threads[] | select(.utilization > 0.5) | .tid'); do
			read -r _ cpu rd <<<"$(grep "^$tid " <<<"$before")"
			read -r _ cpu1 rd1 <<<"$(grep "^$tid " <<<"$after")"
			truth=$(awk -v w="$win" -v c="$cpu" -v c1="$cpu1" -v r="$rd" -v r1="$rd1" \
				'BEGIN { printf "%.3f", (w - (c1 - c) - (r1 - r)) / w }')
			got=$(json_get "[.threads[] | select(.tid == $tid)][0].seconds.gil_wait / .window_seconds | . * 1000 | round / 1000")
			echo "# $py thread $tid: GIL wait $got of the window, /proc truth $truth" >&3
			# The two intervals differ at their edges: pyprobe's window opens 60-80 ms or more before the
			# process shows in `list` (while the daemon's attach work competes for the 2 CPUs) and the
			# truth's runs on to the reply. Over 2 s that reads +0.002..+0.03 above the truth here (48
			# threads; at most +0.051 on CI hosts); over 8 s, within 0.005 both ways. Hence room above.
			awk -v a="$got" -v b="$truth" 'BEGIN { exit !(b > 0.2 && a >= b - 0.05 && a <= b + 0.08) }' ||
				failed+=("$py: thread $tid waited $got of the window for the GIL, /proc says $truth")
			n=$((n + 1))
		done
		[ "$n" = 4 ] || failed+=("$py: $n worker threads in the reply, not 4")
		# Four spinners: a waiter forces a hand-off every switch interval (5 ms) or so.
		handoffs=$(json_get '[.threads[].gil.handoff_waits] | add')
		hsec=$(json_get '[.threads[].gil.handoff_seconds] | add')
		echo "# $py: $handoffs forced hand-offs, $hsec s, in $(json_get .window_seconds) s" >&3
		awk -v h="$handoffs" -v s="$hsec" -v w="$(json_get .window_seconds)" 'BEGIN { exit !(h >= 40 * w && h <= 1000 * w && s > 0) }' ||
			failed+=("$py: $handoffs forced hand-offs ($hsec s)")
	done
	if [ "${#failed[@]}" -gt 0 ]; then
		printf '%s\n' "${failed[@]}"
		return 1
	fi
}

# The futex waits of a process's threads that slept (not EAGAIN), per thread: the time from
# the call to the wakeup (the run-queue time after it is not waiting) and their count, from
# the system-call and scheduler tracepoints, over the 2 s after "ready".
FUTEX_BT='BEGIN { printf("ready\n"); }
tracepoint:syscalls:sys_enter_futex /pid == $1 && ((args->op & 127) == 0 || (args->op & 127) == 9)/ { @t0[tid] = nsecs; }
tracepoint:sched:sched_wakeup /@t0[args->pid] && !@wk[args->pid]/ { @wk[args->pid] = nsecs; }
tracepoint:syscalls:sys_exit_futex /@t0[tid]/ {
	if (args->ret != -11 && @wk[tid]) { @ns[tid] = sum(@wk[tid] - @t0[tid]); @n[tid] = count(); }
	delete(@t0[tid]);
	delete(@wk[tid]);
}
interval:s:2 { exit(); }
END { clear(@t0); clear(@wk); }'

@test "GIL wait against a bpftrace count of the same threads' futex waits, inside the window (Debian's, the oldest, the newest)" {
	local py failed=() out rep cl tid f n g c k fsum gsum
	command -v bpftrace >/dev/null || { echo "bpftrace is missing: tools/deps.sh --test installs it"; return 1; }
	# bpftrace finds tracepoints through tracefs, which a fresh machine may not have mounted.
	[ -d /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing
	while read -r py; do
		start_workload "$py" gil_threads
		out=$(mktemp "$TEST_DIR/bt.XXXXXX")
		rep=$(mktemp "$TEST_DIR/rep.XXXXXX")
		"$BIN/pyprobe" --socket "$SOCK" classify "$WL_PID" --seconds 4 --json >"$rep" &
		cl=$!
		# bpftrace's 2 s lie inside pyprobe's 4 (attached once the session is up): compare rates.
		for _ in $(seq 100); do
			[ "$("$BIN/pyprobe" --socket "$SOCK" status --json | jq '.sessions > 0 and .pending > 0')" = true ] && break
			sleep 0.05
		done
		bpftrace -f json -e "$FUTEX_BT" "$WL_PID" >"$out" 2>"$out.err"
		kill -0 "$cl" 2>/dev/null || failed+=("$py: the classify window ended before bpftrace did")
		wait "$cl"
		output=$(cat "$rep")
		stop_workload
		k=0 fsum=0 gsum=0
		for tid in $(json_get '.threads[] | select(.utilization > 0.5) | .tid'); do
			f=$(jq -rs --arg t "$tid" '[.[] | select(.type == "map") | .data["@ns"][$t] // empty] | (add // 0) / 2e9' "$out")
			n=$(jq -rs --arg t "$tid" '[.[] | select(.type == "map") | .data["@n"][$t] // empty] | (add // 0) / 2' "$out")
			g=$(json_get "[.threads[] | select(.tid == $tid)][0].seconds.gil_wait / .window_seconds")
			c=$(json_get "[.threads[] | select(.tid == $tid)][0].gil | (.acquire_waits + .handoff_waits) / \$w" --argjson w "$(json_get .window_seconds)")
			printf '# %s thread %s: GIL wait %.3f of the window, futex sleeps to wakeup %.3f; %.0f waits/s, futex %.0f/s\n' \
				"$py" "$tid" "$g" "$f" "$c" "$n" >&3
			# Threads share the GIL unevenly from one second to the next: per thread, loose.
			awk -v g="$g" -v f="$f" -v c="$c" -v n="$n" \
				'BEGIN { d = g - f; if (d < 0) d = -d; exit !(f > 0.2 && d <= 0.08 && c >= 0.85 * n && c <= 1.15 * n) }' ||
				failed+=("$py thread $tid: GIL wait $g and $c waits/s, futex sleeps $f and $n/s")
			fsum=$(awk -v a="$fsum" -v b="$f" 'BEGIN { print a + b }')
			gsum=$(awk -v a="$gsum" -v b="$g" 'BEGIN { print a + b }')
			k=$((k + 1))
		done
		[ "$k" = 4 ] || failed+=("$py: $k worker threads in the reply, not 4")
		# Together (the run-queue time after each wakeup is some 0.05 of a thread's window).
		echo "# $py: the four together wait $gsum thread-windows, futex sleeps $fsum" >&3
		awk -v g="$gsum" -v f="$fsum" 'BEGIN { d = g - f; if (d < 0) d = -d; exit !(d <= 0.075) }' ||
			failed+=("$py: GIL wait $gsum thread-windows in all, futex sleeps $fsum")
	done < <(sweep_interpreters)
	if [ "${#failed[@]}" -gt 0 ]; then
		printf '%s\n' "${failed[@]}"
		return 1
	fi
}

@test "three threads of zlib on large buffers: cpu-bound-native on every interpreter" {
	expect_label native_threads cpu-bound-native
}

@test "threaded socket I/O against a slow server on loopback: io-bound on every interpreter (all at once)" {
	expect_label_together net_io io-bound
}

@test "blocking file writes with fsync: io-bound on every interpreter (all at once)" {
	expect_label_together file_io io-bound /var/tmp
}

@test "sleeping process: idle on every interpreter (all at once)" {
	expect_label_together sleeping idle
}

@test "asyncio server with no clients: idle on every interpreter (all at once)" {
	expect_label_together asyncio_idle idle
}

@test "every interpreter docs/support.md says is tested here is covered (a broken pyenv fails here, not silently)" {
	local covered want missing=() root v minor bin got suite
	covered=$(interpreters)
	root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
	# "tested here" cells: "pyenv 3.6.15", "Debian 3.11.2 (USDT)", "pyenv 3.7.16, 3.8.18, ...",
	# "trixie 3.13.5 (...)" (Debian trixie's build, in tools/debian-root.sh's trixie root)
	mapfile -t want < <(awk -F'|' '/^\| 3\./ { print $(NF-1) }' "$TOP/docs/support.md" |
		grep -oE '(pyenv|Debian|trixie)?[ ]*[0-9]+\.[0-9]+\.[0-9]+' | sed 's/^ *//')
	[ "${#want[@]}" -ge 2 ]
	for v in "${want[@]}"; do
		v=${v#pyenv }
		if [[ $v == Debian* ]]; then
			[[ $covered == *"/usr/bin/python3"* ]] || missing+=("Debian's /usr/bin/python3")
			[ "$(/usr/bin/python3 -c 'import platform; print(platform.python_version())')" = "${v#Debian }" ] ||
				missing+=("Debian's python3 is not ${v#Debian }")
			continue
		fi
		suite=sid
		if [[ $v == trixie* ]]; then
			suite=trixie
			v=${v#trixie }
		fi
		minor=${v%.*}
		if [ "$suite" = trixie ] || [ "${minor#3.}" -ge 14 ]; then
			# The newest, and trixie's 3.13, run in tools/debian-root.sh's roots; a machine
			# without network cannot build them.
			bin=$ROOTS_DIR/bin/python$minor
			if [ -f "$ROOTS_DIR/$suite.unavailable" ] && [ ! -x "$bin" ]; then
				echo "# $v not covered: $(cat "$ROOTS_DIR/$suite.unavailable")" >&3
				continue
			fi
			# The archive moves on: the same minor version, a patch release the table may not know
			# (then the label tests fail with unsupported-version, saying which).
			got=$("$bin" -c 'import platform; print(platform.python_version())' 2>/dev/null)
			[ "$got" = "$v" ] || echo "# $bin is $got, docs/support.md names $v" >&3
			[[ $covered == *"$bin"* ]] && [ "${got%.*}" = "$minor" ] || missing+=("$bin ($v)")
			continue
		fi
		bin=$root/versions/$v/bin/python$minor
		[[ $covered == *"$bin"* ]] && "$bin" -c 'pass' 2>/dev/null || missing+=("$bin")
	done
	echo "# promised: ${want[*]}" >&3
	if [ "${#missing[@]}" -gt 0 ]; then
		printf 'not covered: %s\n' "${missing[@]}"
		return 1
	fi
}
