#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The config file and watch rules: continuous monitoring of matching processes.

source "$(dirname "$BATS_TEST_FILENAME")/../helpers.bash"

PY=/usr/bin/python3

setup() {
	TOKEN=pyprobe-watch-$$-$BATS_TEST_NUMBER
	CONF_DIR=$(mktemp -d /tmp/pyprobe-conf.XXXXXX)
	CONF=$CONF_DIR/pyprobed.conf
	EXTRA_PIDS=()
}

teardown() {
	stop_workload
	for p in "${EXTRA_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	stop_daemon
	[ -n "${CGROUP:-}" ] && rmdir "$CGROUP" 2>/dev/null
	rm -rf "$CONF_DIR"
	true
}

# wait_for CMD...: retry for up to 15 s.
wait_for() {
	for _ in $(seq 75); do
		"$@" && return 0
		sleep 0.2
	done
	"$@"
}

# watched PID [LABEL]: pyprobe list shows PID as watched (with that label).
watched() {
	local out
	out=$("$BIN/pyprobe" --socket "$SOCK" list --json) || return 1
	jq -e --argjson pid "$1" --arg want "${2:-}" \
		'.sessions[] | select(.pid == $pid and .watch != null and ($want == "" or .watch.label == $want))' \
		<<<"$out" >/dev/null
}

not_observed() {
	local out
	out=$("$BIN/pyprobe" --socket "$SOCK" list --json) || return 1
	jq -e --argjson pid "$1" '[.sessions[] | select(.pid == $pid)] | length == 0' <<<"$out" >/dev/null
}

@test "--check-config prints the settings and rules; errors name every bad line" {
	cat >"$CONF" <<-'EOF'
	# pyprobed.conf
	window = 5
	metrics = 9464
	watch = unit web.service
	watch = cmdline *celery*worker*
	EOF
	run -0 "$BIN/pyprobed" --config "$CONF" --check-config
	[[ $output == *"window = 5"* ]]
	[[ $output == *"metrics = 127.0.0.1:9464"* ]]
	[[ $output == *"watch = unit web.service   (line 4)"* ]]
	[[ $output == *"watch = cmdline *celery*worker*   (line 5)"* ]]

	printf 'window = 5\nwindow = 0x\nwatch = unit nginx\nsocket = /x\n' >"$CONF"
	run -2 "$BIN/pyprobed" --config "$CONF" --check-config
	[[ $output == *"$CONF:2: 'window' is set twice"* ]]
	[[ $output == *"$CONF:3: 'nginx' is not a systemd .service, .scope or .slice unit name"* ]]
	[[ $output == *"$CONF:4: unknown key 'socket'"* ]]
	# The daemon does not start on it either.
	run -2 "$BIN/pyprobed" --foreground --socket "$CONF_DIR/s" --config "$CONF"
	[[ $output == *"bad config file"* ]]
	[ ! -e "$CONF_DIR/s" ]
	# A config file named on the command line must exist; the default one need not.
	run -2 "$BIN/pyprobed" --config "$CONF_DIR/missing.conf" --check-config
	[[ $output == *"missing.conf: No such file or directory"* ]]
}

@test "cmdline rule: running and later-started processes are watched, classified, dropped at exit" {
	printf 'window = 1\nrescan = 0\nwatch = cmdline *%s*\n' "$TOKEN" >"$CONF"
	start_workload "$PY" cpu_python "$TOKEN-early" 3>&-
	local early=$WL_PID
	EXTRA_PIDS+=("$early")
	start_daemon --config "$CONF"
	# Found by the start-up scan.
	wait_for watched "$early" cpu-bound-python
	# Found through its exec (rescan is off), a pyenv interpreter with a shared libpython.
	local py312
	py312=$(interpreters | grep 3.12 | head -n1)
	start_workload "${py312:-$PY}" cpu_python "$TOKEN-late"
	wait_for watched "$WL_PID" cpu-bound-python
	# Processes the rule does not match are left alone.
	"$PY" -c 'import time; time.sleep(30)' "other-$$" 3>&- &
	EXTRA_PIDS+=("$!")
	sleep 1.5
	not_observed "$!"
	run_pyprobe -0 list
	[[ $output == *"cpu-bound-python"*"cmdline:*$TOKEN*"* ]]
	run_pyprobe -0 status
	[[ $output == *"observing 2 process(es) (2 watched by rules)"* ]]
	# Gone processes are dropped.
	kill "$early"
	wait_for not_observed "$early"
	grep -q "process $early (cmdline:\*$TOKEN\*): stopped watching: exited" "$DAEMON_LOG"
	grep -q "process $WL_PID (cmdline:\*$TOKEN\*): label cpu-bound-python" "$DAEMON_LOG"
}

