# SPDX-License-Identifier: MIT
# Shared by the bats files: binaries, the daemon under test, workloads, interpreters.

bats_require_minimum_version 1.5.0

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${PYPROBE_BIN:-$TOP/.output}
WORKLOADS=$TOP/tests/workloads
# tools/debian-root.sh's cache: bin/python3.N wrappers (sid: 3.14, 3.15; trixie: 3.13), SUITE.unavailable when one could not build.
ROOTS_DIR=${PYPROBE_ROOTS:-/var/cache/pyprobe/test-roots}
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

# Every CPython on the machine: Debian's python3, each pyenv 3.x and the cached Debian root's
# (PYPROBE_INTERPRETERS: an extended regex to run a subset, for development).
interpreters() {
	local root v
	{
		[ -x /usr/bin/python3 ] && echo /usr/bin/python3
		root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
		for v in "$root"/versions/3.*; do
			[ -d "$v" ] || continue
			v=${v##*/}
			# bin/python3.X, not the python3.Xm alias of 3.6/3.7
			ls "$root/versions/$v/bin/python${v%.*}" 2>/dev/null
		done
		# The newest, in the Debian root tools/debian-root.sh caches (chrooted by the wrapper).
		for v in "$ROOTS_DIR"/bin/python3.*; do
			[ -x "$v" ] && echo "$v"
		done
	} | grep -E -- "${PYPROBE_INTERPRETERS:-.}"
}

# Interpreters a test can copy into a root of its own (not those already in one).
host_interpreters() {
	interpreters | grep -v -- "^$ROOTS_DIR/"
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

# wait_ready FILE PID: until the process PID writing FILE says "ready" (10 s); a handshake,
# not a guess at how long its start takes.
wait_ready() {
	for _ in $(seq 200); do
		grep -q '^ready' "$1" && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.05
	done
	cat "$1" >&2
	return 1
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
	wait_ready "$out" "$WL_PID" || { echo "workload $name under $py did not start (above)" >&2; return 1; }
	# The ready line names the PID that runs Python (a prefix such as setpriv execs it).
	WL_PID=$(awk '/^ready/ { print $2; exit }' "$out")
	WL_OUT=$out
	sleep 0.3	# steady state
}

stop_workload() {
	[ -n "${WL_PID:-}" ] && kill "$WL_PID" 2>/dev/null
	[ "${#TOGETHER[@]}" -gt 0 ] && kill "${TOGETHER[@]}" 2>/dev/null
	WL_PID=
	TOGETHER=()
	true
}

# start_together WORKLOAD [ARGS...]: the workload under every interpreter of PYS, all running at
# once (for workloads that hardly use a CPU: idle and I/O-bound ones); TOGETHER[i] is the PID
# under PYS[i]. stop_workload stops them all.
TOGETHER=()
start_together() {
	local py
	TOGETHER=()
	for py in "${PYS[@]}"; do
		add_together "$py" "$@" || return 1
	done
}

# add_together PYTHON NAME [ARGS...]: start_workload, its PID appended to TOGETHER (not WL_PID).
add_together() {
	start_workload "$@" || return 1
	TOGETHER+=("$WL_PID")
	WL_PID=
}

# pyprobe_together COMMAND ARGS...: pyprobe COMMAND PID ARGS for every TOGETHER process in the
# same window, one request each, all at once; REPLIES[i] is the reply for TOGETHER[i].
pyprobe_together() {
	local i cmd=$1 jobs=()
	shift
	REPLIES=()
	for i in "${!TOGETHER[@]}"; do
		timeout 120 "$BIN/pyprobe" --socket "$SOCK" "$cmd" "${TOGETHER[$i]}" "$@" >"$TEST_DIR/together.$i" 2>&1 3>&- &
		jobs+=("$!")
	done
	wait "${jobs[@]}" || true
	for i in "${!TOGETHER[@]}"; do
		REPLIES[i]=$(<"$TEST_DIR/together.$i")
		if grep -qE "$SANITIZER_REPORT" <<<"${REPLIES[i]}"; then
			echo "${REPLIES[i]}"
			return 1
		fi
	done
}

# json_get FILTER: apply jq to $output.
json_get() {
	jq -r "$@" <<<"$output"
}

# each_interpreter FN [LISTFN]: FN PY for every interpreter (of LISTFN: sweep_interpreters);
# failures are collected, all are run.
each_interpreter() {
	local fn=$1 py failed=()
	mapfile -t PYS < <("${2:-interpreters}")
	[ "${#PYS[@]}" -gt 0 ]
	for py in "${PYS[@]}"; do
		"$fn" "$py" || failed+=("$py")
		stop_workload
	done
	echo "# ${#PYS[@]} interpreters" >&3
	if [ "${#failed[@]}" -gt 0 ]; then
		echo "failed on: ${failed[*]}"
		return 1
	fi
}

# wl_line KEY: the first value the workload printed as "KEY value".
wl_line() {
	awk -v k="$1" '$1 == k { print $2; exit }' "$WL_OUT"
}

# make_unit_cgroup NAME: a cgroup named like a systemd unit in a writable hierarchy.
make_unit_cgroup() {
	local h
	for h in /sys/fs/cgroup /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do
		[ -f "$h/cgroup.procs" ] || continue
		mkdir "$h/$1" 2>/dev/null || continue
		CGROUP=$h/$1
		return 0
	done
	echo "no writable cgroup hierarchy to make $1 in" >&2
	return 1
}

# Interpreters for the long sweeps (10-window stability): Debian's, the oldest and the newest
# (every one with PYPROBE_FULL=1, as make check-full sets) of interpreters, or of the list
# function given (host_interpreters).
sweep_interpreters() {
	local all
	mapfile -t all < <("${1:-interpreters}")
	if [ "${PYPROBE_FULL:-0}" = 1 ] || [ "${#all[@]}" -le 3 ]; then
		printf '%s\n' "${all[@]}"
		return
	fi
	{
		echo "${all[0]}"
		# oldest and newest by the interpreter's name (python3.6 ... python3.15), wherever it lives
		printf '%s\n' "${all[@]:1}" | awk -F/ '{ print $NF "\t" $0 }' | sort -V | cut -f2 | sed -n '1p;$p'
	} | awk '!seen[$0]++'
}

# newest_interpreter: the newest pyenv CPython (by version), else Debian's.
newest_interpreter() {
	local all
	mapfile -t all < <(host_interpreters)
	if [ "${#all[@]}" -gt 1 ]; then
		printf '%s\n' "${all[@]:1}" | sort -V | tail -1
	else
		echo "${all[0]}"
	fi
}

# make_root ROOT PYTHON: a root directory for a "container" holding PYTHON at a path that
# does not exist on the host (/opt/cpython/bin/pythonX.Y, its standard library beside it), the
# system libraries it and its extension modules need, and the workloads in /work. Files are
# hard links where the file system allows (cheap), copies elsewhere. Prints the interpreter's
# path inside ROOT.
make_root() {
	local root=$1 py=$2 real prefix ver stdlib lib f
	real=$(readlink -f "$py")
	ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	mkdir -p "$root"/{opt/cpython/bin,opt/cpython/lib,work,tmp,proc,dev,lib64,usr/lib/x86_64-linux-gnu}
	chmod 1777 "$root/tmp"
	ln -sfn usr/lib "$root/lib"
	cp -al "$WORKLOADS"/. "$root/work/" 2>/dev/null || cp -a "$WORKLOADS"/. "$root/work/"
	cp -al "$real" "$root/opt/cpython/bin/python$ver" 2>/dev/null || cp -a "$real" "$root/opt/cpython/bin/python$ver"
	stdlib=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
	cp -al "$stdlib" "$root/opt/cpython/lib/python$ver" 2>/dev/null || cp -a "$stdlib" "$root/opt/cpython/lib/python$ver"
	rm -rf "$root/opt/cpython/lib/python$ver/test" "$root/opt/cpython/lib/python$ver/site-packages"
	# Debian keeps the extension modules beside the standard library; pyenv inside it.
	prefix=$("$py" -c 'import sys; print(sys.base_prefix)')
	for lib in "$prefix"/lib/libpython"$ver"*.so*; do
		[ -e "$lib" ] && { cp -al "$lib" "$root/opt/cpython/lib/" 2>/dev/null || cp -a "$lib" "$root/opt/cpython/lib/"; }
	done
	# The shared libraries of the interpreter and of every extension module.
	for f in "$real" "$root/opt/cpython/lib"/libpython*.so* "$root/opt/cpython/lib/python$ver"/lib-dynload/*.so; do
		[ -e "$f" ] || continue
		LD_LIBRARY_PATH=$prefix/lib ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'
	done | sort -u | while read -r lib; do
		case "$lib" in "$prefix"/*) continue ;; esac
		cp -aL "$lib" "$root/usr/lib/x86_64-linux-gnu/${lib##*/}" 2>/dev/null || true
	done
	cp -aL /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
	echo "/opt/cpython/bin/python$ver"
}

# start_contained ROOT PY NAME [ARGS...]: run workload NAME in new PID and mount namespaces,
# chrooted into ROOT (make_root), as a container runtime would: the interpreter is the
# namespace's PID 1. NESTED=1 puts it in a PID namespace inside another. Sets WL_PID (the
# host PID of the interpreter), WL_NSPID (its PID inside), WL_LAUNCHER (unshare, whose end
# kills the namespace).
start_contained() {
	local root=$1 py=$2 name=$3 out inner cmd p
	shift 3
	out=$(mktemp "${TEST_DIR:-/tmp}/wl.XXXXXX")
	inner="mount -t proc proc '$root/proc' && mount --rbind /dev '$root/dev' && LD_LIBRARY_PATH=/opt/cpython/lib PYTHONDONTWRITEBYTECODE=1 exec chroot '$root' $py /work/$name.py $*"
	if [ "${NESTED:-0}" = 1 ]; then
		cmd="mount -t proc proc /proc && exec unshare --pid --mount --fork --kill-child sh -c \"$inner\""
	else
		cmd=$inner
	fi
	unshare --pid --mount --fork --kill-child --propagation private sh -c "$cmd" >"$out" 2>&1 3>&- &
	WL_LAUNCHER=$!
	wait_ready "$out" "$WL_LAUNCHER" || { echo "workload $name under $py in $root did not start (above)" >&2; return 1; }
	WL_NSPID=$(awk '/^ready/ { print $2; exit }' "$out")
	# The host PID: the descendant of the launcher running the interpreter.
	WL_PID=
	for p in $(pgrep -f "/work/$name.py"); do
		[[ $(cat "/proc/$p/comm" 2>/dev/null) == python* ]] || continue
		# In a namespace (more than one NSpid field) and numbered there as it said.
		[ "$(awk '/^NSpid:/ { print (NF > 2) ? $NF : "" }' "/proc/$p/status" 2>/dev/null)" = "$WL_NSPID" ] ||
			continue
		WL_PID=$p
		break
	done
	[ -n "$WL_PID" ] || { echo "no host PID for $name (ns PID $WL_NSPID)" >&2; return 1; }
	WL_OUT=$out
	sleep 0.3	# steady state
}

# unshare blocks SIGTERM while its child lives, and a namespace's PID 1 ignores signals it has
# no handler for: SIGKILL both (--kill-child takes whatever else is in the namespace).
stop_contained() {
	[ -n "${WL_PID:-}" ] && [ -n "${WL_LAUNCHER:-}" ] && kill -KILL "$WL_PID" 2>/dev/null
	if [ -n "${WL_LAUNCHER:-}" ] && kill -KILL "$WL_LAUNCHER" 2>/dev/null; then
		wait "$WL_LAUNCHER" 2>/dev/null || true
	fi
	WL_LAUNCHER=
	WL_PID=
	true
}

# wait_listed PID: until the daemon lists PID (a window on it is open), at most 5 s.
wait_listed() {
	for _ in $(seq 250); do
		"$BIN/pyprobe" --socket "$SOCK" list --json 3>&- | grep -q "\"pid\": $1" && return 0
		sleep 0.02
	done
	return 1
}

# gc_window_burst PID TRUTH-FILE CMD...: open `pyprobe CMD PID --json` on a gc_timed.py
# workload, fire its burst of collections (SIGUSR1) once the window is open, wait for the reply;
# leaves the reply in $output and the workload's own "count total g0 g1 g2 stall gen2_total" in
# $TRUTH. The window (--seconds in CMD) must hold the whole burst.
gc_window_burst() {
	local pid=$1 truth=$2 client
	shift 2
	"$BIN/pyprobe" --socket "$SOCK" "$@" "$pid" --json >"$truth.reply" 3>&- &
	client=$!
	wait_listed "$pid"
	kill -USR1 "$pid"
	wait "$client"
	output=$(cat "$truth.reply")
	for _ in $(seq 100); do
		[ -s "$truth" ] && break
		sleep 0.05
	done
	TRUTH=$(cat "$truth")
}
