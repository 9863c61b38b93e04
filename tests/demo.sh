#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make demo: start pyprobed on a private socket, start an I/O-bound and a
# CPU-bound Python workload, print `pyprobe classify` for each, clean up.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${O:-$TOP/.output}
PY=${PYTHON:-/usr/bin/python3}
dir=$(mktemp -d /tmp/pyprobe-demo.XXXXXX)
pids=()

cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then
	echo "demo: run as root: pyprobed loads eBPF programs" >&2
	exit 1
fi

"$BIN/pyprobed" --foreground --socket "$dir/sock" 2>"$dir/pyprobed.log" &
pids+=($!)
for _ in $(seq 100); do
	[ -S "$dir/sock" ] && break
	sleep 0.05
done
[ -S "$dir/sock" ] || { cat "$dir/pyprobed.log" >&2; exit 1; }

# start NAME: run a workload, wait until it is ready, print its PID.
start() {
	local out=$dir/$1.out
	PYPROBE_WORKLOAD_SECONDS=60 "$PY" "$TOP/tests/workloads/$1.py" >"$out" 2>&1 &
	pids+=($!)
	for _ in $(seq 200); do
		grep -q '^ready' "$out" && break
		sleep 0.05
	done
	awk '/^ready/ { print $2; exit }' "$out"
}

io=$(start net_io)
cpu=$(start cpu_python)
sleep 0.5
echo "=== pyprobe classify $io    (threads talking to a slow server over loopback)"
"$BIN/pyprobe" --socket "$dir/sock" classify "$io" --seconds 3
echo
echo "=== pyprobe classify $cpu    (a pure-Python loop)"
"$BIN/pyprobe" --socket "$dir/sock" classify "$cpu" --seconds 3
