#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# A process that maps a fake interpreter full of garbage or cycles (tests/hostile/fakepy.c)
# must not crash or hang the daemon: every request ends in bounded time with a reply or a
# clear error, and the daemon keeps serving with nothing alarming in its log.

load ../daemon_suite

FAKEPY=$BIN/tests/hostile/fakepy
WINDOW=0.5	# seconds per window
LIMIT=20	# seconds any one request may take, attach and reply included
# Clear errors a request on a hostile target may end with (the rest are daemon failures).
CLEAR_ERRORS='^(unsupported-version|not-python)$'
# What a crash, a sanitizer or glibc leave in the daemon's log.
CRASH='AddressSanitizer|LeakSanitizer|runtime error:|Segmentation fault|Aborted|double free|corrupted|stack smashing'

teardown() {
	[ -n "${FAKE_PID:-}" ] && kill "$FAKE_PID" 2>/dev/null
	FAKE_PID=
	true
}

# start_fake [-m MINOR] MODE [SEED]: run fakepy until it says "ready"; sets FAKE_PID.
start_fake() {
	local out=$TEST_DIR/fake.out
	[ -x "$FAKEPY" ] || { echo "$FAKEPY is missing (make bats builds it)"; return 1; }
	"$FAKEPY" -t 300 "$@" >"$out" 2>&1 3>&- &
	FAKE_PID=$!
	for _ in $(seq 100); do
		grep -q '^ready' "$out" && break
		kill -0 "$FAKE_PID" 2>/dev/null || break
		sleep 0.05
	done
	grep -q "^ready $FAKE_PID\$" "$out" || { echo "fakepy $* did not start:"; cat "$out"; return 1; }
}

# request WHAT CMD ARGS...: one request with a deadline. Sets RC, OUT, SECS; adds to FAILED
# unless it ended with a reply (status 0) or a clear error (status 1 naming a known code).
request() {
	local what=$1 t0 code
	shift
	t0=$(date +%s%N)
	RC=0
	OUT=$(timeout "$LIMIT" "$BIN/pyprobe" --socket "$SOCK" "$@" 2>&1 3>&-) || RC=$?
	SECS=$(( ($(date +%s%N) - t0) / 1000000 ))
	if [ "$1" = record ]; then
		code=$(sed -n 's/.*(\([a-z-]*\))$/\1/p' <<<"$OUT")
	else
		code=$(jq -r 'if .ok then "ok" else .error.code end' <<<"$OUT" 2>/dev/null) || code=not-json
	fi
	if [ "$RC" -eq 0 ] && { [ "$1" = record ] || [ "$code" = ok ]; }; then
		return 0
	fi
	if [ "$RC" -eq 1 ] && [[ $code =~ $CLEAR_ERRORS ]]; then
		return 0
	fi
	FAILED+=("$what: pyprobe $* -> status $RC after $SECS ms: $(head -c 300 <<<"$OUT")")
}

# daemon_ok WHAT: the daemon is alive, answers status, and its log shows no crash.
daemon_ok() {
	if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
		FAILED+=("$1: the daemon died")
	elif [ "$(timeout 10 "$BIN/pyprobe" --socket "$SOCK" status --json 3>&- | jq -r .ok 2>/dev/null)" != true ]; then
		FAILED+=("$1: the daemon does not answer status")
	fi
	if grep -qE "$CRASH" "$DAEMON_LOG"; then
		FAILED+=("$1: the daemon's log shows a crash: $(grep -m3 -E "$CRASH" "$DAEMON_LOG")")
	fi
}

# round WHAT FAKEPY-ARGS...: classify, gc, top, attrs, churn and record against a fresh fake; sets
# CLASSIFY_RC, TOP_JSON, FOLDED (the recording, when there is one).
round() {
	local what=$1 times="" attached=0
	shift
	start_fake "$@" || { FAILED+=("$what: fakepy did not start"); return; }
	request "$what" classify "$FAKE_PID" --seconds "$WINDOW" --json
	CLASSIFY_RC=$RC times+=" classify ${SECS}ms/$RC" attached=$((attached + (RC == 0)))
	request "$what" gc "$FAKE_PID" --seconds "$WINDOW" --json
	times+=" gc ${SECS}ms/$RC" attached=$((attached + (RC == 0)))
	request "$what" top "$FAKE_PID" --seconds "$WINDOW" --json
	TOP_JSON=$OUT times+=" top ${SECS}ms/$RC" attached=$((attached + (RC == 0)))
	# attrs and churn decode the bytecode and read the type objects of the target.
	request "$what" attrs "$FAKE_PID" --seconds "$WINDOW" --json
	times+=" attrs ${SECS}ms/$RC" attached=$((attached + (RC == 0)))
	request "$what" churn "$FAKE_PID" --seconds "$WINDOW" --json
	times+=" churn ${SECS}ms/$RC" attached=$((attached + (RC == 0)))
	FOLDED=$TEST_DIR/$what.folded
	rm -f "$FOLDED"
	request "$what" record "$FAKE_PID" --seconds "$WINDOW" -o "$FOLDED"
	times+=" record ${SECS}ms/$RC" attached=$((attached + (RC == 0)))
	echo "# $what:$times" >&3
	# A round whose every request was refused never reached the readers it is meant to shake.
	[ "$attached" -gt 0 ] || FAILED+=("$what: no request attached:$times")
	teardown
	daemon_ok "$what"
}

