#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Fast smoke tests of the command lines; no daemon needed.

load ../helpers

@test "pyprobe --help lists every command" {
	run "$BIN/pyprobe" --help
	[ "$status" -eq 0 ]
	for c in classify gc top attrs churn record status list detach; do
		[[ $output == *"$c"* ]]
	done
}

@test "every pyprobe command has --help" {
	for c in classify gc top attrs churn record status list detach; do
		run "$BIN/pyprobe" "$c" --help
		[ "$status" -eq 0 ]
		[[ $output == "Usage: pyprobe $c"* ]]
	done
}

@test "pyprobe --version and pyprobed --version" {
	run "$BIN/pyprobe" --version
	[ "$status" -eq 0 ]
	[[ $output == "pyprobe "* ]]
	run "$BIN/pyprobed" --version
	[ "$status" -eq 0 ]
	[[ $output == "pyprobed "* ]]
}

@test "usage errors exit 2 with a hint" {
	run -2 "$BIN/pyprobe"
	run -2 "$BIN/pyprobe" frobnicate
	[[ $output == *"unknown command 'frobnicate'"* ]]
	run -2 "$BIN/pyprobe" classify
	[[ $output == *"expects exactly one PID"* ]]
	run -2 "$BIN/pyprobe" classify abc
	[[ $output == *"'abc' is not a process ID"* ]]
	run -2 "$BIN/pyprobe" classify 1 --seconds 0
	[[ $output == *"--seconds must be a number"* ]]
	run -2 "$BIN/pyprobe" classify 1 --seconds 5000
	run -2 "$BIN/pyprobe" detach
	run -2 "$BIN/pyprobe" status extra
	run -2 "$BIN/pyprobed" --sample-hz 5000
	[[ $output == *"--sample-hz must be an integer from 1 to 999"* ]]
	run -2 "$BIN/pyprobed" stray
}

@test "no daemon: exit 3 and say how to start it" {
	run -3 "$BIN/pyprobe" --socket /nonexistent/pyprobed.sock status
	[[ $output == *"cannot connect to pyprobed at /nonexistent/pyprobed.sock"* ]]
	[[ $output == *"Is the daemon running?"* ]]
	PYPROBE_SOCKET=/nonexistent/env.sock run -3 "$BIN/pyprobe" list
	[[ $output == *"/nonexistent/env.sock"* ]]
}
