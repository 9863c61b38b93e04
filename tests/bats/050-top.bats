#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# CPU sampling with Python stacks: the hot function and line, on every interpreter.

load ../daemon_suite

@test "the hot function and line come out on top, with file and name, on every interpreter" {
	local py failed=() want_line cold_line
	want_line=$(grep -n 'HOT LINE' "$WORKLOADS/hot_function.py" | cut -d: -f1)
	cold_line=$(grep -n 'COLD LINE' "$WORKLOADS/hot_function.py" | cut -d: -f1)
	mapfile -t PYS < <(interpreters)
	for py in "${PYS[@]}"; do
		start_workload "$py" hot_function
		run_pyprobe top "$WL_PID" --seconds 2 --json
		stop_workload
		echo "# $py: $(json_get '.profile.lines[0] | [.function, .line, .self_share] | tostring' 2>/dev/null || echo "$output")" >&3
		[ "$(json_get '.profile.functions_by_self[0].function')" = hot_loop ] ||
			failed+=("$py: top function $(json_get '.profile.functions_by_self[0].function')")
		[[ $(json_get '.profile.functions_by_self[0].file') == */hot_function.py ]] ||
			failed+=("$py: file $(json_get '.profile.functions_by_self[0].file')")
		[ "$(json_get '.profile.lines[0].line')" = "$want_line" ] ||
			failed+=("$py: top line $(json_get '.profile.lines[0].line') != $want_line")
		[ "$(json_get '.profile.lines[0].self_share > 0.7')" = true ] ||
			failed+=("$py: hot line share $(json_get '.profile.lines[0].self_share')")
		# The loop's other line gets the rest, told apart by the line table.
		[ "$(json_get "[.profile.lines[] | select(.line == $cold_line)][0].self_share | . > 0 and . < 0.3")" = true ] ||
			failed+=("$py: cold line $cold_line: $(json_get "[.profile.lines[] | select(.line == $cold_line)][0]" | tr -d '\n ')")
		[ "$(json_get '[.profile.functions_by_total[].function] | index("<module>") != null')" = true ] ||
			failed+=("$py: <module> missing from the total ranking")
	done
	echo "# covered: ${PYS[*]}" >&3
	if [ "${#failed[@]}" -gt 0 ]; then
		printf '%s\n' "${failed[@]}"
		return 1
	fi
}

@test "GIL-holding and GIL-releasing threads are told apart" {
	start_workload /usr/bin/python3 hot_function
	run_pyprobe -0 top "$WL_PID" --seconds 1 --json
	[ "$(json_get '.profile.share.gil > 0.9')" = true ]
	# Debian's interpreter is stripped: the leaf is still named as the interpreter.
	[ "$(json_get '.profile.native_leaves[0].kind')" = interpreter ]
	stop_workload
	start_workload /usr/bin/python3 native_threads
	run_pyprobe -0 top "$WL_PID" --seconds 1 --json
	[ "$(json_get '.profile.share.native > 0.7')" = true ]
	[ "$(json_get '[.profile.functions_by_self[].function] | index("work") != null')" = true ]
	# The GIL-free time is in zlib (stripped here: named by object, not function).
	echo "# $(json_get '.profile.native_leaves[0:3] | tostring')" >&3
	[[ $(json_get '.profile.native_leaves[0].object') == libz.so* ]]
	[ "$(json_get '.profile.native_leaves[0].kind')" = library ]
}

@test "native leaves are named from the symbol table where there is one" {
	# libz exports crc32_z: the leaf of a crc32 loop has a name even in a stripped library.
	start_workload /usr/bin/python3 crc_threads
	run_pyprobe -0 top "$WL_PID" --seconds 1 --json
	echo "# $(json_get '.profile.native_leaves[0:2] | tostring')" >&3
	[[ $(json_get '.profile.native_leaves[0].object') == libz.so* ]]
	[[ $(json_get '.profile.native_leaves[0].symbol') == crc32* ]]
	stop_workload
	# And the interpreter's own functions where it has a symbol table (pyenv builds).
	local py
	for py in $(host_interpreters | grep -v '^/usr/bin/'); do
		start_workload "$py" hot_function
		run_pyprobe -0 top "$WL_PID" --seconds 0.5 --json
		stop_workload
		[ "$(json_get '[.profile.native_leaves[] | select(.kind == "interpreter")][0].symbol | type')" = string ]
		break
	done
}

@test "pyprobe top human output and errors" {
	start_workload /usr/bin/python3 hot_function
	run_pyprobe -0 top "$WL_PID" --seconds 0.5 --limit 3
	[[ $output == *"functions by self samples:"*"hot_loop ("*"hot_function.py:"* ]]
	[[ $output == *"lines by self samples:"* ]]
	[[ $output == *"native leaves"*"(interpreter)"* ]]
	run_pyprobe -2 top "$WL_PID" --limit 0
	run_pyprobe -1 top 999999999
	[[ $output == *"no such process"* ]]
}

