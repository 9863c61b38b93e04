#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Who may do what on the socket (docs/protocol.md, "Security"): root observes
# anything, other users only what is wholly theirs; status is for everyone.

load ../daemon_suite
load ../faults/track

NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

setup() {
	command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
	id nobody >/dev/null 2>&1 || skip "no user nobody"
}

teardown() {
	stop_workload
	kill_tracked
}

# as_nobody [-N] ARGS...: the CLI as user nobody against the test daemon.
as_nobody() {
	local want=()
	if [[ $1 =~ ^-[0-9]+$ ]]; then
		want=("$1")
		shift
	fi
	echo "# (nobody) pyprobe $*" >&3
	run "${want[@]}" timeout 60 "${NOBODY[@]}" "$BIN/pyprobe" --socket "$SOCK" "$@" 3>&-
}

# A directory nobody may write to, for record's output.
nobody_dir() {
	mkdir -p "$TEST_DIR/nobody"
	chown nobody:nogroup "$TEST_DIR/nobody"
	echo "$TEST_DIR/nobody"
}

# refused_everything PID: every per-process command from nobody gets permission-denied.
refused_everything() {
	local pid=$1 dir cmd
	dir=$(nobody_dir)
	for cmd in classify gc top; do
		as_nobody -1 "$cmd" "$pid" --seconds 0.5 --json
		[ "$(json_get .error.code)" = permission-denied ]
		[[ $(json_get .error.message) == *"process $pid does not belong to uid 65534"* ]]
	done
	as_nobody -1 record "$pid" --seconds 0.5 -o "$dir/refused.folded"
	[[ $output == *"(permission-denied)"* ]]
	[ ! -s "$dir/refused.folded" ]
	as_nobody -1 detach "$pid" --json
	[ "$(json_get .error.code)" = permission-denied ]
}

