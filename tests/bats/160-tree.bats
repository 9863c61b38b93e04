#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Process trees (issue 15, docs/classify.md "Process trees"): classify --tree on a
# pre-fork server, a multiprocessing.Pool, gunicorn under ab; processes that join
# during the window, non-Python members, the max-tree limit, and bad requests.

load ../daemon_suite

# row PID FIELD: a field of the tree reply's row for PID.
row() {
	json_get --argjson p "$1" ".processes[] | select(.pid == \$p) | $2"
}

# A master, one hot worker, three in accept(): every worker found and labelled, the service imbalanced.
prefork() {
	local py=$1 w hot
	start_workload "$py" prefork || return 1
	hot=$(wl_line hot)
	run_pyprobe -0 classify "$WL_PID" --tree --seconds 2 --json || return 1
	echo "# $py: $(json_get -c '[.service.label, .service.summary, [.processes[] | [.pid, .label]]]')" >&3
	[ "$(json_get '.processes | length')" = 5 ] || return 1
	[ "$(row "$WL_PID" .label)" = idle ] || return 1
	[ "$(row "$hot" .label)" = cpu-bound-python ] || return 1
	for w in $(awk '$1 == "workers" { $1 = ""; print }' "$WL_OUT"); do
		[ "$(row "$w" .observed)" = true ] && [ "$(row "$w" .ppid)" = "$WL_PID" ] || return 1
		[ "$w" = "$hot" ] || [ "$(row "$w" .label)" = idle ] || return 1
	done
	[ "$(json_get .service.label)" = imbalanced ] || return 1
	[ "$(json_get .service.hot_pid)" = "$hot" ] || return 1
	[ "$(json_get .service.summary)" = "master idle; 4 workers: 3 idle, 1 cpu-bound-python" ] || return 1
	[[ $(json_get '.service.advice | join(" ")') == *"load-balancing or sticky-request"* ]] || return 1
	# Every member's window ends with the tree's: within 0.3 s of the request's length.
	[ "$(json_get '[.processes[].window_seconds] | (min > 1.7 and max < 2.3)')" = true ]
}

@test "a pre-fork server: --tree finds every worker, names the hot one and calls the service imbalanced, on every interpreter" {
	each_interpreter prefork
}

