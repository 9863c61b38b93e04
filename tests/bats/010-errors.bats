#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Every way a request can fail gets its own clear error, and the daemon keeps serving.

load ../daemon_suite

# As daemon_suite's, plus the non-Python processes some tests start.
teardown() {
	stop_workload
	[ -n "${OTHER_PID:-}" ] && kill "$OTHER_PID" 2>/dev/null
	true
}

# raw_request BYTES [LINES]: send BYTES (backslash escapes such as \x00 decoded)
# to the socket as they are; print the first LINES reply lines (default 1).
raw_request() {
	/usr/bin/python3 - "$SOCK" "$1" "${2:-1}" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
try:
    s.sendall(sys.argv[2].encode("latin-1").decode("unicode_escape").encode("latin-1"))
except (BrokenPipeError, ConnectionResetError):
    pass  # refused before all of it was sent (an oversized request): its reply is still there to read
buf = b""
while buf.count(b"\n") < int(sys.argv[3]):
    try:
        chunk = s.recv(65536)
    except ConnectionResetError:
        break
    if not chunk:
        break
    buf += chunk
sys.stdout.write(buf.decode())
PY
}

daemon_still_serves() {
	run_pyprobe -0 status --json
	[ "$(json_get .ok)" = true ]
}

@test "nonexistent PID: no-such-process" {
	run_pyprobe -1 classify 999999999 --json
	[ "$(json_get .error.code)" = no-such-process ]
	run_pyprobe -1 classify 999999999
	[[ $output == *"no such process: 999999999"* ]]
	daemon_still_serves
}

@test "a process that is not CPython: not-python, naming what was found" {
	sleep 60 3>&- &
	OTHER_PID=$!
	run_pyprobe -1 classify "$OTHER_PID" --json
	[ "$(json_get .error.code)" = not-python ]
	[[ $(json_get .error.message) == *"is not a CPython process"* ]]
	[[ $(json_get .error.message) == *"sleep"* ]]
	daemon_still_serves
}

@test "a Python the daemon does not support: unsupported-version, naming it" {
	local py2
	py2=$(ls "$(pyenv root 2>/dev/null)"/versions/2.*/bin/python2.? 2>/dev/null | head -n1)
	[ -n "$py2" ] || skip "no Python 2 interpreter on this machine"
	"$py2" -c 'import sys, time; sys.stdout.write("ready\n"); sys.stdout.flush(); time.sleep(60)' >"$TEST_DIR/py2.out" 3>&- &
	OTHER_PID=$!
	wait_ready "$TEST_DIR/py2.out" "$OTHER_PID"
	run_pyprobe -1 classify "$OTHER_PID" --json
	[ "$(json_get .error.code)" = unsupported-version ]
	[[ $(json_get .error.message) == *"CPython 2.7"* ]]
	daemon_still_serves
}

@test "target exits during the window: target-exited with how much was observed" {
	PYPROBE_WORKLOAD_SECONDS=1.5 start_workload /usr/bin/python3 cpu_python
	run_pyprobe -1 classify "$WL_PID" --seconds 10 --json
	[ "$(json_get .error.code)" = target-exited ]
	[[ $(json_get .error.message) =~ observed\ [01]\.[0-9]+\ s\ of\ 10\.00\ s ]]
	run_pyprobe -0 list --json
	[ "$(json_get '.sessions | length')" = 0 ]
	daemon_still_serves
}

@test "a non-root user may not observe root's process" {
	command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
	start_workload /usr/bin/python3 sleeping
	run -1 setpriv --reuid=nobody --regid=nogroup --clear-groups "$BIN/pyprobe" --socket "$SOCK" \
		classify "$WL_PID" --json
	[ "$(json_get .error.code)" = permission-denied ]
	run -1 setpriv --reuid=nobody --regid=nogroup --clear-groups "$BIN/pyprobe" --socket "$SOCK" \
		detach "$WL_PID" --json
	[ "$(json_get .error.code)" = permission-denied ]
	daemon_still_serves
}

@test "a non-root user may observe its own process" {
	command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
	chmod 755 "$TEST_DIR"
	WL_PREFIX="setpriv --reuid=nobody --regid=nogroup --clear-groups" start_workload /usr/bin/python3 sleeping
	run -0 setpriv --reuid=nobody --regid=nogroup --clear-groups "$BIN/pyprobe" --socket "$SOCK" \
		classify "$WL_PID" --seconds 0.5 --json
	[ "$(json_get .verdict.label)" = idle ]
}

@test "malformed requests on the raw socket get clear errors" {
	run raw_request $'this is not json\n'
	[ "$(json_get .error.code)" = bad-request ]
	[[ $(json_get .error.message) == *"malformed JSON"* ]]
	run raw_request $'{"v":1}\n'
	[ "$(json_get .error.code)" = bad-request ]
	run raw_request $'{"v":9,"cmd":"status"}\n'
	[ "$(json_get .error.code)" = unsupported-protocol ]
	run raw_request $'{"v":1,"cmd":"reboot"}\n'
	[ "$(json_get .error.code)" = unknown-command ]
	run raw_request $'{"v":1,"cmd":"classify","pid":"1; rm -rf /"}\n'
	[ "$(json_get .error.code)" = bad-request ]
	run raw_request $'{"v":1,"cmd":"classify","pid":1,"seconds":-3}\n'
	[ "$(json_get .error.code)" = bad-request ]
	run raw_request '\x00\xff\xfe\n'
	[ "$(json_get .error.code)" = bad-request ]
	daemon_still_serves
}