@test "the socket is mode 0666 and owned by root; a directory the daemon makes is 0755" {
	[ "$(stat -c '%a %U %G' "$SOCK")" = "666 root root" ]
	[ "$(stat -c '%F' "$SOCK")" = socket ]
	# The unit that systemd uses instead says the same.
	grep -qx 'SocketMode=0666' "$TOP/systemd/pyprobed.socket"
	grep -qx 'DirectoryMode=0755' "$TOP/systemd/pyprobed.socket"
	# A socket in directories that do not exist yet.
	local sock=$TEST_DIR/made/by/pyprobed/pyprobed.sock pid
	: >"$TEST_DIR/empty.conf"
	(umask 022 && exec "$BIN/pyprobed" --foreground --socket "$sock" --config "$TEST_DIR/empty.conf" \
		2>"$TEST_DIR/second.log" 3>&-) &
	pid=$!
	track "$pid"
	for _ in $(seq 200); do
		[ -S "$sock" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	[ "$(stat -c '%a %U %G' "$sock")" = "666 root root" ]
	[ "$(stat -c '%a %U' "$TEST_DIR/made/by/pyprobed")" = "755 root" ]
	[ "$(stat -c '%a %U' "$TEST_DIR/made/by")" = "755 root" ]
	# ... and another user can use it.
	run -0 timeout 30 "${NOBODY[@]}" "$BIN/pyprobe" --socket "$sock" status --json
	[ "$(json_get .ok)" = true ]
	# It ends clean on SIGTERM, with no sanitizer report.
	kill "$pid"
	wait "$pid"
	run ! grep -qE "$SANITIZER_REPORT" "$TEST_DIR/second.log"
}

@test "a non-owner is refused every command on root's Python process, and nothing is attached" {
	start_workload /usr/bin/python3 sleeping
	refused_everything "$WL_PID"
	run_pyprobe -0 status --json
	[ "$(json_get .sessions)" = 0 ]
	[ "$(json_get .pending)" = 0 ]
}

@test "a non-owner is refused while root observes the process, cannot end root's window, and does not see it in list" {
	start_workload /usr/bin/python3 sleeping
	"$BIN/pyprobe" --socket "$SOCK" classify "$WL_PID" --seconds 4 --json >"$TEST_DIR/root.json" 3>&- &
	local root_client=$!
	for _ in $(seq 100); do
		run_pyprobe -0 list --json
		[ "$(json_get '.sessions | length')" = 1 ] && break
		sleep 0.05
	done
	[ "$(json_get '.sessions[0].pid')" = "$WL_PID" ]
	as_nobody -0 list --json
	[ "$(json_get .ok)" = true ]
	[ "$(json_get '.sessions | length')" = 0 ]
	refused_everything "$WL_PID"
	# Root's window ran to its end, untouched by the refused detach.
	wait "$root_client"
	[ "$(jq -r .ok "$TEST_DIR/root.json")" = true ]
	[ "$(jq -r .verdict.label "$TEST_DIR/root.json")" = idle ]
}

@test "a process only partly the user's (real or effective uid still root) is not theirs" {
	local ruid_only euid_only
	WL_PREFIX="setpriv --ruid=nobody" start_workload /usr/bin/python3 sleeping
	ruid_only=$WL_PID
	[ "$(awk '/^Uid:/ { print $2, $3, $4 }' "/proc/$ruid_only/status")" = "65534 0 0" ]
	WL_PREFIX="setpriv --euid=nobody" start_workload /usr/bin/python3 sleeping
	euid_only=$WL_PID
	track "$ruid_only"
	[ "$(awk '/^Uid:/ { print $2, $3 }' "/proc/$euid_only/status")" = "0 65534" ]
	as_nobody -1 classify "$ruid_only" --seconds 0.5 --json
	[ "$(json_get .error.code)" = permission-denied ]
	as_nobody -1 top "$euid_only" --seconds 0.5 --json
	[ "$(json_get .error.code)" = permission-denied ]
}

@test "a process whose saved uid is still root is not the user's (the kernel's rule), for every command, attrs and churn too" {
	local pid cmd
	# Real and effective uid nobody, saved uid root, dumpable again: only the saved uid differs.
	/usr/bin/python3 -c 'import ctypes, os, sys, time
os.setresgid(65534, 65534, 65534)
os.setresuid(65534, 65534, 0)
ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)
sys.stdout.write("ready %d\n" % os.getpid()); sys.stdout.flush()
time.sleep(120)' >"$TEST_DIR/suid.out" 2>&1 3>&- &
	pid=$!
	track "$pid"
	for _ in $(seq 100); do grep -q '^ready' "$TEST_DIR/suid.out" && break; sleep 0.05; done
	grep -q '^ready' "$TEST_DIR/suid.out" || { cat "$TEST_DIR/suid.out"; return 1; }
	[ "$(awk '/^Uid:/ { print $2, $3, $4 }' "/proc/$pid/status")" = "65534 65534 0" ]
	# The kernel agrees: nobody cannot read its memory.
	run "${NOBODY[@]}" cat "/proc/$pid/environ"
	[ "$status" -ne 0 ]
	for cmd in classify gc top attrs churn; do
		as_nobody -1 "$cmd" "$pid" --seconds 0.5 --json
		echo "# $cmd: $(json_get .error.code): $(json_get .error.message)" >&3
		[ "$(json_get .error.code)" = permission-denied ]
	done
	# Root may.
	run_pyprobe -0 attrs "$pid" --seconds 0.5 --json
}

