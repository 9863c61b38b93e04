# SPDX-License-Identifier: MIT
# Shared by the bats files: binaries, the daemon under test, workloads, interpreters.

bats_require_minimum_version 1.5.0

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${PYPROBE_BIN:-$TOP/.output}
WORKLOADS=$TOP/tests/workloads
# make check runs the suite against an ASan/UBSan build: a report fails the test that caused it.
SANITIZER_REPORT='ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer'
# sanitized: the binaries are that build (memory figures then include ASan's allocator and shadow).
sanitized() { ldd "$BIN/pyprobed" 2>/dev/null | grep -q libasan; }

# run_pyprobe [-N] ARGS...: run the CLI with a timeout against the test daemon.
run_pyprobe() {
	local want=()
	if [[ $1 =~ ^-[0-9]+$ ]]; then
		want=("$1")
		shift
	fi
	echo "# pyprobe $*" >&3
	run "${want[@]}" timeout 120 "$BIN/pyprobe" --socket "$SOCK" "$@" 3>&-
	if grep -qE "$SANITIZER_REPORT" <<<"$output"; then
		echo "$output"
		return 1
	fi
}

# Every CPython on the machine: Debian's python3 and each pyenv 3.x.
interpreters() {
	local root v
	[ -x /usr/bin/python3 ] && echo /usr/bin/python3
	root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
	for v in "$root"/versions/3.*; do
		[ -d "$v" ] || continue
		v=${v##*/}
		# bin/python3.X, not the python3.Xm alias of 3.6/3.7
		ls "$root/versions/$v/bin/python${v%.*}" 2>/dev/null
	done
}

need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (eBPF)"
	[ -r /sys/kernel/btf/vmlinux ] || skip "kernel without BTF"
}

# start_daemon: pyprobed on a private socket; sets SOCK, DAEMON_PID, DAEMON_LOG.
start_daemon() {
	need_root
	TEST_DIR=$(mktemp -d /tmp/pyprobe-test.XXXXXX)
	chmod 755 "$TEST_DIR"
	SOCK=$TEST_DIR/pyprobed.sock
	DAEMON_LOG=$TEST_DIR/pyprobed.log
	# The machine's /etc/pyprobe/pyprobed.conf must not change what a test sees.
	[[ " $* " == *" --config "* ]] || { : >"$TEST_DIR/empty.conf" && set -- --config "$TEST_DIR/empty.conf" "$@"; }
	"$BIN/pyprobed" --foreground --socket "$SOCK" "$@" 2>"$DAEMON_LOG" 3>&- &
	DAEMON_PID=$!
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && break
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	[ -S "$SOCK" ] || { cat "$DAEMON_LOG" >&2; return 1; }
	export SOCK DAEMON_PID DAEMON_LOG TEST_DIR
}

# stop_daemon: fails, showing the log, when pyprobed did not exit 0 on SIGTERM (a sanitizer
# aborts it, a leak found at exit too) or its log holds a sanitizer report.
stop_daemon() {
	local rc=0 st=0
	if [ -n "${DAEMON_PID:-}" ] && kill "$DAEMON_PID" 2>/dev/null; then
		wait "$DAEMON_PID" 2>/dev/null || st=$?
		# 127: not this shell's child, its status is unknown
		[ "$st" = 0 ] || [ "$st" = 127 ] || { echo "pyprobed exited with status $st"; rc=1; }
	fi
	[ -n "${DAEMON_LOG:-}" ] && grep -qE "$SANITIZER_REPORT" "$DAEMON_LOG" 2>/dev/null && rc=1
	[ "$rc" = 0 ] || tail -n 100 "$DAEMON_LOG" 2>/dev/null
	DAEMON_PID=
	[ -n "${TEST_DIR:-}" ] && rm -rf "$TEST_DIR"
	return "$rc"
}

# start_workload PYTHON NAME [ARGS...]: run tests/workloads/NAME.py until it says
# "ready"; sets WL_PID. Extra env: WL_PREFIX (e.g. "setpriv ...") runs it as another user.
start_workload() {
	local py=$1 name=$2 out dir=$WORKLOADS
	shift 2
	out=$(mktemp "${TEST_DIR:-/tmp}/wl.XXXXXX")
	if [ -n "${WL_PREFIX:-}" ]; then
		# Another user may not be able to read the checkout: give it a readable copy.
		dir=$TEST_DIR/workloads
		[ -d "$dir" ] || { cp -r "$WORKLOADS" "$dir" && chmod -R a+rX "$dir"; }
	fi
	${WL_PREFIX:-} "$py" "$dir/$name.py" "$@" >"$out" 2>&1 3>&- &
	WL_PID=$!
	for _ in $(seq 200); do
		grep -q '^ready' "$out" && break
		kill -0 "$WL_PID" 2>/dev/null || break
		sleep 0.05
	done
	if ! grep -q '^ready' "$out"; then
		echo "workload $name under $py did not start:" >&2
		cat "$out" >&2
		return 1
	fi
	# The ready line names the PID that runs Python (a prefix such as setpriv execs it).
	WL_PID=$(awk '/^ready/ { print $2; exit }' "$out")
	WL_OUT=$out
	sleep 0.3	# steady state
}

stop_workload() {
	[ -n "${WL_PID:-}" ] && kill "$WL_PID" 2>/dev/null
	WL_PID=
	true
}

# json_get FILTER: apply jq to $output.
json_get() {
	jq -r "$@" <<<"$output"
}

# Interpreters for the long sweeps (10-window stability): Debian's, the oldest and the newest
# (every one with PYPROBE_FULL=1, as make check-full sets).
sweep_interpreters() {
	local all
	mapfile -t all < <(interpreters)
	if [ "${PYPROBE_FULL:-0}" = 1 ] || [ "${#all[@]}" -le 3 ]; then
		printf '%s\n' "${all[@]}"
		return
	fi
	{
		echo "${all[0]}"
		printf '%s\n' "${all[@]:1}" | sort -V | sed -n '1p;$p'
	} | awk '!seen[$0]++'
}

# newest_interpreter: the newest pyenv CPython (by version), else Debian's.
newest_interpreter() {
	local all
	mapfile -t all < <(interpreters)
	if [ "${#all[@]}" -gt 1 ]; then
		printf '%s\n' "${all[@]:1}" | sort -V | tail -1
	else
		echo "${all[0]}"
	fi
}