# Deepest recorded stack (frames are ';'-separated, the count last).
max_depth() {
	sed 's/ [0-9]*$//' "$1" | awk -F';' 'NF > m { m = NF } END { print m + 0 }'
}

report_failures() {
	if [ "${#FAILED[@]}" -gt 0 ]; then
		printf '%s\n' "${FAILED[@]}"
		return 1
	fi
}

@test "garbage: wild pointers, absurd lengths, kinds and line tables on every layout (3.6-3.15)" {
	FAILED=()
	for minor in 6 7 8 9 10 11 12 13 14 15; do
		round "garbage-3.$minor" -m "$minor" garbage
		# The skeleton is sound: inspection must succeed, so the readers behind it ran.
		[ "$CLASSIFY_RC" = 0 ] || FAILED+=("garbage-3.$minor: classify did not attach")
		[ "$(jq -r '.profile.python_samples > 0' <<<"$TOP_JSON" 2>/dev/null)" = true ] ||
			FAILED+=("garbage-3.$minor: no Python frame resolved: $(head -c 200 <<<"$TOP_JSON")")
	done
	report_failures
}

@test "cyclic: looping interpreter, thread and frame lists stop at their bounds (3.6, 3.10-3.15)" {
	FAILED=()
	for minor in 6 10 11 12 13 14 15; do
		round "cyclic-3.$minor" -m "$minor" cyclic
		[ "$CLASSIFY_RC" = 0 ] || FAILED+=("cyclic-3.$minor: classify did not attach")
		# The loop f1 -> f2 -> f3 -> f1 fills the 64 frames the sampler keeps, no more.
		[ -s "$FOLDED" ] && [ "$(max_depth "$FOLDED")" = 64 ] ||
			FAILED+=("cyclic-3.$minor: deepest stack $(max_depth "$FOLDED" 2>/dev/null) frames, not 64")
		grep -q 'cycle_a.*cycle_b.*cycle_c' "$FOLDED" 2>/dev/null ||
			FAILED+=("cyclic-3.$minor: the frame cycle was not walked")
	done
	report_failures
}

@test "random: structures rewritten with random words while the daemon reads them" {
	FAILED=()
	for run in "12 1" "13 2" "11 3" "10 4" "6 5"; do
		set -- $run
		round "random-3.$1-seed$2" -m "$1" random "$2"
	done
	report_failures
}

@test "version313: wild, rejected, zero and mismatched _Py_DebugOffsets" {
	FAILED=()
	for seed in 1 2 3 4 5; do
		round "version313-seed$seed" version313 "$seed"
	done
	report_failures
}

@test "a build whose _Py_DebugOffsets say free-threaded is refused, saying so (3.13-3.15)" {
	local minor
	FAILED=()
	for minor in 13 14 15; do
		start_fake -m "$minor" -F garbage
		run_pyprobe -1 classify "$FAKE_PID" --seconds 0.5 --json
		kill "$FAKE_PID"
		wait "$FAKE_PID" 2>/dev/null || true
		echo "# 3.$minor: $(json_get -c .error)" >&3
		[ "$(json_get .error.code)" = unsupported-version ]
		[[ $(json_get .error.message) == *"free-threaded"* ]]
	done
	daemon_ok "after the free-threaded builds"
	report_failures
}

@test "the daemon answers others while a window is open on a hostile target" {
	FAILED=()
	start_fake -m 12 garbage
	timeout "$LIMIT" "$BIN/pyprobe" --socket "$SOCK" top "$FAKE_PID" --seconds 6 --json \
		>"$TEST_DIR/top.json" 2>&1 3>&- &
	local client=$! t0 ms out
	for _ in $(seq 100); do
		"$BIN/pyprobe" --socket "$SOCK" list --json 3>&- | grep -q "\"pid\": $FAKE_PID" && break
		sleep 0.05
	done
	for _ in 1 2 3; do
		t0=$(date +%s%N)
		out=$(timeout 5 "$BIN/pyprobe" --socket "$SOCK" status --json 3>&-) || true
		ms=$(( ($(date +%s%N) - t0) / 1000000 ))
		[ "$(jq -r .ok <<<"$out" 2>/dev/null)" = true ] || FAILED+=("status failed after $ms ms: $out")
		echo "# status in $ms ms" >&3
		# Answered while the window is still open (not a wall-clock bound: a daemon busy with the
		# window would answer only once it closed, and the client would be gone by then).
		kill -0 "$client" 2>/dev/null || FAILED+=("status came only after the window ended ($ms ms)")
		sleep 0.5
	done
	wait "$client" || FAILED+=("top failed: $(head -c 300 "$TEST_DIR/top.json")")
	jq -e '.profile.python_samples > 0' "$TEST_DIR/top.json" >/dev/null ||
		FAILED+=("top resolved nothing: $(head -c 300 "$TEST_DIR/top.json")")
	daemon_ok "after the window"
	report_failures
}
