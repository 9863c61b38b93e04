#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Targets in containers, built with unshare and chroot (no runtime needed): new PID and mount
# namespaces whose root holds the interpreter at a path the host does not have; a PID
# namespace inside another; an interpreter file deleted and replaced after the start (an
# upgrade); a daemon without map_files; a watch rule by cgroup, and container labels.

source "$(dirname "$BATS_TEST_FILENAME")/../helpers.bash"

setup_file() {
	start_daemon
	ROOTS=$TEST_DIR/roots
	mkdir -p "$ROOTS"
	export ROOTS
}

teardown_file() {
	stop_daemon
}

teardown() {
	stop_contained
	stop_workload
	[ -n "${CGROUP:-}" ] && rmdir "$CGROUP" "${CGROUP%/*}" 2>/dev/null
	[ -n "${EXTRA_DAEMON:-}" ] && kill "$EXTRA_DAEMON" 2>/dev/null
	true
}

# root_for PY: a root with PY in it (made once per interpreter); sets ROOT and CPY (its path inside).
root_for() {
	local name
	name=$(echo "$1" | tr / _)
	ROOT=$ROOTS/$name
	if [ ! -s "$ROOT.py" ]; then
		make_root "$ROOT" "$1" >"$ROOT.py"
	fi
	CPY=$(cat "$ROOT.py")
}

# contained_gc ROOT PY: gc_timed's burst in the container inside a gc window; leaves the reply in
# $output and the workload's own "count total g0 g1 g2 stall gen2_total" in $TRUTH.
contained_gc() {
	local root=$1 py=$2
	rm -f "$root/tmp/gc-truth"
	# The workload writes /tmp/gc-truth in its root: the host sees it under ROOT.
	start_contained "$root" "$py" gc_timed /tmp/gc-truth 40
	gc_window_burst "$WL_PID" "$root/tmp/gc-truth" gc --seconds 6
	stop_contained
}

