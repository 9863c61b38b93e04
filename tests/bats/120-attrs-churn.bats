#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Attribute-lookup spots and object churn from CPU samples, on every interpreter.

load ../daemon_suite

# attrs_run PY ARG: sample attr_calls.py (ARG: "", cached or heavy); $output holds the reply.
attrs_run() {
	start_workload "$1" attr_calls $2
	run_pyprobe attrs "$WL_PID" --seconds 3 --json
	stop_workload
}

@test "an uncached obj.method() in a loop is the top spot, named and placed, twice in a row, on every interpreter" {
	local py failed=() line run top first minor
	line=$(grep -n '# LOOKUP LINE' "$WORKLOADS/attr_calls.py" | cut -d: -f1)
	mapfile -t PYS < <(interpreters)
	for py in "${PYS[@]}"; do
		first=
		for run in 1 2; do
			attrs_run "$py" ""
			top=$(json_get '.attrs.spots[0] | "\(.name) \(.line) \(.op) \(.receiver) \(.cache_in_local)"')
			echo "# $py run $run: share $(json_get '.attrs.share') top: $top ($(json_get '.attrs.spots[0].share'))" >&3
			[ "$(json_get '.attrs.spots[0].name')" = method ] || failed+=("$py run $run: top spot $top")
			[ "$(json_get '.attrs.spots[0].line')" = "$line" ] || failed+=("$py run $run: line $top != $line")
			[[ $(json_get '.attrs.spots[0].file') == */attr_calls.py ]] || failed+=("$py run $run: file")
			# The same loop with obj and method unchanged: caching the bound method pays up to 3.10;
			# 3.11+ specialise the method call, and a bound method in a local is slower.
			minor=$(json_get '.python.version | split(".")[1] | tonumber')
			[ "$(json_get '.attrs.spots[0].cache_in_local')" = "$([ "$minor" -le 10 ] && echo true || echo false)" ] ||
				failed+=("$py run $run: cache_in_local: $top")
			[ "$(json_get '.attrs.spots[0] | .in_loop and .receiver_invariant')" = true ] ||
				failed+=("$py run $run: loop analysis: $top")
			[ "$minor" -le 10 ] || [[ $(json_get '.attrs.spots[0].advice') == *"specialises a method call"* ]] ||
				failed+=("$py run $run: method advice: $(json_get '.attrs.spots[0].advice')")
			[ "$(json_get '.attrs.spots[0].receiver')" = obj ] || failed+=("$py run $run: receiver: $top")
			[ -z "$first" ] || [ "$first" = "$top" ] || failed+=("$py: runs disagree: '$first' vs '$top'")
			first=$top
		done
	done
	echo "# covered: ${PYS[*]}" >&3
	if [ "${#failed[@]}" -gt 0 ]; then
		printf '%s\n' "${failed[@]}"
		return 1
	fi
}

@test "the same loop with the method cached in a local is not reported" {
	local py failed=() n
	mapfile -t PYS < <(interpreters)
	for py in "${PYS[@]}"; do
		attrs_run "$py" cached
		n=$(json_get '[.attrs.spots[] | select(.name == "method")] | length')
		echo "# $py: share $(json_get '.attrs.share'), spots named method: $n, top: $(json_get '.attrs.spots[0] | tostring')" >&3
		[ "$n" = 0 ] || failed+=("$py: method reported $n times")
		[ "$(json_get '.attrs.samples > 100')" = true ] || failed+=("$py: only $(json_get '.attrs.samples') samples")
	done
	if [ "${#failed[@]}" -gt 0 ]; then
		printf '%s\n' "${failed[@]}"
		return 1
	fi
}

