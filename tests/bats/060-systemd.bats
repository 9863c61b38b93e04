#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Running under systemd: unit files, socket activation, readiness notification, install.

load ../helpers

setup() {
	TEST_DIR=$(mktemp -d /tmp/pyprobe-sd.XXXXXX)
	chmod 755 "$TEST_DIR"
}

teardown() {
	[ -n "${ACT_PID:-}" ] && kill "$ACT_PID" 2>/dev/null && wait "$ACT_PID" 2>/dev/null
	[ -n "${COLLECTOR:-}" ] && kill "$COLLECTOR" 2>/dev/null
	rm -rf "$TEST_DIR"
	true
}

@test "make install and uninstall honour DESTDIR and PREFIX; the units pass systemd-analyze verify" {
	command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing"; return 1; }
	run make -s -C "$TOP" O="$BIN" install DESTDIR="$TEST_DIR/root" PREFIX=/opt/pp
	[ "$status" -eq 0 ]
	[ -x "$TEST_DIR/root/opt/pp/sbin/pyprobed" ]
	[ -x "$TEST_DIR/root/opt/pp/bin/pyprobe" ]
	grep -q '^ExecStart=/opt/pp/sbin/pyprobed --foreground$' "$TEST_DIR/root/opt/pp/lib/systemd/system/pyprobed.service"
	# Man pages render without warnings and document every command and option.
	# man exits 0 whatever groff warns: the warnings (its stderr) must be empty.
	for page in man8/pyprobe.8 man8/pyprobed.8 man5/pyprobed.conf.5; do
		run -0 bash -c 'MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null' _ "$TEST_DIR/root/opt/pp/share/man/$page"
		[ -z "$output" ] || { echo "$page: $output"; return 1; }
	done
	for page in pyprobe pyprobed; do
		run env MANWIDTH=80 man --warnings -l "$TEST_DIR/root/opt/pp/share/man/man8/$page.8"
		[ "$status" -eq 0 ]
		[[ $output == *OVERHEAD* ]]
	done
	run man -l "$TEST_DIR/root/opt/pp/share/man/man8/pyprobe.8"
	for c in classify gc top attrs churn record status list detach; do [[ $output == *"$c"* ]]; done
	run man -l "$TEST_DIR/root/opt/pp/share/man/man8/pyprobed.8"
	for o in --socket --config --check-config --foreground --verbose --sample-hz --max-clients --max-sessions \
		--max-threads --gc-max-rate --window --gc-timing --metrics --metrics-threads --rescan SIGHUP; do
		[[ $output == *"$o"* ]] || { echo "pyprobed.8 misses $o"; return 1; }
	done
	# pyprobed.conf(5): every key, the rule kinds, the metrics, OVERHEAD.
	run env MANWIDTH=200 man --warnings -l "$TEST_DIR/root/opt/pp/share/man/man5/pyprobed.conf.5"
	[ "$status" -eq 0 ]
	for k in sample-hz window gc-timing rescan metrics metrics-threads max-clients max-sessions max-threads \
		gc-max-rate "watch = unit" "watch = exe" "watch = cmdline" "watch = cgroup" OVERHEAD pyprobe_gil_wait_seconds_total; do
		[[ $output == *"$k"* ]] || { echo "pyprobed.conf.5 misses $k"; return 1; }
	done
	# The default config is valid, and a second install keeps an edited one.
	"$TEST_DIR/root/opt/pp/sbin/pyprobed" --config "$TEST_DIR/root/etc/pyprobe/pyprobed.conf" --check-config
	echo 'window = 5' >>"$TEST_DIR/root/etc/pyprobe/pyprobed.conf"
	run make -s -C "$TOP" O="$BIN" install DESTDIR="$TEST_DIR/root" PREFIX=/opt/pp
	[ "$status" -eq 0 ]
	grep -q '^window = 5$' "$TEST_DIR/root/etc/pyprobe/pyprobed.conf"
	# Bash completion is installed for both commands and completes subcommands.
	[ -L "$TEST_DIR/root/opt/pp/share/bash-completion/completions/pyprobed" ]
	run bash -c 'source "$1"; COMP_WORDS=(pyprobe re); COMP_CWORD=1; _pyprobe; echo "${COMPREPLY[@]}"
		COMP_WORDS=(pyprobed --gc-timing e); COMP_CWORD=2; _pyprobed; echo "${COMPREPLY[@]}"' _ \
		"$TEST_DIR/root/opt/pp/share/bash-completion/completions/pyprobe"
	[ "${lines[0]}" = record ]
	[ "${lines[1]}" = exact ]
	# Verify needs ExecStart to exist: install for real under the test directory.
	run make -s -C "$TOP" O="$BIN" install PREFIX="$TEST_DIR/prefix" SYSCONFDIR="$TEST_DIR/etc"
	[ "$status" -eq 0 ]
	run systemd-analyze verify "$TEST_DIR/prefix/lib/systemd/system/pyprobed.socket" \
		"$TEST_DIR/prefix/lib/systemd/system/pyprobed.service"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output != *pyprobed* ]]	# no warnings about our units
	run make -s -C "$TOP" O="$BIN" uninstall DESTDIR="$TEST_DIR/root" PREFIX=/opt/pp
	[ "$status" -eq 0 ]
	# Only the edited config is left.
	[ "$(find "$TEST_DIR/root" -type f)" = "$TEST_DIR/root/etc/pyprobe/pyprobed.conf" ]
	rm "$TEST_DIR/root/etc/pyprobe/pyprobed.conf"
	run make -s -C "$TOP" O="$BIN" install DESTDIR="$TEST_DIR/root" PREFIX=/opt/pp
	run make -s -C "$TOP" O="$BIN" uninstall DESTDIR="$TEST_DIR/root" PREFIX=/opt/pp
	[ -z "$(find "$TEST_DIR/root" -type f -o -type l)" ]
}