# in_container_checks PY: classify, top, gc, attrs, churn and record on PY in its container,
# with the host suite's assertions; appends to failed[].
in_container_checks() {
	local py=$1 tag=$2 hot_line lookup_line alloc_line n total g0 g1 g2 rest sum
	hot_line=$(grep -n 'HOT LINE' "$WORKLOADS/hot_function.py" | cut -d: -f1)
	lookup_line=$(grep -n '# LOOKUP LINE' "$WORKLOADS/attr_calls.py" | cut -d: -f1)
	alloc_line=$(grep -n '# ALLOC LINE' "$WORKLOADS/churn.py" | cut -d: -f1)
	root_for "$py"

	start_contained "$ROOT" "$CPY" cpu_python
	run_pyprobe classify "$WL_PID" --seconds 2 --json
	echo "# $tag $py: classify $(json_get '[.verdict.label, .placement.ns_pid, .placement.binary_opened_through] | @tsv') ns_tid $(json_get '[.threads[] | .ns_tid] | tostring')" >&3
	[ "$(json_get .verdict.label)" = cpu-bound-python ] || failed+=("$tag $py: label $(json_get .verdict.label)")
	[ "$(json_get .placement.ns_pid)" = "$WL_NSPID" ] || failed+=("$tag $py: ns_pid $(json_get .placement.ns_pid) != $WL_NSPID")
	[ "$(json_get .placement.own_root)" = true ] || failed+=("$tag $py: own_root $(json_get .placement.own_root)")
	[ "$(json_get .placement.binary_opened_through)" = map_files ] ||
		failed+=("$tag $py: opened through $(json_get .placement.binary_opened_through)")
	[ "$(json_get "[.threads[] | select(.tid == $WL_PID)][0].ns_tid")" = "$WL_NSPID" ] ||
		failed+=("$tag $py: main thread ns_tid $(json_get "[.threads[] | select(.tid == $WL_PID)][0].ns_tid")")
	[[ $(json_get .python.binary) == "$ROOT"/opt/cpython/* ]] || failed+=("$tag $py: binary $(json_get .python.binary)")
	stop_contained

	start_contained "$ROOT" "$CPY" hot_function
	run_pyprobe top "$WL_PID" --seconds 2 --json
	[ "$(json_get '.profile.functions_by_self[0].function')" = hot_loop ] ||
		failed+=("$tag $py: top function $(json_get '.profile.functions_by_self[0].function')")
	# The file as the process knows it, inside its root.
	[ "$(json_get '.profile.functions_by_self[0].file')" = /work/hot_function.py ] ||
		failed+=("$tag $py: file $(json_get '.profile.functions_by_self[0].file')")
	[ "$(json_get '.profile.lines[0].line')" = "$hot_line" ] || failed+=("$tag $py: top line $(json_get '.profile.lines[0].line')")
	run_pyprobe record "$WL_PID" --seconds 1 -o "$TEST_DIR/c.folded"
	n=$(sed -n 's/^pyprobe: \([0-9]*\) samples.*/\1/p' <<<"$output")
	sum=$(awk '{ s += $NF } END { print s + 0 }' "$TEST_DIR/c.folded")
	grep -q '^<module> (/work/hot_function.py:[0-9]*);hot_loop (/work/hot_function.py:13) [0-9]*$' "$TEST_DIR/c.folded" ||
		failed+=("$tag $py: record: no hot_loop stack in $(head -c 300 "$TEST_DIR/c.folded")")
	[ "${n:-0}" -ge 10 ] && [ "$sum" -le "$n" ] && [ "$((sum * 10))" -ge "$((n * 9))" ] ||
		failed+=("$tag $py: record: $sum of ${n:-?} samples in folded stacks")
	stop_contained

	contained_gc "$ROOT" "$CPY"
	read -r n total g0 g1 g2 rest <<<"$TRUTH"
	echo "# $tag $py: gc truth $n collections; pyprobe $(json_get '[.gc.method, .gc.attach, .gc.all.collections, .gc.all.timed] | @tsv')" >&3
	[[ $(json_get .gc.method) == @(uprobe|usdt) ]] || failed+=("$tag $py: gc method $(json_get .gc.method)")
	[ "$(json_get .gc.all.collections)" = "$n" ] || failed+=("$tag $py: gc count $(json_get .gc.all.collections) != $n")
	[ "$(json_get .gc.all.timed)" = "$n" ] || failed+=("$tag $py: gc timed $(json_get .gc.all.timed) != $n")

	start_contained "$ROOT" "$CPY" attr_calls
	run_pyprobe attrs "$WL_PID" --seconds 2 --json
	[ "$(json_get '.attrs.spots[0].name')" = method ] || failed+=("$tag $py: attrs top $(json_get '.attrs.spots[0].name')")
	[ "$(json_get '.attrs.spots[0].line')" = "$lookup_line" ] || failed+=("$tag $py: attrs line $(json_get '.attrs.spots[0].line')")
	stop_contained

	start_contained "$ROOT" "$CPY" churn alloc
	run_pyprobe churn "$WL_PID" --seconds 2 --json
	[ "$(json_get '.churn.lines[0].line')" = "$alloc_line" ] || failed+=("$tag $py: churn line $(json_get '.churn.lines[0].line')")
	stop_contained
}

@test "in new PID and mount namespaces, chrooted: classify, top, record, gc, attrs and churn as on the host, on every interpreter" {
	need_root
	local py failed=()
	# (the Debian root's interpreters run chrooted already: 020-130 cover them)
	mapfile -t PYS < <(host_interpreters)
	for py in "${PYS[@]}"; do
		in_container_checks "$py" container
	done
	echo "# covered: ${PYS[*]}" >&3
	if [ "${#failed[@]}" -gt 0 ]; then
		printf '%s\n' "${failed[@]}"
		return 1
	fi
}

@test "a PID namespace inside another: the innermost numbers, the same answers" {
	need_root
	local py failed=() nspid
	export NESTED=1
	while read -r py; do
		root_for "$py"
		start_contained "$ROOT" "$CPY" gil_threads
		nspid=$(awk '/^NSpid:/ { print NF - 1 }' "/proc/$WL_PID/status")
		[ "$nspid" = 3 ] || failed+=("$py: $nspid PID namespaces, not 3")
		run_pyprobe classify "$WL_PID" --seconds 2 --json
		echo "# nested $py: $(json_get '[.verdict.label, .placement.ns_pid] | @tsv') ns_tids $(json_get '[.threads[].ns_tid] | tostring')" >&3
		[ "$(json_get .verdict.label)" = gil-contended ] || failed+=("$py: label $(json_get .verdict.label)")
		[ "$(json_get .placement.ns_pid)" = "$WL_NSPID" ] || failed+=("$py: ns_pid $(json_get .placement.ns_pid)")
		# Every live thread has its namespace's tid, small numbers beside the host's.
		[ "$(json_get '[.threads[] | select(.exited | not) | .ns_tid // 0 | select(. < 1 or . > 100)] | length')" = 0 ] ||
			failed+=("$py: ns_tid $(json_get '[.threads[] | [.tid, .ns_tid]] | tostring')")
		stop_contained
		contained_gc "$ROOT" "$CPY"
		[ "$(json_get .gc.all.timed)" = "$(cut -d' ' -f1 <<<"$TRUTH")" ] ||
			failed+=("$py: gc timed $(json_get .gc.all.timed) != truth $TRUTH")
	done < <(sweep_interpreters host_interpreters)
	unset NESTED
	if [ "${#failed[@]}" -gt 0 ]; then
		printf '%s\n' "${failed[@]}"
		return 1
	fi
}

# upgraded_copy PY DIR: a private copy of PY's interpreter file (libpython when shared, else the
# executable) in DIR, and how to run PY on it; sets UPY and UPREFIX (start_workload's
# interpreter and WL_PREFIX), UFILE (the file).
upgraded_copy() {
	local py=$1 dir=$2 prefix lib ver
	prefix=$("$py" -c 'import sys; print(sys.base_prefix)')
	ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	mkdir -p "$dir"
	lib=$(ls "$prefix"/lib/libpython"$ver"*.so.1.0 2>/dev/null | head -1)
	if [ -n "$lib" ]; then
		cp "$lib" "$dir/"
		UFILE=$dir/${lib##*/}
		UPREFIX="env LD_LIBRARY_PATH=$dir"
		UPY=$py
	else
		cp "$(readlink -f "$py")" "$dir/python$ver"
		UFILE=$dir/python$ver
		UPREFIX=
		UPY=$UFILE
	fi
}

@test "an interpreter file deleted and replaced after the process started (an upgrade): read from the mapping" {
	need_root
	local py failed=() n
	for py in /usr/bin/python3 "$(newest_interpreter)"; do
		rm -rf "$TEST_DIR/upg"
		upgraded_copy "$py" "$TEST_DIR/upg"
		WL_PREFIX=$UPREFIX start_workload "$UPY" hot_function
		# The upgrade: the old file unlinked, another in its place (here: not even an ELF).
		rm "$UFILE"
		printf 'not the interpreter you mapped\n' >"$UFILE"
		grep -q "$UFILE (deleted)" "/proc/$WL_PID/maps" || failed+=("$py: maps do not say deleted")
		run_pyprobe top "$WL_PID" --seconds 2 --json
		echo "# upgraded $py: $(json_get '[.python.binary, .placement.binary_deleted, .placement.binary_opened_through, .profile.functions_by_self[0].function] | @tsv')" >&3
		[ "$(json_get '.profile.functions_by_self[0].function')" = hot_loop ] || failed+=("$py: top $output")
		[ "$(json_get .placement.binary_deleted)" = true ] || failed+=("$py: binary_deleted $(json_get .placement.binary_deleted)")
		[ "$(json_get .python.binary)" = "$UFILE" ] || failed+=("$py: binary $(json_get .python.binary)")
		stop_workload
		# GC probes attach to the mapped file, not to what now has its name.
		rm -f "$UFILE"
		upgraded_copy "$py" "$TEST_DIR/upg"
		local res=$TEST_DIR/upg/truth
		WL_PREFIX=$UPREFIX start_workload "$UPY" gc_timed "$res" 40
		rm "$UFILE"
		printf 'replaced\n' >"$UFILE"
		gc_window_burst "$WL_PID" "$res" gc --seconds 8
		n=$(cut -d' ' -f1 <<<"$TRUTH")
		echo "# upgraded $py: gc truth $n, pyprobe $(json_get '[.gc.method, .gc.all.timed] | @tsv')" >&3
		[ "$(json_get .gc.all.timed)" = "$n" ] || failed+=("$py: gc timed $(json_get .gc.all.timed) != $n")
		stop_workload
	done
	if [ "${#failed[@]}" -gt 0 ]; then
		printf '%s\n' "${failed[@]}"
		return 1
	fi
}

@test "without map_files (no CAP_CHECKPOINT_RESTORE): a container's root still works, a replaced file is a clear error" {
	need_root
	command -v capsh >/dev/null || skip "capsh (libcap2-bin) not installed"
	local sock=$TEST_DIR/nocap.sock py=/usr/bin/python3
	capsh --drop=cap_sys_admin,cap_checkpoint_restore -- -c \
		"exec '$BIN/pyprobed' --foreground --socket '$sock' --config '$TEST_DIR/empty.conf'" \
		2>"$TEST_DIR/nocap.log" 3>&- &
	EXTRA_DAEMON=$!
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	[ -S "$sock" ] || { cat "$TEST_DIR/nocap.log"; return 1; }
	root_for "$py"
	start_contained "$ROOT" "$CPY" cpu_python
	run -0 timeout 60 "$BIN/pyprobe" --socket "$sock" classify "$WL_PID" --seconds 1 --json
	echo "# no map_files, container: $(json_get '[.verdict.label, .placement.binary_opened_through] | @tsv')" >&3
	[ "$(json_get .verdict.label)" = cpu-bound-python ]
	# The chroot shares the host's mount namespace: the host path is the file, inode checked.
	[ "$(json_get .placement.binary_opened_through)" = host ]
	stop_contained
	rm -rf "$TEST_DIR/upg2"
	upgraded_copy "$py" "$TEST_DIR/upg2"
	WL_PREFIX=$UPREFIX start_workload "$UPY" cpu_python
	rm "$UFILE"
	cp "$(readlink -f "$py")" "$UFILE"	# the same bytes, another file: still not the mapped one
	run -1 timeout 60 "$BIN/pyprobe" --socket "$sock" classify "$WL_PID" --seconds 1 --json
	echo "# no map_files, replaced: $(json_get .error.code): $(json_get .error.message)" >&3
	[ "$(json_get .error.code)" = binary-unreadable ]
	[[ $(json_get .error.message) == *"deleted or replaced on disk"*CAP_CHECKPOINT_RESTORE* ]]
	kill "$EXTRA_DAEMON"
	wait "$EXTRA_DAEMON" || true
	EXTRA_DAEMON=
	run ! grep -qE "$SANITIZER_REPORT" "$TEST_DIR/nocap.log"
}

@test "watch = cgroup: a process started later in a fresh cgroup is watched; container labels in replies and metrics" {
	need_root
	local id=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef h parent port sock conf
	local py=/usr/bin/python3 out
	parent=pyprobe-test-$$
	for h in /sys/fs/cgroup /sys/fs/cgroup/unified; do
		[ -f "$h/cgroup.procs" ] && mkdir -p "$h/$parent/docker-$id.scope" 2>/dev/null && break
		h=
	done
	[ -n "$h" ] || { echo "no writable cgroup v2 hierarchy"; return 1; }
	CGROUP=$h/$parent/docker-$id.scope
	port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	sock=$TEST_DIR/cg.sock
	conf=$TEST_DIR/cg.conf
	printf 'window = 1\nmetrics = %s\nwatch = cgroup /%s\n' "$port" "$parent" >"$conf"
	"$BIN/pyprobed" --foreground --socket "$sock" --config "$conf" 2>"$TEST_DIR/cg.log" 3>&- &
	EXTRA_DAEMON=$!
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	[ -S "$sock" ]
	# Started after the daemon, moved into the cgroup before it executes Python (as runtimes do).
	out=$TEST_DIR/cg.out
	sh -c "echo \$\$ >'$CGROUP/cgroup.procs' && exec '$py' '$WORKLOADS/cpu_python.py'" >"$out" 2>&1 3>&- &
	WL_PID=$!
	for _ in $(seq 100); do grep -q '^ready' "$out" && break; sleep 0.1; done
	grep -q "$parent/docker-$id.scope" "/proc/$WL_PID/cgroup"
	for _ in $(seq 75); do
		run timeout 10 "$BIN/pyprobe" --socket "$sock" list --json
		[ "$(json_get "[.sessions[] | select(.pid == $WL_PID and .watch.label != null)] | length")" = 1 ] && break
		sleep 0.2
	done
	echo "# list: $(json_get "[.sessions[] | select(.pid == $WL_PID) | [.watch.rule, .watch.label, .placement.container]] | tostring")" >&3
	[ "$(json_get "[.sessions[] | select(.pid == $WL_PID)][0].watch.rule")" = "cgroup:/$parent" ]
	[ "$(json_get "[.sessions[] | select(.pid == $WL_PID)][0].placement.container")" = "$id" ]
	[[ $(json_get "[.sessions[] | select(.pid == $WL_PID)][0].placement.cgroup") == */$parent/docker-$id.scope ]]
	run -0 curl -sf "http://127.0.0.1:$port/metrics"
	echo "# $(grep '^pyprobe_process_info' <<<"$output")" >&3
	grep -q "^pyprobe_process_info{pid=\"$WL_PID\",rule=\"cgroup:/$parent\",container=\"${id:0:12}\"," <<<"$output"
	# Every series of the process carries it.
	[ "$(grep -c "pid=\"$WL_PID\"" <<<"$output")" = "$(grep -c "pid=\"$WL_PID\",rule=\"cgroup:/$parent\",container=\"${id:0:12}\"" <<<"$output")" ]
	kill "$WL_PID"
	wait "$WL_PID" 2>/dev/null || true
	WL_PID=
	rmdir "$CGROUP" "$h/$parent" 2>/dev/null || true
	kill "$EXTRA_DAEMON"
	wait "$EXTRA_DAEMON" || true
	EXTRA_DAEMON=
	run ! grep -qE "$SANITIZER_REPORT" "$TEST_DIR/cg.log"
}
