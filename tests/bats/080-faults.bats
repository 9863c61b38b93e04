#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Faults (issue 7): reused PIDs, a daemon killed while attached, crowds of slow
# and silent clients, clients that leave mid-reply, and no leaks over many requests.

load ../daemon_suite
load ../faults/track

FAULTS=$TOP/tests/faults

setup_file() {
	# 999 Hz: a one-second record of tests/faults/many_funcs.py is a reply of ~1 MB.
	start_daemon --max-clients 70 --sample-hz 999
}

teardown() {
	# A test that stopped the suite's daemon must not leave it stopped.
	[ -n "${DAEMON_PID:-}" ] && kill -CONT "$DAEMON_PID" 2>/dev/null
	stop_workload
	kill_tracked
	# The test's own daemons: ended by kill_tracked (SIGTERM); a sanitizer report in their log fails it.
	[ -n "${OWN_PID:-}" ] && wait "$OWN_PID" 2>/dev/null
	OWN_PID=
	if [ -f "$TEST_DIR/own-daemon.log" ] && grep -qE "$SANITIZER_REPORT" "$TEST_DIR/own-daemon.log"; then
		grep -E -A20 "$SANITIZER_REPORT" "$TEST_DIR/own-daemon.log" | head -60
		: >"$TEST_DIR/own-daemon.log"
		return 1
	fi
	true
}

# own_daemon SOCKET [ARGS]: another pyprobed, killed by teardown; sets OWN_PID.
own_daemon() {
	local sock=$1
	shift
	: >"$TEST_DIR/empty.conf"
	"$BIN/pyprobed" --foreground --socket "$sock" --config "$TEST_DIR/empty.conf" "$@" \
		2>>"$TEST_DIR/own-daemon.log" 3>&- &
	OWN_PID=$!
	track "$OWN_PID"
	wait_for_socket "$sock" "$OWN_PID"
}

# memory_daemon: memory figures mean something only without ASan, whose allocator
# keeps freed memory in quarantine and its own pools. Under make check's sanitized
# build, a test about memory runs against the plain build's daemon (its own, killed by
# teardown; SOCK and DAEMON_PID point at it for the test); LeakSanitizer still checks
# the sanitized daemon for leaks when the suite stops it.
memory_daemon() {
	sanitized || return 0
	local plain=${PYPROBE_PLAIN_BIN:-}
	if [ ! -x "$plain/pyprobed" ] || ldd "$plain/pyprobed" | grep -q libasan; then
		echo "sanitized run without an unsanitized pyprobed (PYPROBE_PLAIN_BIN=$plain)" >&2
		return 1
	fi
	: >"$TEST_DIR/empty.conf"
	"$plain/pyprobed" --foreground --socket "$TEST_DIR/plain.sock" --config "$TEST_DIR/empty.conf" \
		--max-clients 70 --sample-hz 999 2>>"$TEST_DIR/own-daemon.log" 3>&- &
	DAEMON_PID=$!
	track "$DAEMON_PID"
	SOCK=$TEST_DIR/plain.sock
	wait_for_socket "$SOCK" "$DAEMON_PID"
}

# wait_for_socket SOCKET PID: until PID answers status on SOCKET (10 s).
wait_for_socket() {
	for _ in $(seq 200); do
		"$BIN/pyprobe" --socket "$1" status >/dev/null 2>&1 3>&- && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.05
	done
	echo "pyprobed $2 does not serve $1:" >&2
	cat "$TEST_DIR/own-daemon.log" >&2
	return 1
}

# spawn_at_pid PID OUT CMD...: run CMD in the background as process PID, its
# output in OUT: the kernel hands out ns_last_pid + 1 next, unless another
# process forks in between (then try again). Sets SPAWNED.
spawn_at_pid() {
	local want=$1 out=$2
	shift 2
	for _ in $(seq 50); do
		echo $((want - 1)) >/proc/sys/kernel/ns_last_pid
		"$@" >"$out" 2>&1 3>&- &
		SPAWNED=$!
		[ "$SPAWNED" = "$want" ] && { track "$SPAWNED"; return 0; }
		kill "$SPAWNED"
		wait "$SPAWNED" 2>/dev/null || true
	done
	echo "could not start a process as PID $want" >&2
	return 1
}