# stable_tree PY: 10 consecutive 2 s classify --tree windows on a pre-fork server; the service
# imbalanced with the hot worker named, and every row's label right, in at least 9.
stable_tree() {
	local py=$1 hot right=0 seen=() ok
	start_workload "$py" prefork || return 1
	hot=$(wl_line hot)
	for _ in $(seq 10); do
		run_pyprobe classify "$WL_PID" --tree --seconds 2 --json
		ok=$(json_get --argjson h "$hot" '.service.label == "imbalanced" and .service.hot_pid == $h and
			([.processes[] | if .pid == $h then .label == "cpu-bound-python" else .label == "idle" end] | all)')
		seen+=("$(json_get -r '.service.label')")
		[ "$ok" = true ] && right=$((right + 1))
	done
	stop_workload
	echo "# $py: $right of 10 right: ${seen[*]}" >&3
	[ "$right" -ge 9 ]
}

@test "stable tree verdict: 10 consecutive 2 s --tree windows on a pre-fork server, 9 or more imbalanced with every row right (Debian's, the oldest, the newest)" {
	each_interpreter stable_tree sweep_interpreters
}

# big_tree PY: a master and 63 workers, one hot: all 64 observed in one window.
big_tree() {
	local py=$1 hot
	PYPROBE_WORKERS=63 start_workload "$py" prefork || return 1
	hot=$(wl_line hot)
	run_pyprobe -0 classify "$WL_PID" --tree --seconds 2 --json || return 1
	stop_workload
	echo "# $py: $(json_get -c '[.truncated, (.processes | length), ([.processes[] | select(.observed)] | length), .service.summary, ([.processes[].window_seconds] | [min, max])]')" >&3
	[ "$(json_get '.processes | length')" = 64 ] || return 1
	[ "$(json_get '[.processes[] | select(.observed)] | length')" = 64 ] || return 1
	[ "$(json_get .truncated)" = false ] || return 1
	[ "$(json_get .service.hot_pid)" = "$hot" ] || return 1
	[ "$(json_get .service.summary)" = "master idle; 63 workers: 62 idle, 1 cpu-bound-python" ] || return 1
	# Every member's window ends with the tree's, however many attached (attaching 64 one after
	# another takes a while, longer under ASan: the last ones' windows are the shorter).
	[ "$(json_get '[.processes[].window_seconds] | (min > 1.0 and max < 2.3)')" = true ]
}

@test "a tree of 64 processes (the default max-tree): every one observed in one window (Debian's, the oldest, the newest)" {
	each_interpreter big_tree sweep_interpreters
}

@test "a worker forked during the window joins it; a tree's human output has a row per process and the service verdict" {
	# Forked 0.5 s after the window opened (the master is in `list`). A fork timed from "ready"
	# came before the window once, on a CI host slow to start the client.
	PYPROBE_LATE=usr1 start_workload /usr/bin/python3 prefork
	"$BIN/pyprobe" --socket "$SOCK" classify "$WL_PID" --tree --seconds 2.5 --json >"$TEST_DIR/late.reply" 3>&- &
	local cl=$!
	wait_listed "$WL_PID"
	sleep 0.5
	kill -USR1 "$WL_PID"
	wait "$cl"
	output=$(cat "$TEST_DIR/late.reply")
	for _ in $(seq 50); do
		late=$(wl_line late)
		[ -n "$late" ] && break
		sleep 0.05
	done
	[ -n "$late" ]
	echo "# $(json_get -c '[.processes[] | [.pid, .joined_seconds, .window_seconds, .label]]')" >&3
	[ "$(row "$late" .observed)" = true ]
	[ "$(row "$late" .label)" = idle ]
	[ "$(row "$late" '.joined_seconds > 0.2 and .joined_seconds < 2.0')" = true ]
	[ "$(row "$late" '.window_seconds < 2.3')" = true ]
	[ "$(json_get .service.workers)" = 5 ]
	run_pyprobe -0 classify "$WL_PID" --tree --seconds 1
	echo "$output" | head -12 >&3
	[[ $output == *"service: imbalanced (master idle; 5 workers: 4 idle, 1 cpu-bound-python)"* ]]
	[[ $output == *"PID     PPID COMMAND"* ]]
	[ "$(grep -cE '^ +[0-9]+ +[0-9-]+ +python3 +(idle|cpu-bound-python) ' <<<"$output")" = 6 ]
}

pool() {
	local py=$1 w
	PYPROBE_POOL_WORKERS=2 start_workload "$py" pool_parent || return 1
	run_pyprobe -0 classify "$WL_PID" --tree --seconds 2 --json || return 1
	echo "# $py: $(json_get -c '[.service.label, .service.summary, .service.advice[0]]')" >&3
	[ "$(json_get '.processes | length')" = 3 ] || return 1
	for w in $(awk '$1 == "workers" { $1 = ""; print }' "$WL_OUT"); do
		[ "$(row "$w" .label)" = cpu-bound-python ] || return 1
	done
	[ "$(json_get .service.label)" = cpu-bound-python ] || return 1
	[[ $(json_get '.service.advice | join(" ")') == *"Every worker is CPU-bound"* ]]
}

@test "a multiprocessing.Pool computing: every worker cpu-bound-python, advice at the service's level, on every interpreter" {
	each_interpreter pool
}

@test "a non-Python parent is listed, not observed; its Python children are" {
	local sh kids
	sh -c "/usr/bin/python3 $WORKLOADS/sleeping.py & /usr/bin/python3 $WORKLOADS/cpu_python.py & wait" >/dev/null 2>&1 3>&- &
	sh=$!
	for _ in $(seq 50); do
		kids=$(pgrep -P "$sh" | wc -l)
		[ "$kids" = 2 ] && break
		sleep 0.1
	done
	sleep 0.5
	run_pyprobe -0 classify "$sh" --tree --seconds 1 --json
	kill $(pgrep -P "$sh") "$sh" 2>/dev/null || true
	echo "# $(json_get -c '[.service.summary, [.processes[] | [.pid, .observed, .label, .error.code]]]')" >&3
	[ "$(row "$sh" .observed)" = false ]
	[ "$(row "$sh" .error.code)" = not-python ]
	[ "$(json_get '[.processes[] | select(.observed)] | length')" = 2 ]
	[ "$(json_get '[.processes[] | select(.observed) | .label] | sort | join(",")')" = "cpu-bound-python,idle" ]
	[[ $(json_get .service.summary) == "master not observed; 2 workers: "* ]]
}

@test "max-tree bounds the tree and says so" {
	start_workload /usr/bin/python3 prefork
	run_pyprobe -0 classify "$WL_PID" --tree --max-tree 3 --seconds 0.5 --json
	[ "$(json_get '.processes | length')" = 3 ]
	[ "$(json_get .truncated)" = true ]
	[ "$(json_get .max_tree)" = 3 ]
	[[ $(json_get '.service.reasons | join(" ")') == *"more than 3 processes"*"raise max-tree"* ]]
	run_pyprobe -0 classify "$WL_PID" --tree --max-tree 3 --seconds 0.5
	[[ $output == *"the tree has more than 3 processes"* ]]
	run_pyprobe -0 classify "$WL_PID" --tree --seconds 0.5 --json
	[ "$(json_get .truncated)" = false ]
	[ "$(json_get .max_tree)" = 64 ]
}

# top, gc and record over a pre-fork tree: per-process rows, the whole's tables, one profile naming its processes.
tree_commands() {
	local py=$1 hot all n comm
	start_workload "$py" prefork || return 1
	hot=$(wl_line hot)
	run_pyprobe -0 top "$WL_PID" --tree --seconds 1.5 --limit 5 --json || return 1
	echo "# $py top: $(json_get -c '[.profile.samples, .profile.functions_by_self[0].function, [.processes[] | [.pid, .samples, .hottest.function]]]')" >&3
	[ "$(json_get '.processes | length')" = 5 ] || return 1
	all=$(json_get .profile.samples)
	[ "$all" -ge 100 ] || return 1
	# The hot worker's samples are nearly all of them; the whole's hottest function is its.
	[ "$(row "$hot" ".samples >= 0.9 * $all")" = true ] || return 1
	[ "$(row "$hot" .hottest.function)" = hot ] || return 1
	[ "$(json_get '.profile.functions_by_self[0].function')" = hot ] || return 1
	[ "$(json_get '[.processes[].samples] | add')" = "$all" ] || return 1
	[ "$(json_get '[.processes[] | .report.pid == .pid] | all')" = true ] || return 1
	comm=$(row "$hot" .comm)
	# record: every stack under its process's frame (folded), and a pid label (pprof).
	run_pyprobe -0 record "$WL_PID" --tree --seconds 1 -o "$TEST_DIR/tree.folded" || return 1
	head -3 "$TEST_DIR/tree.folded" | cut -c1-160 >&3
	all=$(awk '{ n += $NF } END { print n }' "$TEST_DIR/tree.folded")
	n=$(awk -v p="$comm [$hot];" 'index($0, p) == 1 && /;hot \(/ { n += $NF } END { print n + 0 }' "$TEST_DIR/tree.folded")
	echo "# $py record: $n of $all samples under $comm [$hot] in hot()" >&3
	[ "$all" -ge 50 ] && [ $((n * 10)) -ge $((all * 9)) ] || return 1
	[ "$(grep -vc '^[^;]* \[[0-9]*\];' "$TEST_DIR/tree.folded")" = 0 ] || return 1
	run_pyprobe -0 record "$WL_PID" --tree --seconds 1 -f pprof -o "$TEST_DIR/tree.pb.gz" || return 1
	run go tool pprof -raw "$TEST_DIR/tree.pb.gz"
	[[ $output == *"pid:[$hot]"* ]] || return 1
	run go tool pprof -tagroot=pid -top "$TEST_DIR/tree.pb.gz"
	[[ $output == *" $hot"* ]] || return 1
	stop_workload
	# gc: the collections of the worker that makes garbage, and of no other.
	PYPROBE_HOT=gc start_workload "$py" prefork || return 1
	hot=$(wl_line hot)
	run_pyprobe -0 gc "$WL_PID" --tree --seconds 1.5 --json || return 1
	echo "# $py gc: $(json_get -c '[.gc, [.processes[] | [.pid, .collections, .max_ms]]]')" >&3
	[ "$(row "$hot" '.collections >= 20')" = true ] || return 1
	[ "$(json_get --argjson h "$hot" '[.processes[] | select(.pid != $h) | .collections] | all(. == 0)')" = true ] || return 1
	[ "$(json_get '.gc.collections == ([.processes[].collections] | add)')" = true ] || return 1
	[ "$(json_get .gc.most_paused_pid)" = "$hot" ]
}

@test "top, gc and record take --tree: a row per process, the hottest functions and the collections of all, one profile with a frame and a label per process (Debian's, the oldest, the newest)" {
	command -v go >/dev/null || { echo "go (golang-go) is needed: make check installs it"; return 1; }
	each_interpreter tree_commands sweep_interpreters
}

@test "top, gc and record trees in human output and on a cgroup" {
	local unit=pyprobe-tree-cmd-$$.service p
	start_workload /usr/bin/python3 prefork
	hot=$(wl_line hot)
	run_pyprobe -0 top "$WL_PID" --tree --seconds 1 --limit 3
	echo "$output" | head -9 >&3
	[[ $output == *"process tree of $WL_PID, 1.0 s window: 5 processes, 5 observed"* ]]
	[[ $output == *"all processes together:"* ]]
	[[ $(grep -E "^ +$hot +$WL_PID +python3 " <<<"$output") == *"hot ("*"prefork.py:"* ]]
	run_pyprobe -0 gc "$WL_PID" --tree --seconds 0.5
	[[ $output == *"GC: 0 collections in all"* ]]
	[ "$(grep -cE '^ +[0-9]+ +[0-9-]+ +python3 +0 ' <<<"$output")" = 5 ]
	make_unit_cgroup "$unit"
	for p in "$WL_PID" $(awk '$1 == "workers" { $1 = ""; print }' "$WL_OUT"); do
		echo "$p" >"$CGROUP/cgroup.procs"
	done
	run_pyprobe -0 record --cgroup "/$unit" --seconds 1 -o "$TEST_DIR/unit.folded"
	[[ $output == *"5 processes"* ]]
	run_pyprobe -0 top --unit "$unit" --seconds 1 --json
	stop_workload
	sleep 0.2
	rmdir "$CGROUP" 2>/dev/null || true
	[ "$(json_get .group)" = "unit:$unit" ]
	[ "$(json_get .pid)" = "$WL_PID" ] || [ "$(json_get .pid)" = "$(json_get '.processes[0].pid')" ]
	[ "$(json_get '.processes | length')" = 5 ]
	[ "$(json_get '.profile.functions_by_self[0].function')" = hot ]
	grep -q "^python3 \[$hot\];" "$TEST_DIR/unit.folded"
}

@test "--tree errors: other commands, bad limits, no such process" {
	start_workload /usr/bin/python3 sleeping
	run_pyprobe -2 attrs "$WL_PID" --tree
	[[ $output == *"--tree is for classify, top, gc and record"* ]]
	run_pyprobe -2 loop --unit x.service
	[[ $output == *"--unit is for classify, top, gc and record"* ]]
	run_pyprobe -2 record "$WL_PID" --tree
	[[ $output == *"expects -o FILE"* ]]
	run_pyprobe -2 record --unit x.service 123 -o /dev/null
	[[ $output == *"--unit takes the place of the PID"* ]]
	run_pyprobe -2 classify "$WL_PID" --tree --max-tree 0
	[[ $output == *"--max-tree must be an integer from 1 to 1024"* ]]
	run_pyprobe -2 classify "$WL_PID" --max-tree 2000
	[[ $output == *"--max-tree must be an integer from 1 to 1024"* ]]
	run_pyprobe -0 classify --help
	[[ $output == *"--tree"*"descendants"* ]]
	run_pyprobe -1 classify 999999 --tree
	[[ $output == *"no such process"* ]]
}

# gunicorn: sync workers in a sleeping handler, then threaded workers in a computing one.
gunicorn_tree() {
	local dir=$1 class=$2 path=$3 port master ab_pid
	port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	(cd "$dir" && exec gunicorn --workers 2 $class --bind "127.0.0.1:$port" app:app >"$dir/log" 2>&1 3>&-) &
	master=$!
	for _ in $(seq 100); do curl -s "http://127.0.0.1:$port/io" >/dev/null 2>&1 && break; sleep 0.1; done
	ab -q -c 8 -t 20 "http://127.0.0.1:$port/$path" >"$dir/ab.log" 2>&1 3>&- &
	ab_pid=$!
	sleep 1
	run_pyprobe -0 classify "$master" --tree --seconds 2 --json
	kill "$ab_pid" "$master" 2>/dev/null
	wait "$master" 2>/dev/null || true
	echo "# $class /$path: $(json_get -c '[.service.label, .service.summary, [.processes[] | [.pid, .label]]]')" >&3
	[ "$(json_get '.processes | length')" = 3 ]
	[ "$(row "$master" .label)" = idle ]
}

@test "gunicorn under ab: --tree on the master finds every worker and labels each by what its endpoint does" {
	command -v gunicorn >/dev/null || skip "gunicorn (Debian package gunicorn) not installed"
	command -v ab >/dev/null || skip "ab (apache2-utils) not installed"
	/usr/bin/python3 -c 'import flask' 2>/dev/null || skip "python3-flask not installed"
	local dir=$TEST_DIR/gunicorn-tree
	mkdir -p "$dir"
	cat >"$dir/app.py" <<-'PY'
	import time
	from flask import Flask
	app = Flask(__name__)

	@app.route("/io")
	def io():
	    time.sleep(0.05)  # a slow downstream call
	    return "ok\n"

	@app.route("/cpu")
	def cpu():
	    x = 0
	    for i in range(200000):
	        x = (x + i * i) % 1000003
	    return "%d\n" % x
	PY
	gunicorn_tree "$dir" "" io
	[ "$(json_get '[.processes[] | select(.ppid != 0) | .label] | unique | join(",")')" = io-bound ]
	[ "$(json_get .service.label)" = io-bound ]
	[[ $(json_get '.service.advice | join(" ")') == *"Most workers wait on I/O"* ]]
	gunicorn_tree "$dir" "--threads 4" cpu
	[ "$(json_get '[.processes[] | select(.ppid != 0) | .label | test("cpu-bound-python|gil-contended")] | all')" = true ]
	[[ $(json_get '.service.advice | join(" ")') == *"Every worker is CPU-bound"* ]]
}

# group_prefork KIND: a pre-fork server moved into a unit-named cgroup, classified by --KIND.
group_prefork() {
	local unit=pyprobe-tree-$$.service p arg master
	make_unit_cgroup "$unit" || return 1
	start_workload /usr/bin/python3 prefork
	master=$WL_PID
	for p in "$WL_PID" $(awk '$1 == "workers" { $1 = ""; print }' "$WL_OUT"); do
		echo "$p" >"$CGROUP/cgroup.procs"
	done
	arg=$unit
	[ "$1" = cgroup ] && arg=/$unit
	run_pyprobe -0 classify --"$1" "$arg" --seconds 1.5 --json
	echo "# --$1 $arg: $(json_get -c '[.group, .pid, .service.summary, [.processes[] | [.pid, .label]]]')" >&3
	stop_workload
	sleep 0.2
	rmdir "$CGROUP" 2>/dev/null || true
	[ "$(json_get .group)" = "$1:$arg" ]
	[ "$(json_get .pid)" = "$master" ] && [ "$(json_get '.processes[0].pid')" = "$master" ]
	[ "$(json_get '.processes | length')" = 5 ]
	[ "$(json_get .service.summary)" = "master idle; 4 workers: 3 idle, 1 cpu-bound-python" ]
	[ "$(json_get .service.label)" = imbalanced ]
}

@test "classify --unit and --cgroup: every Python process of the unit or cgroup, the master found, one verdict" {
	group_prefork unit
	group_prefork cgroup
	run_pyprobe -1 classify --unit not-a-unit
	[[ $output == *"is not a systemd .service, .scope or .slice unit name"* ]]
	run_pyprobe -2 classify 1 --unit x.service
	[[ $output == *"--unit takes the place of the PID"* ]]
	run_pyprobe -2 classify --unit a.service --cgroup /b
	[[ $output == *"give one of --unit and --cgroup"* ]]
	run_pyprobe -2 attrs --unit a.service
	[[ $output == *"--unit is for classify, top, gc and record"* ]]
	run_pyprobe -0 classify --unit nothing-here-$$.service --seconds 0.2 --json
	[ "$(json_get '.processes | length')" = 0 ]
	[ "$(json_get .service.summary)" = "no processes" ]
}