@test "tree and wall requests: tree for classify, top, gc and record, wall for record, max_tree only with tree, all checked" {
	run raw_request $'{"v":1,"cmd":"attrs","pid":1,"tree":true}\n'
	[ "$(json_get .error.code)" = bad-request ]
	[[ $(json_get .error.message) == *'"tree" is for classify, top, gc and record only'* ]]
	run raw_request $'{"v":1,"cmd":"loop","unit":"a.service"}\n'
	[[ $(json_get .error.message) == *'"unit" is for classify, top, gc and record only'* ]]
	run raw_request $'{"v":1,"cmd":"top","pid":1,"wall":true}\n'
	[[ $(json_get .error.message) == *'"wall" is for record only'* ]]
	run raw_request $'{"v":1,"cmd":"record","pid":1,"wall":"yes"}\n'
	[[ $(json_get .error.message) == *'"wall" must be true or false'* ]]
	run raw_request $'{"v":1,"cmd":"classify","pid":1,"max_tree":4}\n'
	[[ $(json_get .error.message) == *'needs "tree": true'* ]]
	run raw_request $'{"v":1,"cmd":"classify","pid":1,"tree":1}\n'
	[[ $(json_get .error.message) == *'"tree" must be true or false'* ]]
	run raw_request $'{"v":1,"cmd":"classify","pid":1,"tree":true,"max_tree":0}\n'
	[[ $(json_get .error.message) == *'"max_tree" must be an integer from 1 to 1024'* ]]
	daemon_still_serves
}

@test "an oversized request is refused and the connection closed" {
	run raw_request "$(head -c 100000 /dev/zero | tr '\0' 'x')"
	[ "$(json_get .error.code)" = request-too-large ]
	daemon_still_serves
}

@test "several requests on one connection are answered in order" {
	run raw_request '{"v":1,"cmd":"status"}\n{"v":1,"cmd":"list"}\n' 2
	[ "$(jq -s 'length' <<<"$output")" = 2 ]
	[ "$(jq -s -r '.[0].version' <<<"$output")" != null ]
	[ "$(jq -s -r '.[1].sessions | type' <<<"$output")" = array ]
	daemon_still_serves
}

@test "detach of a process not being observed: not-attached" {
	start_workload /usr/bin/python3 sleeping
	run_pyprobe -1 detach "$WL_PID" --json
	[ "$(json_get .error.code)" = not-attached ]
}

@test "detach ends an open window with an error and removes the target" {
	start_workload /usr/bin/python3 sleeping
	"$BIN/pyprobe" --socket "$SOCK" classify "$WL_PID" --seconds 20 --json >"$TEST_DIR/detached.json" 3>&- &
	local client=$!
	for _ in $(seq 50); do
		run_pyprobe -0 list --json
		[ "$(json_get '.sessions | length')" = 1 ] && break
		sleep 0.1
	done
	[ "$(json_get '.sessions[0].pid')" = "$WL_PID" ]
	run_pyprobe -0 detach "$WL_PID"
	wait "$client" || true
	[ "$(jq -r .error.code "$TEST_DIR/detached.json")" = detached ]
	run_pyprobe -0 list --json
	[ "$(json_get '.sessions | length')" = 0 ]
}

@test "target executes another program during a window: target-exited saying so; a recording keeps what it had" {
	local prog='import os, sys, time
sys.stdout.write("ready\n")
sys.stdout.flush()
end = time.time() + 1.5
while time.time() < end:
    sum(range(1000))
os.execv("/bin/sleep", ["sleep", "30"])'
	/usr/bin/python3 -c "$prog" >"$TEST_DIR/exec1.out" 3>&- &
	OTHER_PID=$!
	wait_ready "$TEST_DIR/exec1.out" "$OTHER_PID"
	run_pyprobe -1 classify "$OTHER_PID" --seconds 10 --json
	[ "$(json_get .error.code)" = target-exited ]
	[[ $(json_get .error.message) == *"executed a new program during the window"* ]]
	kill "$OTHER_PID"
	/usr/bin/python3 -c "$prog" >"$TEST_DIR/exec2.out" 3>&- &
	OTHER_PID=$!
	wait_ready "$TEST_DIR/exec2.out" "$OTHER_PID"
	run_pyprobe -0 record "$OTHER_PID" --seconds 10 -o "$TEST_DIR/exec.folded"
	[ -s "$TEST_DIR/exec.folded" ]
	grep -q '<module>' "$TEST_DIR/exec.folded"
	daemon_still_serves
}

@test "an interpreter path and thread name that are not UTF-8: the reply still comes, with U+FFFD" {
	local dir=$TEST_DIR/$'bad\xff'
	mkdir -p "$dir"
	cp /usr/bin/python3 "$dir/python3"
	"$dir/python3" -c 'import ctypes, time
ctypes.CDLL(None).prctl(15, b"t\xfe", 0, 0, 0)
print("ready", flush=True)
time.sleep(60)' >"$TEST_DIR/utf8.out" 3>&- &
	OTHER_PID=$!
	wait_ready "$TEST_DIR/utf8.out" "$OTHER_PID"
	run_pyprobe -0 classify "$OTHER_PID" --seconds 0.5 --json
	[[ $(json_get .python.exe) == *"bad"$'\xef\xbf\xbd'"/python3" ]]
	[ "$(json_get '.threads[0].name')" = t$'\xef\xbf\xbd' ]
	run_pyprobe -0 list --json
	daemon_still_serves
}