@test "record writes folded stacks whose counts add up to the samples" {
	start_workload /usr/bin/python3 hot_function
	run_pyprobe -0 record "$WL_PID" --seconds 1 -o "$TEST_DIR/p.folded"
	[[ $output == *"samples"*"-> $TEST_DIR/p.folded (folded)"* ]]
	grep -q '^<module> (.*hot_function.py:[0-9]*);hot_loop (.*hot_function.py:13) [0-9]*$' "$TEST_DIR/p.folded"
	local sum n
	n=$(sed -n 's/^pyprobe: \([0-9]*\) samples.*/\1/p' <<<"$output")
	sum=$(awk '{ s += $NF } END { print s }' "$TEST_DIR/p.folded")
	echo "# $sum of $n samples in folded stacks" >&3
	# Every sample with Python on its stack (the hot loop: all but a few) is one count; a
	# loaded machine gives the target less CPU, so fewer samples, but never fewer than 10.
	[ "$n" -ge 10 ]
	[ "$sum" -le "$n" ]
	[ "$((sum * 10))" -ge "$((n * 9))" ]
	run_pyprobe -2 record "$WL_PID" --format png -o "$TEST_DIR/x"
	run_pyprobe -2 record "$WL_PID"
}

@test "record --format pprof loads in go tool pprof with the hot function on top" {
	command -v go >/dev/null || { echo "go (golang-go) is needed: make check installs it"; return 1; }
	start_workload /usr/bin/python3 hot_function
	run_pyprobe -0 record "$WL_PID" --seconds 1 --format pprof -o "$TEST_DIR/p.pb.gz"
	[ "$(head -c 2 "$TEST_DIR/p.pb.gz" | od -An -tx1 | tr -d ' ')" = 1f8b ]	# gzip
	run go tool pprof -top "$TEST_DIR/p.pb.gz"
	[ "$status" -eq 0 ]
	echo "$output" | head -8 >&3
	[[ $(echo "$output" | grep -A1 'flat%' | tail -1) == *hot_loop* ]]
	run go tool pprof -raw "$TEST_DIR/p.pb.gz"
	[[ $output == *"[module]"*  ]]
}

@test "record --format speedscope writes the speedscope schema" {
	start_workload /usr/bin/python3 hot_function
	run_pyprobe -0 record "$WL_PID" --seconds 1 --format speedscope -o "$TEST_DIR/p.json"
	run jq -r '."$schema"' "$TEST_DIR/p.json"
	[ "$output" = "https://www.speedscope.app/file-format-schema.json" ]
	run jq '.profiles[0] | (.weights | add) == .endValue and (.samples | length) == (.weights | length)' "$TEST_DIR/p.json"
	[ "$output" = true ]
	run jq -r '[.shared.frames[].name] | index("hot_loop") != null' "$TEST_DIR/p.json"
	[ "$output" = true ]
}

@test "a target that exits mid-record yields a valid partial profile" {
	PYPROBE_WORKLOAD_SECONDS=1.5 start_workload /usr/bin/python3 hot_function
	run_pyprobe -0 record "$WL_PID" --seconds 10 -o "$TEST_DIR/partial.folded"
	[[ $output == *"partial profile"* ]]
	[ "$(awk '{ s += $NF } END { print s }' "$TEST_DIR/partial.folded")" -gt 20 ]
	grep -q 'hot_loop' "$TEST_DIR/partial.folded"
}

@test "record --format svg draws a flame graph with the hot function" {
	start_workload /usr/bin/python3 hot_function
	run_pyprobe -0 record "$WL_PID" --seconds 1 --format svg -o "$TEST_DIR/p.svg"
	/usr/bin/python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$TEST_DIR/p.svg"
	grep -q '<title>hot_loop (.*hot_function.py:13)' "$TEST_DIR/p.svg"
	grep -q '<title>&lt;module&gt;' "$TEST_DIR/p.svg"
}

@test "3.13+: the target's own _Py_DebugOffsets are read, checked and used" {
	local py with=0 without=0
	for py in $(interpreters); do
		start_workload "$py" hot_function
		run_pyprobe -0 top "$WL_PID" --seconds 0.5 --json
		stop_workload
		case "$(json_get .python.version)" in
		3.1[3-9].*)
			[ "$(json_get .python.debug_offsets)" = true ]
			with=$((with + 1))
			;;
		*)
			[ "$(json_get .python.debug_offsets)" = false ]
			without=$((without + 1))
			;;
		esac
		[ "$(json_get '.profile.functions_by_self[0].function')" = hot_loop ]
	done
	echo "# with debug offsets: $with, without: $without" >&3
	[ "$without" -ge 1 ]
	[ "$with" -ge 1 ] || skip "no CPython 3.13+ on this machine (only the table path was checked)"
}

@test "top: GIL waits from the scheduler, and no samples from other processes" {
	start_workload /usr/bin/python3 gil_threads
	run_pyprobe -0 top "$WL_PID" --seconds 1 --json
	[ "$(json_get '.gil_wait.share_of_thread_time > 0.3')" = true ]
	stop_workload
	start_workload /usr/bin/python3 sleeping
	/usr/bin/python3 "$WORKLOADS/hot_function.py" >/dev/null 3>&- &
	local busy=$!
	run_pyprobe -0 top "$WL_PID" --seconds 1 --json
	kill "$busy"
	[ "$(json_get '.profile.samples < 5')" = true ]
	[ "$(json_get '[.profile.functions_by_self[].function] | index("hot_loop")')" = null ]
}
