# SPDX-License-Identifier: MIT
# For the bats files of tests/faults: kill at teardown only the very processes
# a test started, never another that got the same PID later (080-faults makes
# PIDs come round again on purpose).

# start_time_of PID: the process's start time (field 22 of /proc/PID/stat).
start_time_of() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	st=${st##*) }
	# shellcheck disable=SC2086
	set -- $st
	echo "${20}"
}

# track PID: kill_tracked will kill it if it still is that same process.
track() {
	local st
	st=$(start_time_of "$1")
	[ -n "$st" ] && KILL_PIDS="${KILL_PIDS:-} $1:$st"
	true
}

# kill_tracked: SIGCONT (some tests stop them) and SIGTERM to each tracked process.
kill_tracked() {
	local e
	for e in ${KILL_PIDS:-}; do
		[ "$(start_time_of "${e%%:*}")" = "${e#*:}" ] || continue
		kill -CONT "${e%%:*}" 2>/dev/null
		kill "${e%%:*}" 2>/dev/null
	done
	KILL_PIDS=
	true
}