# fork_at PID PYTHON: a PYTHON process forks until its child is PID; the child
# idles without exec (a forking server's worker), so only the pidfd can tell.
fork_at() {
	"$2" "$FAULTS/fork_at.py" "$1" >"$TEST_DIR/fork.out" 2>&1 3>&- &
	track "$!"
	wait_ready "$TEST_DIR/fork.out" "$!"
	grep -qx "ready $1" "$TEST_DIR/fork.out"
	track "$1"
}

need_pid_control() {
	[ -w /proc/sys/kernel/ns_last_pid ] || skip "cannot choose the next PID (/proc/sys/kernel/ns_last_pid)"
}

py_version() {
	"$1" -c 'import platform; print(platform.python_version())'
}

# A CPython whose version differs from /usr/bin/python3's, else /usr/bin/python3.
other_python() {
	local base py
	base=$(py_version /usr/bin/python3)
	for py in $(interpreters); do
		[ "$(py_version "$py")" != "$base" ] && { echo "$py"; return; }
	done
	echo /usr/bin/python3
}

# threads_belong PID: every thread in the classify reply in $output is one of PID's.
threads_belong() {
	local tid
	for tid in $(json_get '.threads[] | select(.exited | not) | .tid'); do
		[ -d "/proc/$1/task/$tid" ] || { echo "thread $tid is not one of process $1's" >&2; return 1; }
	done
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

nfds() {
	ls "/proc/$1/fd" | wc -l
}

cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

@test "PID reused by a non-Python process: not-python naming it, nothing of the old process" {
	need_pid_control
	start_workload /usr/bin/python3 cpu_python
	local pid=$WL_PID
	run_pyprobe -0 classify "$pid" --seconds 1 --json
	[ "$(json_get .verdict.label)" = cpu-bound-python ]
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	WL_PID=
	spawn_at_pid "$pid" "$TEST_DIR/sleep.out" sleep 60
	run_pyprobe -1 classify "$pid" --seconds 1 --json
	[ "$(json_get .error.code)" = not-python ]
	[[ $(json_get .error.message) == *sleep* ]]
	run_pyprobe -0 list --json
	[ "$(json_get '.sessions | length')" = 0 ]
}

@test "PID reused by a forked CPython (no exec) between requests: a fresh session on the new process" {
	need_pid_control
	local new_py new_version pid
	new_py=$(other_python)
	new_version=$(py_version "$new_py")
	start_workload /usr/bin/python3 cpu_python
	pid=$WL_PID
	run_pyprobe -0 classify "$pid" --seconds 1 --json
	[ "$(json_get .verdict.label)" = cpu-bound-python ]
	[ "$(json_get .python.version)" = "$(py_version /usr/bin/python3)" ]
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	WL_PID=
	# The new process sleeps: any of the old one's CPU-bound data would show.
	fork_at "$pid" "$new_py"
	echo "# $pid: /usr/bin/python3 -> a fork of $new_py ($new_version)" >&3
	run_pyprobe -0 classify "$pid" --seconds 1 --json
	[ "$(json_get .python.version)" = "$new_version" ]
	[ "$(json_get .python.exe)" = "$(readlink "/proc/$pid/exe")" ]
	[ "$(json_get .verdict.label)" = idle ]
	[ "$(json_get '.attach_ms > 0')" = true ]	# attached afresh
	threads_belong "$pid"
}

@test "PID reused by a forked CPython while a window on the old one is open: the window fails, the new process is never mixed in" {
	need_pid_control
	local new_py pid client next
	new_py=$(other_python)
	start_workload /usr/bin/python3 cpu_python
	pid=$WL_PID
	"$BIN/pyprobe" --socket "$SOCK" classify "$pid" --seconds 20 --json >"$TEST_DIR/old.json" 3>&- &
	client=$!
	for _ in $(seq 100); do
		run_pyprobe -0 status --json
		[ "$(json_get .pending)" = 1 ] && break
		sleep 0.05
	done
	[ "$(json_get .pending)" = 1 ]
	# With the daemon stopped, the old process's exit, the new process and
	# the next request all wait for it together.
	kill -STOP "$DAEMON_PID"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	WL_PID=
	fork_at "$pid" "$new_py"
	timeout 60 "$BIN/pyprobe" --socket "$SOCK" classify "$pid" --seconds 1 --json >"$TEST_DIR/new.json" 3>&- &
	next=$!
	sleep 0.3
	kill -CONT "$DAEMON_PID"
	wait "$client" || true
	wait "$next" || true
	run jq -r .error.code "$TEST_DIR/old.json"
	[ "$output" = target-exited ]
	output=$(cat "$TEST_DIR/new.json")
	echo "# new request: $(json_get '.error.code // .verdict.label')" >&3
	if [ "$(json_get .ok)" = true ]; then
		[ "$(json_get .python.exe)" = "$(readlink "/proc/$pid/exe")" ]
		[ "$(json_get .python.version)" = "$(py_version "$new_py")" ]
		[ "$(json_get .verdict.label)" = idle ]
		threads_belong "$pid"
	else
		[ "$(json_get .error.code)" = target-exited ]
		[[ $(json_get .error.message) == *"$pid"* ]]
	fi
	run_pyprobe -0 status --json
	[ "$(json_get .pending)" = 0 ]
	[ "$(json_get .sessions)" = 0 ]
}

# The IDs of the BPF programs, maps and links PID holds open, as "prog 12" lines.
bpf_objects_of() {
	local f
	for f in /proc/"$1"/fdinfo/*; do
		awk '/^prog_id:/ { print "prog", $2 } /^map_id:/ { print "map", $2 } /^link_id:/ { print "link", $2 }' \
			"$f" 2>/dev/null
	done | sort -u
}

# Which of the objects listed in FILE (as bpf_objects_of prints them) still exist.
bpf_objects_left() {
	local kind id progs maps links
	progs=" $(bpftool prog show -j | jq -r '.[].id' | tr '\n' ' ') "
	maps=" $(bpftool map show -j | jq -r '.[].id' | tr '\n' ' ') "
	links=" $(bpftool link show -j | jq -r '.[].id' | tr '\n' ' ') "
	while read -r kind id; do
		case $kind in
		prog) [[ $progs == *" $id "* ]] && echo "prog $id" ;;
		map) [[ $maps == *" $id "* ]] && echo "map $id" ;;
		link) [[ $links == *" $id "* ]] && echo "link $id" ;;
		esac
	done <"$1"
	true
}

@test "SIGKILL while top and gc windows are open: nothing left in the kernel, a new daemon takes over the socket" {
	command -v bpftool >/dev/null || skip "bpftool not installed"
	local sock=$TEST_DIR/killed.sock killed left perf_before
	start_workload /usr/bin/python3 gc_auto
	own_daemon "$sock"
	killed=$OWN_PID
	"$BIN/pyprobe" --socket "$sock" top "$WL_PID" --seconds 30 --json >"$TEST_DIR/top.json" 3>&- &
	"$BIN/pyprobe" --socket "$sock" gc "$WL_PID" --seconds 30 --json >"$TEST_DIR/gc.json" 3>&- &
	for _ in $(seq 100); do
		output=$("$BIN/pyprobe" --socket "$sock" status --json 3>&-)
		[ "$(json_get .pending)" = 2 ] && break
		sleep 0.05
	done
	[ "$(json_get .pending)" = 2 ]
	sleep 0.5	# samples and collections flowing
	# Live: the collector's probes (uprobe_multi links, or USDT/uprobe perf events on older
	# kernels) and the sampler's perf events.
	perf_before=$(bpftool perf -j | jq "[.[] | select(.pid == $killed)]")
	[ "$(jq '[.[] | select(.fd_type == "uprobe" or .fd_type == "uretprobe")] | length' <<<"$perf_before")" -ge 2 ] ||
		[ "$(cat /proc/"$killed"/fdinfo/* 2>/dev/null | grep -cE '^link_type:\s+u(ret)?probe_multi')" -ge 2 ]
	ls -l "/proc/$killed/fd" | grep -q 'perf_event'
	bpf_objects_of "$killed" >"$TEST_DIR/objects"
	[ "$(grep -c '^prog ' "$TEST_DIR/objects")" -ge 5 ]
	[ "$(grep -c '^link ' "$TEST_DIR/objects")" -ge 1 ]
	kill -KILL "$killed"
	wait "$killed" 2>/dev/null || true
	# The kernel frees them once the fds are closed (maps after an RCU grace period).
	for _ in $(seq 100); do
		left=$(bpf_objects_left "$TEST_DIR/objects" | tr '\n' ' ')
		[ -z "${left// /}" ] && [ "$(bpftool perf -j | jq "[.[] | select(.pid == $killed)] | length")" = 0 ] && break
		sleep 0.1
	done
	echo "# $(wc -l <"$TEST_DIR/objects") BPF objects before the kill; left after: ${left:-none}" >&3
	[ -z "${left// /}" ]
	[ "$(bpftool perf -j | jq "[.[] | select(.pid == $killed)] | length")" = 0 ]
	if [ -r /sys/kernel/tracing/uprobe_events ]; then
		run ! grep -q "libbpf_${killed}_" /sys/kernel/tracing/uprobe_events
	fi
	# The target never noticed, and the socket file was left behind.
	kill -0 "$WL_PID"
	[ -S "$sock" ]
	# A new daemon replaces the stale socket and works, probes and all.
	own_daemon "$sock"
	run_pyprobe -0 --socket "$sock" status --json
	[ "$(json_get .pid)" = "$OWN_PID" ]
	run_pyprobe -0 --socket "$sock" classify "$WL_PID" --seconds 1 --json
	[ "$(json_get .pid)" = "$WL_PID" ]
	run_pyprobe -0 --socket "$sock" gc "$WL_PID" --seconds 1 --json
	[[ $(json_get .gc.method) =~ ^(usdt|uprobe)$ ]]
}

@test "a live daemon's socket is never taken over, not even with its backlog full; other files are never removed" {
	local sock=$TEST_DIR/live.sock live inode holder
	own_daemon "$sock"
	live=$OWN_PID
	inode=$(stat -c %i "$sock")
	run timeout -k 5 30 "$BIN/pyprobed" --foreground --socket "$sock" --config "$TEST_DIR/empty.conf" 3>&-
	[ "$status" = 1 ]
	[[ $output == *"cannot listen on $sock: another pyprobed is serving it"* ]]
	[ "$(stat -c %i "$sock")" = "$inode" ]
	run_pyprobe -0 --socket "$sock" status --json
	[ "$(json_get .pid)" = "$live" ]

	# Stopped with a full backlog, the live daemon cannot accept the probe.
	kill -STOP "$live"
	/usr/bin/python3 - "$sock" "$TEST_DIR/backlog" <<-'PY' 3>&- &
	import socket, sys, time
	held = []
	while True:
	    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
	    try:
	        s.connect(sys.argv[1])
	    except BlockingIOError:
	        break
	    held.append(s)
	open(sys.argv[2], "w").write("%d\n" % len(held))
	time.sleep(60)
	PY
	holder=$!
	track "$holder"
	for _ in $(seq 100); do
		[ -s "$TEST_DIR/backlog" ] && break
		sleep 0.05
	done
	echo "# backlog full after $(cat "$TEST_DIR/backlog") connections" >&3
	run timeout -k 5 30 "$BIN/pyprobed" --foreground --socket "$sock" --config "$TEST_DIR/empty.conf" 3>&-
	[ "$status" = 1 ]
	[[ $output == *"another pyprobed is serving it"* ]]
	kill "$holder"
	kill -CONT "$live"
	[ "$(stat -c %i "$sock")" = "$inode" ]
	run_pyprobe -0 --socket "$sock" status --json
	[ "$(json_get .pid)" = "$live" ]

	# A file that is not a socket is not a stale socket.
	echo precious >"$TEST_DIR/not-a-socket"
	run timeout -k 5 30 "$BIN/pyprobed" --foreground --socket "$TEST_DIR/not-a-socket" --config "$TEST_DIR/empty.conf" 3>&-
	[ "$status" = 1 ]
	[[ $output == *"cannot listen on $TEST_DIR/not-a-socket"* ]]
	[ "$(cat "$TEST_DIR/not-a-socket")" = precious ]
}

@test "requests sent before the client shuts down its side are all answered" {
	run -0 /usr/bin/python3 "$FAULTS/leave.py" "$SOCK" 1 half-close-many
	echo "# $output" >&3
	[ "$(json_get .sent)" = 3000 ]
	[ "$(json_get .replies)" = 3000 ]
}

@test "64 clients at once, half of them silent, half sending a byte every 100 ms: status still answered at once" {
	# A slow request takes 6 s: a daemon that waited for any one whole line would miss 5 s.
	local swarm t0 ms
	/usr/bin/python3 "$FAULTS/swarm.py" "$SOCK" --silent 32 --slow 32 --slow-bytes 60 --hold 1 --ready "$BATS_TEST_TMPDIR/ready" \
		>"$TEST_DIR/swarm.json" 3>&- &
	swarm=$!
	track "$swarm"
	for _ in $(seq 200); do
		[ -e "$BATS_TEST_TMPDIR/ready" ] && break
		sleep 0.05
	done
	[ "$(cat "$BATS_TEST_TMPDIR/ready")" = "ready 64" ]
	t0=$(date +%s%N)
	run_pyprobe -0 status --json
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "# status with 64 other clients connected: $ms ms" >&3
	[ "$ms" -lt 5000 ]
	[ "$(json_get .clients)" -ge 65 ]
	wait "$swarm"
	output=$(cat "$TEST_DIR/swarm.json")
	echo "# swarm: $output" >&3
	# The slow clients got their replies too, and nobody was refused.
	[ "$(json_get .slow_ok)" = 32 ]
	[ "$(json_get .refused)" = 0 ]
	[ "$(json_get .silent_got_data)" = 0 ]
	run_pyprobe -0 status --json
	[ "$(json_get .clients)" = 1 ]
}

@test "past --max-clients: the extra clients get limit-reached, the daemon keeps serving" {
	local swarm fd0 fds
	fd0=$(nfds "$DAEMON_PID")
	/usr/bin/python3 "$FAULTS/swarm.py" "$SOCK" --silent 100 --hold 2 --ready "$BATS_TEST_TMPDIR/ready100" \
		>"$TEST_DIR/swarm100.json" 3>&- &
	swarm=$!
	track "$swarm"
	for _ in $(seq 200); do
		[ -e "$BATS_TEST_TMPDIR/ready100" ] && break
		sleep 0.05
	done
	sleep 0.3
	fds=$(nfds "$DAEMON_PID")
	wait "$swarm"
	output=$(cat "$TEST_DIR/swarm100.json")
	echo "# 100 silent clients with --max-clients 70: $output; daemon fds $fd0 -> $fds" >&3
	[ "$(json_get .connected)" = 100 ]
	# Each of the 30 extra got the reason; at most 16 of them were kept open for it.
	[ "$(json_get .refused)" = 30 ]
	[ "$(json_get .silent_got_data)" = 30 ]
	[ "$fds" -le $((fd0 + 70 + 16)) ]
	# While 70 are held, one more is refused in so many words.
	/usr/bin/python3 "$FAULTS/swarm.py" "$SOCK" --silent 70 --hold 30 --ready "$BATS_TEST_TMPDIR/ready" 3>&- &
	swarm=$!
	track "$swarm"
	for _ in $(seq 200); do
		[ -e "$BATS_TEST_TMPDIR/ready" ] && break
		sleep 0.05
	done
	run /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
sys.stdout.write(s.makefile("rb").readline().decode())' "$SOCK"
	[ "$(json_get .error.code)" = limit-reached ]
	[[ $(json_get .error.message) == *"too many clients"* ]]
	# The CLI too, however quickly the daemon answers: it always reads the reason.
	for _ in $(seq 20); do
		run_pyprobe -1 status
		[[ $output == *"too many clients connected; try again later (limit-reached)"* ]]
	done
	kill "$swarm"
	wait "$swarm" 2>/dev/null || true
	for _ in $(seq 100); do
		run_pyprobe status --json
		[ "$status" = 0 ] && [ "$(json_get .clients)" = 1 ] && break
		sleep 0.05
	done
	[ "$(json_get .clients)" = 1 ]
}

@test "clients that never read their replies cannot grow the daemon's memory" {
	local before after swarm t0 ms
	memory_daemon
	before=$(rss_kb "$DAEMON_PID")
	/usr/bin/python3 "$FAULTS/swarm.py" "$SOCK" --flood 4 --hold 3 --ready "$BATS_TEST_TMPDIR/ready" \
		>"$TEST_DIR/flood.json" 3>&- &
	swarm=$!
	track "$swarm"
	sleep 2
	t0=$(date +%s%N)
	run_pyprobe -0 status --json
	ms=$((($(date +%s%N) - t0) / 1000000))
	after=$(rss_kb "$DAEMON_PID")
	wait "$swarm"
	output=$(cat "$TEST_DIR/flood.json")
	echo "# 4 clients flooding for 3 s: $(json_get .flood_bytes) bytes accepted; RSS $before -> $after kB; status in $ms ms" >&3
	# Each gets its socket buffers and 64 KiB of replies, then waits.
	[ "$(json_get .flood_bytes)" -lt 2000000 ]
	[ $((after - before)) -lt 4096 ]
	[ "$ms" -lt 5000 ]
}

@test "out of file descriptors: the daemon waits for a free one instead of spinning, then serves the waiting clients" {
	command -v prlimit >/dev/null || skip "prlimit (util-linux) not installed"
	local sock=$TEST_DIR/fds.sock d swarm t0 ticks t1 status_pid
	own_daemon "$sock"
	d=$OWN_PID
	# Room for a handful of clients only.
	prlimit --pid "$d" --nofile=$(($(nfds "$d") + 5))
	/usr/bin/python3 "$FAULTS/swarm.py" "$sock" --silent 30 --hold 2 --ready "$BATS_TEST_TMPDIR/ready" >/dev/null 3>&- &
	swarm=$!
	track "$swarm"
	for _ in $(seq 200); do
		[ -e "$BATS_TEST_TMPDIR/ready" ] && break
		sleep 0.05
	done
	[ "$(cat "$BATS_TEST_TMPDIR/ready")" = "ready 30" ]
	# This one waits in the backlog until the swarm leaves.
	timeout 30 "$BIN/pyprobe" --socket "$sock" status --json >"$TEST_DIR/waited.json" 3>&- &
	status_pid=$!
	t0=$(cpu_ticks "$d")
	sleep 1
	ticks=$(($(cpu_ticks "$d") - t0))
	echo "# daemon CPU while out of fds: $ticks ticks in 1 s; $(grep -c 'Too many open files' "$TEST_DIR/own-daemon.log") warnings" >&3
	[ "$ticks" -lt 20 ]
	[ "$(grep -c 'Too many open files' "$TEST_DIR/own-daemon.log")" -le 2 ]
	wait "$swarm"
	wait "$status_pid"
	[ "$(jq -r .ok "$TEST_DIR/waited.json")" = true ]
	run_pyprobe -0 --socket "$sock" status --json
	[ "$(json_get .clients)" = 1 ]
}

@test "clients that leave mid-reply, mid-window or with requests queued: the daemon survives, nothing stays pending" {
	WORKLOADS=$FAULTS start_workload /usr/bin/python3 many_funcs
	run -0 /usr/bin/python3 "$FAULTS/leave.py" "$SOCK" "$WL_PID" mid-reply
	echo "# left mid-reply: $output" >&3
	# The reply had begun and was not whole: the daemon still had the rest to write.
	[[ $(json_get .start) == '{"'* ]]
	[ "$(json_get .queued)" -gt 0 ]
	[ "$(json_get .newline)" = false ]
	run -0 /usr/bin/python3 "$FAULTS/leave.py" "$SOCK" "$WL_PID" mid-window
	run -0 /usr/bin/python3 "$FAULTS/leave.py" "$SOCK" "$WL_PID" pipelined
	run -0 /usr/bin/python3 "$FAULTS/leave.py" "$SOCK" "$WL_PID" half-close
	[ "$(json_get .ok)" = true ]
	[ "$(json_get .lines)" = 1 ]
	for _ in $(seq 50); do
		run_pyprobe -0 status --json
		[ "$(json_get .pending)" = 0 ] && [ "$(json_get .clients)" = 1 ] && break
		sleep 0.1
	done
	[ "$(json_get .pending)" = 0 ]
	[ "$(json_get .clients)" = 1 ]
	[ "$(json_get .sessions)" = 0 ]
	run_pyprobe -0 list --json
	[ "$(json_get '.sessions | length')" = 0 ]
	# And a whole reply of the same size still goes out.
	run_pyprobe -0 record "$WL_PID" --seconds 1 -o "$TEST_DIR/after.folded"
	[ "$(wc -l <"$TEST_DIR/after.folded")" -gt 100 ]
}

@test "no leaks: 1000 requests of every kind leave the daemon's fds and memory as they were" {
	local fd0 fd1 rss0 rss1 other
	memory_daemon
	start_workload /usr/bin/python3 sleeping
	sleep 60 3>&- &
	other=$!
	track "$other"
	# Warm up: every path once, so allocator pools and caches exist already.
	run -0 /usr/bin/python3 "$FAULTS/request_loop.py" "$SOCK" 300 "$WL_PID" "$other" 4
	wait_idle
	fd0=$(nfds "$DAEMON_PID")
	rss0=$(rss_kb "$DAEMON_PID")
	run -0 /usr/bin/python3 "$FAULTS/request_loop.py" "$SOCK" 1000 "$WL_PID" "$other" 8
	echo "# $output" >&3
	[ "$(json_get .windows)" = 8 ]
	wait_idle
	fd1=$(nfds "$DAEMON_PID")
	rss1=$(rss_kb "$DAEMON_PID")
	echo "# fds $fd0 -> $fd1, VmRSS $rss0 -> $rss1 kB" >&3
	[ "$fd1" = "$fd0" ]
	[ $((rss1 - rss0)) -lt 2048 ]
}

# Until no window is open and no process observed (the abandoned window ends at once).
wait_idle() {
	for _ in $(seq 100); do
		run_pyprobe -0 status --json
		[ "$(json_get .pending)" = 0 ] && [ "$(json_get .sessions)" = 0 ] && [ "$(json_get .clients)" = 1 ] && return 0
		sleep 0.05
	done
	echo "daemon not idle: $output" >&2
	return 1
}