# notify_collector SOCKET FILE: a notify socket like systemd's, each datagram a line of FILE.
notify_collector() {
	/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "a") as out:
    while True:
        out.write(s.recv(4096).decode().replace("\n", " ") + "\n")
        out.flush()
' "$1" "$2" 3>&- &
	COLLECTOR=$!
	for _ in $(seq 50); do [ -S "$1" ] && break; sleep 0.05; done
	[ -S "$1" ]
}

@test "notifications: READY=1, WATCHDOG=1 at half the interval, RELOADING=1 then READY=1 on SIGHUP, STOPPING=1" {
	need_root
	local notify=$TEST_DIR/wd.sock log=$TEST_DIR/wd.notified pid n
	: >"$TEST_DIR/empty.conf"
	notify_collector "$notify" "$log"
	NOTIFY_SOCKET=$notify WATCHDOG_USEC=200000 "$BIN/pyprobed" --foreground --socket "$TEST_DIR/wd.pp.sock" \
		--config "$TEST_DIR/empty.conf" 2>"$TEST_DIR/wd.log" 3>&- &
	pid=$!
	for _ in $(seq 100); do grep -q '^READY=1' "$log" 2>/dev/null && break; sleep 0.05; done
	grep -q '^READY=1' "$log"
	# A 200 ms watchdog: a ping every 100 ms or so.
	sleep 1.2
	n=$(grep -c '^WATCHDOG=1' "$log" || true)
	echo "# $n watchdog pings in 1.2 s" >&3
	[ "$n" -ge 6 ] && [ "$n" -le 30 ]
	kill -HUP "$pid"
	for _ in $(seq 100); do grep -q '^RELOADING=1' "$log" && break; sleep 0.05; done
	for _ in $(seq 100); do [ "$(grep -c '^READY=1' "$log")" -ge 2 ] && break; sleep 0.05; done
	# The reload is announced before the daemon is ready again.
	[ "$(grep -nE '^(RELOADING|READY)=1' "$log" | sed -n '2,3p' | cut -d= -f1 | cut -d: -f2 | tr '\n' ' ')" = "RELOADING READY " ]
	kill "$pid"
	wait "$pid"
	grep -q '^STOPPING=1' "$log"
	kill "$COLLECTOR" 2>/dev/null
	run ! grep -qE "$SANITIZER_REPORT" "$TEST_DIR/wd.log"
	# A watchdog meant for another process (WATCHDOG_PID) is not ours: no pings.
	: >"$log"
	notify_collector "$notify.2" "$log"
	NOTIFY_SOCKET=$notify.2 WATCHDOG_USEC=200000 WATCHDOG_PID=1 "$BIN/pyprobed" --foreground \
		--socket "$TEST_DIR/wd2.pp.sock" --config "$TEST_DIR/empty.conf" 2>"$TEST_DIR/wd2.log" 3>&- &
	pid=$!
	for _ in $(seq 100); do grep -q '^READY=1' "$log" 2>/dev/null && break; sleep 0.05; done
	sleep 0.6
	kill "$pid"
	wait "$pid"
	kill "$COLLECTOR" 2>/dev/null
	[ "$(grep -c '^WATCHDOG=1' "$log")" = 0 ]
}

@test "socket activation: pyprobed serves a socket passed by LISTEN_FDS and notifies READY=1" {
	need_root
	command -v systemd-socket-activate >/dev/null || { echo "systemd-socket-activate missing"; return 1; }
	local sock=$TEST_DIR/activated.sock notify=$TEST_DIR/notify.sock
	# A notify socket like systemd's: the first datagram is written to a file.
	/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
open(sys.argv[2], "w").write(s.recv(4096).decode())
' "$notify" "$TEST_DIR/notified" 3>&- &
	for _ in $(seq 50); do [ -S "$notify" ] && break; sleep 0.05; done
	: >"$TEST_DIR/empty.conf"
	systemd-socket-activate -l "$sock" -E NOTIFY_SOCKET="$notify" "$BIN/pyprobed" --foreground \
		--config "$TEST_DIR/empty.conf" 2>"$TEST_DIR/act.log" 3>&- &
	ACT_PID=$!
	for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.05; done
	# The first connection starts the daemon, which accepts it on the inherited socket.
	run timeout 30 "$BIN/pyprobe" --socket "$sock" status --json
	cat "$TEST_DIR/act.log"
	[ "$status" -eq 0 ]
	[ "$(json_get .ok)" = true ]
	for _ in $(seq 100); do [ -s "$TEST_DIR/notified" ] && break; sleep 0.05; done
	grep -q '^READY=1' "$TEST_DIR/notified"
	grep -q 'listening on a socket passed by systemd' "$TEST_DIR/act.log"
	# A clean exit on SIGTERM, and no sanitizer report (make check runs the ASan build).
	kill "$ACT_PID"
	wait "$ACT_PID"
	ACT_PID=
	run ! grep -qE "$SANITIZER_REPORT" "$TEST_DIR/act.log"
}