@test "an allocation-heavy loop has a clearly higher churn share than small-int arithmetic, on every interpreter" {
	local py failed=() alloc ints line
	line=$(grep -n '# ALLOC LINE' "$WORKLOADS/churn.py" | cut -d: -f1)
	mapfile -t PYS < <(interpreters)
	for py in "${PYS[@]}"; do
		# The two single-threaded loops at once, one CPU each, in the same window.
		add_together "$py" churn alloc || return 1
		add_together "$py" churn ints || return 1
		pyprobe_together churn --seconds 3 --json
		stop_workload
		output=${REPLIES[0]}
		alloc=$(json_get '.churn.share')
		echo "# $py alloc: $(json_get '.churn | {share, by_role, f: [.functions[0:3][] | .symbol], l: .lines[0].line} | tostring')" >&3
		[ "$(json_get ".churn.lines[0].line")" = "$line" ] || failed+=("$py: top churn line $(json_get '.churn.lines[0].line') != $line")
		output=${REPLIES[1]}
		ints=$(json_get '.churn.share')
		echo "# $py ints: $ints" >&3
		awk -v a="$alloc" -v i="$ints" 'BEGIN { exit !(a >= 0.10 && a >= 3 * i + 0.05) }' ||
			failed+=("$py: alloc share $alloc vs ints $ints")
	done
	if [ "${#failed[@]}" -gt 0 ]; then
		printf '%s\n' "${failed[@]}"
		return 1
	fi
}

@test "caching an invariant value load in a local pays on every version" {
	local py failed=() row
	mapfile -t PYS < <(interpreters)
	for py in "${PYS[@]}"; do
		attrs_run "$py" heavy
		row=$(json_get '[.attrs.spots[] | select(.name == "w")][0]')
		echo "# $py: $(jq -c '[.op, .receiver, .cache_in_local, .advice]' <<<"$row")" >&3
		[ "$(jq -r .cache_in_local <<<"$row")" = true ] || failed+=("$py: obj.w: $row")
		[[ $(jq -r .advice <<<"$row") == *"(w = obj.w)"* ]] || failed+=("$py: advice: $row")
	done
	if [ "${#failed[@]}" -gt 0 ]; then
		printf '%s\n' "${failed[@]}"
		return 1
	fi
}

@test "classify reports attr-hot and alloc-churn with advice, and neither for plain arithmetic" {
	# Five instance attribute reads per iteration: on 3.11+ specialised, and still hot.
	start_workload /usr/bin/python3 attr_calls heavy
	run_pyprobe -0 classify "$WL_PID" --seconds 3 --json
	stop_workload
	echo "# attrs: $(json_get '[.verdict.traits, .cpu_mix.attr_share] | tostring')" >&3
	[ "$(json_get '.verdict.traits | index("attr-hot") != null')" = true ]
	[[ $(json_get '.verdict.advice | join(" ")') == *"local"* ]]
	start_workload /usr/bin/python3 churn alloc
	run_pyprobe -0 classify "$WL_PID" --seconds 3 --json
	stop_workload
	echo "# churn: $(json_get '[.verdict.traits, .cpu_mix.churn_share] | tostring')" >&3
	[ "$(json_get '.verdict.traits | index("alloc-churn") != null')" = true ]
	[[ $(json_get '.verdict.advice | join(" ")') == *"generators"* ]]
	start_workload /usr/bin/python3 churn ints
	run_pyprobe -0 classify "$WL_PID" --seconds 3 --json
	stop_workload
	echo "# ints: $(json_get '[.verdict.traits, .cpu_mix] | tostring')" >&3
	[ "$(json_get '.verdict.traits | index("alloc-churn") == null and index("attr-hot") == null')" = true ]
}

@test "pyprobe attrs and churn: human output, help and errors" {
	start_workload /usr/bin/python3 attr_calls
	run_pyprobe -0 attrs "$WL_PID" --seconds 1 --limit 3
	[[ $output == *"attribute lookups:"*"% of CPU samples"* ]]
	[[ $output == *"obj.method"*"attr_calls.py:"* ]]
	[[ $output == *"specialises a method call"* ]]
	run_pyprobe -0 churn "$WL_PID" --seconds 1
	[[ $output == *"object churn:"*"allocating"* ]]
	stop_workload
	run_pyprobe -0 attrs --help
	[[ $output == *"Usage: pyprobe attrs PID"* ]]
	run_pyprobe -0 churn --help
	[[ $output == *"Usage: pyprobe churn PID"* ]]
	run_pyprobe -2 attrs 12x
	run_pyprobe -2 churn 1 --limit 0
	run_pyprobe -1 attrs 999999999
	[[ $output == *"no such process: 999999999"* ]]
}