@test "exe rule: only that interpreter's processes" {
	local a b
	a=$(interpreters | grep -v '^/usr/bin' | head -n1)
	b=$(interpreters | grep -v '^/usr/bin' | sed -n 2p)
	[ -n "$a" ] && [ -n "$b" ] || skip "needs two pyenv interpreters"
	printf 'window = 1\nwatch = exe %s\n' "$(readlink -f "$a")" >"$CONF"
	start_daemon --config "$CONF"
	start_workload "$b" sleeping
	EXTRA_PIDS+=("$WL_PID")
	local other=$WL_PID
	start_workload "$a" sleeping
	wait_for watched "$WL_PID" idle
	not_observed "$other"
}

@test "unit rule: the unit's processes, and workers it forks later (fork events)" {
	local unit=pyprobe-test-$$.service
	make_unit_cgroup "$unit"
	printf 'window = 1\nrescan = 0\nwatch = unit %s\n' "$unit" >"$CONF"
	start_daemon --config "$CONF"
	PYPROBE_FORK_DELAY=3 start_workload "$PY" forking
	echo "$WL_PID" >"$CGROUP/cgroup.procs"
	# rescan is off: a SIGHUP re-reads the config and scans once.
	kill -HUP "$DAEMON_PID"
	wait_for watched "$WL_PID"
	wait_for grep -c '^child' "$WL_OUT"
	for _ in $(seq 50); do [ "$(grep -c '^child' "$WL_OUT")" = 2 ] && break; sleep 0.1; done
	local kids
	kids=$(awk '/^child/ { print $2 }' "$WL_OUT")
	EXTRA_PIDS+=($kids)
	for k in $kids; do
		grep -q "$unit" "/proc/$k/cgroup"
		wait_for watched "$k" cpu-bound-python
	done
	wait_for watched "$WL_PID" idle
}

@test "SIGHUP: new rules apply, unmatched processes are dropped, a bad file changes nothing" {
	printf 'window = 1\nwatch = cmdline *%s-a*\n' "$TOKEN" >"$CONF"
	start_daemon --config "$CONF"
	start_workload "$PY" sleeping "$TOKEN-a"
	local a=$WL_PID
	EXTRA_PIDS+=("$a")
	start_workload "$PY" sleeping "$TOKEN-b"
	wait_for watched "$a"
	not_observed "$WL_PID"
	# A bad file: the old rules stay, the log names the line.
	printf 'window = 1\nwatch = cmdline *%s-b*\nwatch = exe relative\n' "$TOKEN" >"$CONF"
	kill -HUP "$DAEMON_PID"
	wait_for grep -q "$CONF:3: watch exe needs an absolute path" "$DAEMON_LOG"
	grep -q "reload: config not changed" "$DAEMON_LOG"
	sleep 0.5
	watched "$a"
	not_observed "$WL_PID"
	# A good file: b in, a out.
	printf 'window = 1\nwatch = cmdline *%s-b*\n' "$TOKEN" >"$CONF"
	kill -HUP "$DAEMON_PID"
	wait_for watched "$WL_PID"
	wait_for not_observed "$a"
	grep -q "process $a (cmdline:\*$TOKEN-a\*): no rule matches it any more" "$DAEMON_LOG"
}

