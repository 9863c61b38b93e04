#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Python 3.15 ships its own sampling profiler (python3.15 -m profiling.sampling attach PID).
# Run it and pyprobe on the same 3.15 process (tools/debian-root.sh's root): the same hot
# lines, and under --mode gil the same threads holding the GIL.

load ../daemon_suite

PEER_PY=$ROOTS_DIR/bin/python3.15

need_peer() {
	if [ ! -x "$PEER_PY" ] && [ -f "$ROOTS_DIR/sid.unavailable" ]; then
		skip "no Python 3.15 here: $(cat "$ROOTS_DIR/sid.unavailable")"
	fi
	[ -x "$PEER_PY" ] || { echo "$PEER_PY is missing: run tools/debian-root.sh"; return 1; }
}

# peer MODE SECONDS OUT: the peer's collapsed stacks of $WL_PID at 1 kHz, every thread. The
# wrapper put the target in a mount namespace of its own, chrooted: the peer runs there too,
# as it would inside the container, so the paths in the target's maps are the ones it can open.
peer() {
	nsenter -t "$WL_PID" -m -r -w /usr/bin/python3.15 -m profiling.sampling attach -r 1000 -d "$2" -a \
		--mode "$1" --collapsed -o "$3" "$WL_PID" >"$3.log" 2>&1
}

# leaf_shares: "file.py:function:line share" per leaf of collapsed stacks on stdin, in either
# tool's notation (the peer's "tid:N;file.py:func:line", pyprobe's "func (/path/file.py:line)").
leaf_shares() {
	awk '{
		n = $NF; $NF = ""; sub(/ +$/, "")
		k = split($0, f, ";"); leaf = f[k]
		if (match(leaf, /^(.*) \((.*):([0-9]+)\)$/)) {
			fn = leaf; sub(/ \(.*$/, "", fn)
			path = leaf; sub(/^.* \(/, "", path); sub(/\)$/, "", path)
			line = path; sub(/^.*:/, "", line); sub(/:[0-9]+$/, "", path); sub(/^.*\//, "", path)
			leaf = path ":" fn ":" line
		}
		c[leaf] += n; total += n
	} END { for (l in c) printf "%s %.4f\n", l, c[l] / total }' | sort -k2,2nr
}

@test "a CPU-bound 3.15 process: pyprobe and Python's own profiler find the same hot lines, in the same shares" {
	need_peer
	local ours theirs l a b n_ours n_theirs failed=()
	start_workload "$PEER_PY" hot_function
	peer cpu 3 "$TEST_DIR/peer.txt" &
	run_pyprobe -0 record "$WL_PID" --seconds 3 -o "$TEST_DIR/ours.folded" --format folded
	wait $! || { cat "$TEST_DIR/peer.txt.log"; return 1; }
	ours=$(leaf_shares <"$TEST_DIR/ours.folded")
	theirs=$(leaf_shares <"$TEST_DIR/peer.txt")
	n_ours=$(awk '{ s += $NF } END { print s }' "$TEST_DIR/ours.folded")
	n_theirs=$(awk '{ s += $NF } END { print s }' "$TEST_DIR/peer.txt")
	echo "# pyprobe ($n_ours samples): $(head -3 <<<"$ours" | tr '\n' ' ')" >&3
	echo "# profiling.sampling ($n_theirs samples): $(head -3 <<<"$theirs" | tr '\n' ' ')" >&3
	[ "$(head -1 <<<"$ours" | cut -d' ' -f1)" = "$(head -1 <<<"$theirs" | cut -d' ' -f1)" ] ||
		failed+=("hot line: pyprobe $(head -1 <<<"$ours"), profiling.sampling $(head -1 <<<"$theirs")")
	[[ $(head -1 <<<"$ours") == hot_function.py:hot_loop:* ]] || failed+=("hot line is not in hot_loop")
	# Every line either tool gives 5% or more: shares within sampling error (three standard
	# errors of the difference, plus 3 points for the windows not being the same instant).
	for l in $(awk '$2 >= 0.05 { print $1 }' <<<"$ours"$'\n'"$theirs" | sort -u); do
		a=$(awk -v l="$l" '$1 == l { print $2 }' <<<"$ours")
		b=$(awk -v l="$l" '$1 == l { print $2 }' <<<"$theirs")
		awk -v a="${a:-0}" -v b="${b:-0}" -v n="$n_ours" -v m="$n_theirs" 'BEGIN {
			p = (a + b) / 2; se = sqrt(p * (1 - p) * (1 / n + 1 / m)); d = a - b; if (d < 0) d = -d
			exit !(d <= 3 * se + 0.03) }' || failed+=("$l: pyprobe ${a:-0}, profiling.sampling ${b:-0}")
	done
	if [ "${#failed[@]}" -gt 0 ]; then
		printf '%s\n' "${failed[@]}"
		return 1
	fi
}

@test "four GIL-bound threads on 3.15: pyprobe's GIL-held samples and the peer's --mode gil name the same threads, in the same shares" {
	need_peer
	local tid a b n_ours n_theirs failed=() k=0
	start_workload "$PEER_PY" gil_threads
	peer gil 3 "$TEST_DIR/peer.txt" &
	run_pyprobe -0 classify "$WL_PID" --seconds 3 --json
	wait $! || { cat "$TEST_DIR/peer.txt.log"; return 1; }
	n_ours=$(json_get '[.threads[].samples.gil] | add')
	n_theirs=$(awk '{ s += $NF } END { print s }' "$TEST_DIR/peer.txt")
	[ "$(json_get .verdict.label)" = gil-contended ] || failed+=("label $(json_get .verdict.label)")
	for tid in $(json_get '.threads[] | select(.utilization > 0.5) | .tid'); do
		a=$(json_get "([.threads[] | select(.tid == $tid)][0].samples.gil) / $n_ours")
		b=$(awk -v t="tid:$tid" -F'[; ]' '$1 == t { s += $NF } { all += $NF } END { print s / all }' "$TEST_DIR/peer.txt")
		echo "# thread $tid holds the GIL in $a of pyprobe's $n_ours GIL samples, $b of the peer's $n_theirs" >&3
		awk -v a="$a" -v b="$b" -v n="$n_ours" 'BEGIN {
			d = a - b; if (d < 0) d = -d; exit !(b > 0.1 && d <= 3 * sqrt(a * (1 - a) / n) + 0.05) }' ||
			failed+=("thread $tid: pyprobe $a, profiling.sampling $b")
		k=$((k + 1))
	done
	[ "$k" = 4 ] || failed+=("$k spinning threads in the reply, not 4")
	# Both see the GIL held in the same function.
	[[ $(leaf_shares <"$TEST_DIR/peer.txt" | head -1) == common.py:spin:* ]] ||
		failed+=("the peer's top GIL-holding line: $(leaf_shares <"$TEST_DIR/peer.txt" | head -1)")
	if [ "${#failed[@]}" -gt 0 ]; then
		printf '%s\n' "${failed[@]}"
		return 1
	fi
}