@test "status is answered for anyone, with the documented daemon-wide fields and no process in it" {
	start_workload /usr/bin/python3 sleeping
	"$BIN/pyprobe" --socket "$SOCK" classify "$WL_PID" --seconds 3 --json >/dev/null 3>&- &
	track "$!"
	for _ in $(seq 100); do
		run_pyprobe -0 status --json
		[ "$(json_get .pending)" = 1 ] && break
		sleep 0.05
	done
	as_nobody -0 status --json
	local f
	for f in version pid uptime_seconds sessions pending clients requests bpf; do
		[ "$(json_get "has(\"$f\")")" = true ] || { echo "status lacks $f" >&2; false; }
	done
	[ "$(json_get .sessions)" = 1 ]
	[ "$(json_get .pid)" = "$DAEMON_PID" ]
	# Counters only: no list of anything, and the target's PID nowhere.
	[ "$(json_get '[.. | arrays] | length')" = 0 ]
	[[ ! $output =~ (^|[^0-9])$WL_PID([^0-9]|$) ]]
	as_nobody -0 status
	[[ $output == *"pyprobed "* ]]
}

@test "a non-root user observes its own process with every command" {
	local dir client
	dir=$(nobody_dir)
	WL_PREFIX="${NOBODY[*]}" start_workload /usr/bin/python3 sleeping
	as_nobody -0 classify "$WL_PID" --seconds 0.5 --json
	[ "$(json_get .verdict.label)" = idle ]
	as_nobody -0 gc "$WL_PID" --seconds 0.5 --json
	[ "$(json_get .pid)" = "$WL_PID" ]
	[ "$(json_get '.gc | has("method")')" = true ]
	as_nobody -0 top "$WL_PID" --seconds 0.5 --json
	[ "$(json_get '.profile | has("samples")')" = true ]
	as_nobody -0 record "$WL_PID" --seconds 0.5 -o "$dir/own.folded"
	[ -e "$dir/own.folded" ]
	[ "$(stat -c %U "$dir/own.folded")" = nobody ]
	# A window of its own, listed to it, ended by its own detach.
	timeout 60 "${NOBODY[@]}" "$BIN/pyprobe" --socket "$SOCK" classify "$WL_PID" --seconds 20 --json \
		>"$TEST_DIR/own.json" 3>&- &
	client=$!
	for _ in $(seq 100); do
		as_nobody -0 list --json
		[ "$(json_get '.sessions | length')" = 1 ] && break
		sleep 0.05
	done
	[ "$(json_get '.sessions[0].pid')" = "$WL_PID" ]
	as_nobody -0 detach "$WL_PID" --json
	[ "$(json_get .pid)" = "$WL_PID" ]
	wait "$client" || true
	[ "$(jq -r .error.code "$TEST_DIR/own.json")" = detached ]
}

@test "one user other than root holds at most half of max-clients; root still gets in" {
	local dir
	dir=$(mktemp -d /tmp/pyprobe-cap.XXXXXX)
	chmod 755 "$dir"
	: >"$dir/empty.conf"
	"$BIN/pyprobed" -f --socket "$dir/s" --config "$dir/empty.conf" --max-clients 8 2>"$dir/log" 3>&- &
	local d=$!
	for _ in $(seq 100); do [ -S "$dir/s" ] && break; sleep 0.05; done
	# nobody opens 8 silent connections: 4 are kept, the rest refused with the reason.
	setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 -c '
import socket, sys, time
conns = []
for _ in range(8):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    conns.append(s)
time.sleep(0.5)
refused = 0
for s in conns:
    s.setblocking(False)
    try:
        if b"limit-reached" in s.recv(4096):
            refused += 1
    except BlockingIOError:
        pass
print(refused)
sys.stdout.flush()
time.sleep(5)' "$dir/s" >"$dir/out" 3>&- &
	local hog=$!
	for _ in $(seq 50); do [ -s "$dir/out" ] && break; sleep 0.1; done
	[ "$(cat "$dir/out")" = 4 ]
	# root (and another user) still get in while nobody's 4 are open.
	run timeout 10 "$BIN/pyprobe" --socket "$dir/s" status --json
	[ "$status" -eq 0 ]
	kill "$hog" "$d"
	wait "$d"
	run ! grep -qE "$SANITIZER_REPORT" "$dir/log"
	rm -rf "$dir"
}

@test "the socket directory pyprobed makes is 0755 whatever the umask" {
	local dir
	dir=$(mktemp -d /tmp/pyprobe-umask.XXXXXX)
	chmod 755 "$dir"
	: >"$dir/empty.conf"
	(umask 077 && exec "$BIN/pyprobed" -f --socket "$dir/new/sub/s" --config "$dir/empty.conf" 2>"$dir/log") 3>&- &
	local d=$!
	for _ in $(seq 100); do [ -S "$dir/new/sub/s" ] && break; sleep 0.05; done
	[ "$(stat -c %a "$dir/new/sub")" = 755 ]
	[ "$(stat -c %a "$dir/new")" = 755 ]
	run setpriv --reuid=nobody --regid=nogroup --clear-groups "$BIN/pyprobe" --socket "$dir/new/sub/s" status
	[ "$status" -eq 0 ]
	kill "$d"
	wait "$d"
	run ! grep -qE "$SANITIZER_REPORT" "$dir/log"
	rm -rf "$dir"
}

# The kernel's own rule (issue 19): a helper with nobody's credentials asks for the target's
# memory; the error says which rule refused.

@test "nobody's own non-dumpable process is refused as not dumpable, and allowed once it is dumpable again" {
	WL_PREFIX="${NOBODY[*]}" start_workload /usr/bin/python3 dumpable 0
	# The kernel itself refuses nobody: the ground truth for the rule.
	run "${NOBODY[@]}" cat "/proc/$WL_PID/maps"
	[ "$status" -ne 0 ]
	[[ $output == *"Permission denied"* ]]
	local cmd
	for cmd in classify gc top attrs churn; do
		as_nobody -1 "$cmd" "$WL_PID" --seconds 0.5 --json
		[ "$(json_get .error.code)" = permission-denied ]
		[[ $(json_get .error.message) == *"process $WL_PID is not dumpable"* ]]
	done
	run_pyprobe -0 status --json
	[ "$(json_get .sessions)" = 0 ]
	# The target makes itself readable again: the cached refusal is not served.
	kill -USR2 "$WL_PID"
	for _ in $(seq 100); do grep -q '^dumpable 1' "$WL_OUT" && break; sleep 0.05; done
	grep -q '^dumpable 1' "$WL_OUT"
	run "${NOBODY[@]}" cat "/proc/$WL_PID/maps"
	[ "$status" -eq 0 ]
	as_nobody -0 classify "$WL_PID" --seconds 0.5 --json
	[ "$(json_get .verdict.label)" = idle ]
}

@test "a window ends permission-denied when its target becomes non-dumpable" {
	WL_PREFIX="${NOBODY[*]}" start_workload /usr/bin/python3 dumpable 1
	timeout 60 "${NOBODY[@]}" "$BIN/pyprobe" --socket "$SOCK" classify "$WL_PID" --seconds 20 --json \
		>"$TEST_DIR/ended.json" 3>&- &
	local client=$!
	for _ in $(seq 100); do
		run_pyprobe -0 status --json
		[ "$(json_get .pending)" = 1 ] && break
		sleep 0.05
	done
	[ "$(json_get .pending)" = 1 ]
	kill -USR1 "$WL_PID"
	local st=0
	wait "$client" || st=$?
	[ "$st" -eq 1 ]
	[ "$(jq -r .error.code "$TEST_DIR/ended.json")" = permission-denied ]
	[[ $(jq -r .error.message "$TEST_DIR/ended.json") == *"is not dumpable"*"the window ended after"* ]]
	# It ended on the next check, not at the window's end.
	awk -v s="$(jq -r .error.message "$TEST_DIR/ended.json" | sed -E 's/.*ended after ([0-9.]+) s.*/\1/')" \
		'BEGIN { exit !(s < 15) }'
	grep -q "window on $WL_PID for uid 65534 ended" "$DAEMON_LOG"
	run_pyprobe -0 status --json
	[ "$(json_get .pending)" = 0 ]
}

@test "nobody's process running an interpreter that carries a file capability is refused" {
	command -v setcap >/dev/null || skip "setcap (libcap2-bin) not installed"
	mkdir -p "$TEST_DIR/capy"
	cp /usr/bin/python3 "$TEST_DIR/capy/python3"
	chmod 755 "$TEST_DIR/capy" "$TEST_DIR/capy/python3"
	setcap cap_net_bind_service+ep "$TEST_DIR/capy/python3"
	WL_PREFIX="${NOBODY[*]}" start_workload "$TEST_DIR/capy/python3" sleeping
	[ "$(awk '/^CapPrm:/ { print $2 }' "/proc/$WL_PID/status")" = 0000000000000400 ]
	# It stays dumpable (its uids did not change), yet the kernel keeps nobody out.
	[ "$(stat -c %U "/proc/$WL_PID/fd")" = nobody ]
	run "${NOBODY[@]}" cat "/proc/$WL_PID/maps"
	[ "$status" -ne 0 ]
	local cmd
	for cmd in classify top; do
		as_nobody -1 "$cmd" "$WL_PID" --seconds 0.5 --json
		[ "$(json_get .error.code)" = permission-denied ]
		[[ $(json_get .error.message) == *"holds capabilities (CapPrm 0000000000000400) that uid 65534 does not"* ]]
	done
	# Root still may.
	run_pyprobe -0 classify "$WL_PID" --seconds 0.5 --json
	[ "$(json_get .verdict.label)" = idle ]
}

# start_extra CONF: a second daemon with its own config; sets XSOCK, XPID, XLOG.
start_extra() {
	XSOCK=$TEST_DIR/extra.sock
	XLOG=$TEST_DIR/extra.log
	"$BIN/pyprobed" --foreground --socket "$XSOCK" --config "$1" 2>"$XLOG" 3>&- &
	XPID=$!
	track "$XPID"
	for _ in $(seq 100); do [ -S "$XSOCK" ] && break; sleep 0.05; done
	[ -S "$XSOCK" ]
}

# stop_extra: it exits 0 on SIGTERM and logged no sanitizer report.
stop_extra() {
	local st=0
	kill "$XPID"
	wait "$XPID" || st=$?
	[ "$st" -eq 0 ]
	run ! grep -qE "$SANITIZER_REPORT" "$XLOG"
}

@test "allow-group: a member observes anyone's process but, by default, not a non-dumpable one; deny-user and reload" {
	local sre=(setpriv --reuid=nobody --regid=nogroup --groups=users) plain dumpless
	cat >"$TEST_DIR/sre.conf" <<-'CONF'
	allow-group = users
	CONF
	run -0 "$BIN/pyprobed" --config "$TEST_DIR/sre.conf" --check-config
	[[ $output == *"allow-group = users (gid 100)"* ]]
	[[ $output == *"allow-nondumpable = no"* ]]
	start_extra "$TEST_DIR/sre.conf"
	start_workload /usr/bin/python3 sleeping
	plain=$WL_PID
	track "$plain"
	start_workload /usr/bin/python3 dumpable 0
	dumpless=$WL_PID
	# A member: root's process is open to it.
	run -0 timeout 60 "${sre[@]}" "$BIN/pyprobe" --socket "$XSOCK" classify "$plain" --seconds 0.5 --json 3>&-
	[ "$(json_get .verdict.label)" = idle ]
	run -1 timeout 60 "${sre[@]}" "$BIN/pyprobe" --socket "$XSOCK" top "$dumpless" --seconds 0.5 --json 3>&-
	[ "$(json_get .error.code)" = permission-denied ]
	[[ $(json_get .error.message) == *"is not dumpable"* ]]
	# Not a member: the owner rule.
	run -1 timeout 60 "${NOBODY[@]}" "$BIN/pyprobe" --socket "$XSOCK" classify "$plain" --seconds 0.5 --json 3>&-
	[[ $(json_get .error.message) == *"does not belong to uid 65534"* ]]
	# Reload: non-dumpable allowed, root's processes excluded.
	printf 'allow-group = users\nallow-nondumpable = yes\n' >"$TEST_DIR/sre.conf"
	kill -HUP "$XPID"
	for _ in $(seq 100); do grep -q reloaded "$XLOG" && break; sleep 0.05; done
	run -0 timeout 60 "${sre[@]}" "$BIN/pyprobe" --socket "$XSOCK" top "$dumpless" --seconds 0.5 --json 3>&-
	[ "$(json_get '.profile | has("samples")')" = true ]
	printf 'allow-group = users\nallow-nondumpable = yes\ndeny-user = root\n' >"$TEST_DIR/sre.conf"
	kill -HUP "$XPID"
	for _ in $(seq 100); do [ "$(grep -c reloaded "$XLOG")" = 2 ] && break; sleep 0.05; done
	run -1 timeout 60 "${sre[@]}" "$BIN/pyprobe" --socket "$XSOCK" classify "$plain" --seconds 0.5 --json 3>&-
	[[ $(json_get .error.message) == *"deny-user"* ]]
	stop_extra
}