@test "a watched process that executes another program is re-inspected" {
	printf 'window = 1\nwatch = cmdline *%s*\n' "$TOKEN" >"$CONF"
	start_daemon --config "$CONF"
	local py38
	py38=$(interpreters | grep 3.8 | head -n1)
	[ -n "$py38" ] || skip "no pyenv 3.8"
	# 3.8 first, then the same PID becomes Debian's 3.11.
	"$py38" -c 'import os, sys, time; time.sleep(2); os.execv(sys.argv[1], [sys.argv[1], "-c", "import time; time.sleep(60)", sys.argv[2]])' \
		"$PY" "$TOKEN" 3>&- &
	local pid=$!
	EXTRA_PIDS+=("$pid")
	wait_for watched "$pid"
	run_pyprobe -0 list --json
	[[ $(jq -r --argjson p "$pid" '.sessions[] | select(.pid == $p) | .python.version' <<<"$output") == 3.8.* ]]
	wait_for grep -q "process $pid (cmdline:\*$TOKEN\*): stopped watching: executed a new program" "$DAEMON_LOG"
	wait_for watched "$pid"
	run_pyprobe -0 list --json
	[ "$(jq -r --argjson p "$pid" '.sessions[] | select(.pid == $p) | .python.version' <<<"$output")" = 3.11.2 ]
}

@test "a label change is logged, with journald priority prefixes when stderr is the journal" {
	printf 'window = 1\nwatch = cmdline *%s*\n' "$TOKEN" >"$CONF"
	TEST_DIR=$(mktemp -d /tmp/pyprobe-test.XXXXXX)
	SOCK=$TEST_DIR/s
	DAEMON_LOG=$TEST_DIR/log
	: >"$DAEMON_LOG"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$DAEMON_LOG") "$BIN/pyprobed" -f --socket "$SOCK" --config "$CONF" \
		2>>"$DAEMON_LOG" 3>&- &
	DAEMON_PID=$!
	wait_for test -S "$SOCK"
	PYPROBE_PHASE_SECONDS=3 start_workload "$PY" phases "$TOKEN"
	wait_for grep -q "label changed from cpu-bound-python to idle" "$DAEMON_LOG"
	grep -q "^<5>process $WL_PID (cmdline:\*$TOKEN\*): label changed from cpu-bound-python to idle" "$DAEMON_LOG"
	grep -q "^<6>pyprobed .* listening on" "$DAEMON_LOG"
	run_pyprobe -0 list --json
	[ "$(json_get '.sessions[0].watch.label_changes')" -ge 1 ]
}

@test "detach of a watched process: it is not watched again until it executes a program" {
	printf 'window = 1\nrescan = 1\nwatch = cmdline *%s*\n' "$TOKEN" >"$CONF"
	start_daemon --config "$CONF"
	start_workload "$PY" sleeping "$TOKEN"
	wait_for watched "$WL_PID"
	run_pyprobe -0 detach "$WL_PID"
	sleep 2.5	# two rescans
	not_observed "$WL_PID"
	grep -q "process $WL_PID (cmdline:\*$TOKEN\*): stopped watching: detached on request" "$DAEMON_LOG"
}

@test "past max-sessions a match waits its turn, with one warning" {
	printf 'window = 1\nmax-sessions = 1\nwatch = cmdline *%s*\n' "$TOKEN" >"$CONF"
	start_daemon --config "$CONF"
	start_workload "$PY" sleeping "$TOKEN-1"
	local first=$WL_PID
	EXTRA_PIDS+=("$first")
	wait_for watched "$first"
	start_workload "$PY" sleeping "$TOKEN-2"
	wait_for grep -q "process $WL_PID matches cmdline:\*$TOKEN\*.* cannot be watched yet: already observing 1" \
		"$DAEMON_LOG"
	not_observed "$WL_PID"
	kill "$first"
	wait_for not_observed "$first"
	for _ in $(seq 3); do wait_for watched "$WL_PID" && break; done	# retried every 10 s
	watched "$WL_PID"
	[ "$(grep -c "process $WL_PID matches" "$DAEMON_LOG")" = 1 ]
}