@test "churn against perf record on the same process: the same functions' share within 10 points (stripped build: at least perf's); alloc and free both seen; a floor" {
	command -v perf >/dev/null || { echo "perf (linux-perf) is not installed: tools/deps.sh --test installs it"; return 1; }
	local py failed=() ours theirs pid perf_pid
	for py in /usr/bin/python3 $(interpreters | grep -E 'python3\.(6|12)$'); do
		start_workload "$py" churn alloc
		pid=$WL_PID
		perf record -F 499 -p "$pid" -o "$TEST_DIR/churn.perf" -- sleep 3 >/dev/null 2>&1 3>&- &
		perf_pid=$!
		run_pyprobe churn "$pid" --seconds 3 --limit 1000 --json
		wait "$perf_pid"
		stop_workload
		ours=$(json_get .churn.share)
		if [ "$(json_get .python.symbols)" = true ]; then
			# perf's share of the very functions pyprobe counted as churn: the same attribution,
			# an independent sampler.
			json_get '.churn.functions[].symbol' >"$TEST_DIR/churn.names"
			theirs=$(perf report -i "$TEST_DIR/churn.perf" --stdio --sort sym 2>/dev/null | awk '
				NR == FNR { want[$0] = 1; next }
				/^ +[0-9.]+%/ { s = $1; sub("%", "", s); all += s; if ($NF in want) a += s }
				END { printf "%.3f\n", (all > 0 ? a / all : 0) }' "$TEST_DIR/churn.names" -)
			echo "# $py: pyprobe churn $ours, perf on the same functions $theirs; by role $(json_get -c .churn.by_role)" >&3
			awk -v a="$ours" -v b="$theirs" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.10) }' ||
				failed+=("$py: pyprobe churn $ours vs perf $theirs on the same functions")
		else
			# Stripped (Debian's): perf names only exported functions, pyprobe also finds the
			# static allocators through the types' slots, so it sees more, never less.
			theirs=$(perf report -i "$TEST_DIR/churn.perf" --stdio --sort sym 2>/dev/null | awk '
				/^ +[0-9.]+%/ { s = $1; sub("%", "", s); all += s
					if ($NF ~ /([Mm]alloc|[Ff]ree|[Aa]lloc|[Dd]ealloc|_GC_|GC_Track|GC_UnTrack)/) a += s }
				END { printf "%.3f\n", (all > 0 ? a / all : 0) }')
			echo "# $py: pyprobe churn $ours, perf allocator-named share $theirs; by role $(json_get -c .churn.by_role)" >&3
			awk -v a="$ours" -v b="$theirs" 'BEGIN { exit !(a >= b) }' ||
				failed+=("$py: pyprobe churn $ours under perf's $theirs on a stripped build")
		fi
		# Both ends of an object's life show: allocation and freeing.
		[ "$(json_get '.churn.by_role.alloc.samples > 0')" = true ] ||
			failed+=("$py: no allocation samples: $(json_get -c .churn.by_role)")
		[ "$(json_get '.churn.by_role.free.samples > 0')" = true ] ||
			failed+=("$py: no freeing samples: $(json_get -c .churn.by_role)")
		# Lower bounds seen on each build (docs/classify.md): the LTO build inlines allocator fast paths.
		awk -v a="$ours" 'BEGIN { exit !(a >= 0.20) }' || failed+=("$py: churn share $ours under 0.20")
	done
	if [ "${#failed[@]}" -gt 0 ]; then
		printf '%s\n' "${failed[@]}"
		return 1
	fi
}
