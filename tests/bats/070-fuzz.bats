#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# A short fuzzing run of the parsers that take untrusted input (make fuzz runs longer).

load ../helpers

@test "fuzz the protocol parser, the line-table decoders, the ELF reader, the target-memory readers, the bytecode decoder and the eh_frame parser briefly: no crash, no UB" {
	run make -s -C "$TOP" O="$BIN" fuzz FUZZ_SECONDS=5
	echo "$output" | grep -E '^fuzz|^Done' >&3
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c '^Done [0-9]* runs')" -eq 6 ]
}
