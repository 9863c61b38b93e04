#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Prometheus exposition: valid by promtool, scraped by a real Prometheus, right values.

source "$(dirname "$BATS_TEST_FILENAME")/../helpers.bash"

PY=/usr/bin/python3

free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

setup_file() {
	TOKEN=pyprobe-metrics-$$
	CONF=$(mktemp /tmp/pyprobe-metrics.XXXXXX.conf)
	PORT=$(free_port)
	# gc-timing exact: every collection timed, so the pause histogram fills.
	printf 'window = 1\nmetrics = %s\ngc-timing = exact\nwatch = cmdline *%s*\n' "$PORT" "$TOKEN" >"$CONF"
	start_daemon --config "$CONF"
	# Two watched processes: GIL contention (threads) and collector work.
	start_workload "$PY" gil_threads "$TOKEN"
	GIL_PID=$WL_PID
	start_workload "$PY" gc_auto "$TOKEN"
	GC_PID=$WL_PID
	export TOKEN CONF PORT GIL_PID GC_PID
	for _ in $(seq 100); do
		"$BIN/pyprobe" --socket "$SOCK" list --json |
			jq -e '[.sessions[] | select(.watch.label != null)] | length == 2' >/dev/null && break
		sleep 0.2
	done
}

# A test's own processes end with it, also when it fails half-way.
teardown() {
	[ -n "${PROM_PID:-}" ] && kill "$PROM_PID" 2>/dev/null
	true
}

teardown_file() {
	kill "$GIL_PID" "$GC_PID" 2>/dev/null
	stop_daemon
	rm -f "$CONF"
	true
}

scrape() {
	curl -sf "http://127.0.0.1:$PORT/metrics"
}

# metric NAME LABEL-SUBSTRING: the value of the first sample of NAME whose labels contain it.
metric() {
	awk -v n="$1" -v l="$2" '$1 ~ "^"n"[{]" && index($1, l) { print $2; exit }' <<<"$output"
}

@test "promtool check metrics passes on a scrape of two watched processes" {
	run -0 scrape
	promtool check metrics <<<"$output"
	[[ $output == *"pyprobe_process_info{pid=\"$GIL_PID\",rule=\"cmdline:*$TOKEN*\",python_version=\"3.11.2\""* ]]
	[[ $output == *"pyprobe_verdict{pid=\"$GIL_PID\","*"label=\"gil-contended\"} 1"* ]]
	[[ $output == *"pyprobe_watched_processes 2"* ]]
	# Per-thread series: the four spinning workers wait for the GIL, each with its tid and name.
	[ "$(grep -cE "^pyprobe_thread_state_seconds_total\{pid=\"$GIL_PID\",[^}]*,tid=\"[0-9]+\",thread=\"[^\"]+\",state=\"gil_wait\"\} [0-9.e-]+$" <<<"$output")" -ge 4 ]
}

@test "the values are the measurements: GIL wait, CPU time, collections" {
	run -0 scrape
	local gil oncpu proc_cpu gc0 hz
	gil=$(metric pyprobe_gil_wait_seconds_total "pid=\"$GIL_PID\"")
	awk -v g="$gil" 'BEGIN { exit !(g > 0.5) }'
	# On-CPU seconds since attach cannot exceed the process's CPU time from /proc, and
	# the workload started before the daemon attached by little.
	oncpu=$(metric pyprobe_thread_seconds_total "pid=\"$GIL_PID\",rule=\"cmdline:*$TOKEN*\",state=\"oncpu\"")
	hz=$(getconf CLK_TCK)
	proc_cpu=$(awk -v hz="$hz" '{ print ($14 + $15) / hz }' "/proc/$GIL_PID/stat")
	echo "# oncpu $oncpu proc $proc_cpu" >&3
	awk -v a="$oncpu" -v b="$proc_cpu" 'BEGIN { exit !(a <= b * 1.1 + 0.1 && a > 0.3) }'
	# Collections come from the interpreter's own counters: they only grow.
	gc0=$(metric pyprobe_gc_collections_total "pid=\"$GC_PID\",rule=\"cmdline:*$TOKEN*\",generation=\"0\"")
	[ "$gc0" -gt 0 ]
	sleep 1.2
	run -0 scrape
	[ "$(metric pyprobe_gc_collections_total "pid=\"$GC_PID\",rule=\"cmdline:*$TOKEN*\",generation=\"0\"")" -gt "$gc0" ]
	# The GC pause histogram: cumulative buckets ending in +Inf == _count, a positive _sum, and
	# (gc-timing exact, USDT) as many timed pauses as collections since attach, give or take the ones
	# that ran across the attach or this scrape.
	local buckets count sum
	buckets=$(grep "^pyprobe_gc_pause_seconds_bucket{pid=\"$GC_PID\"" <<<"$output" | awk '{ print $2 }')
	count=$(metric pyprobe_gc_pause_seconds_count "pid=\"$GC_PID\"")
	sum=$(metric pyprobe_gc_pause_seconds_sum "pid=\"$GC_PID\"")
	echo "# pauses $count, $sum s" >&3
	[ "$count" -gt 10 ]
	awk 'NR > 1 && $1 < prev { exit 1 } { prev = $1 }' <<<"$buckets"
	[ "$(tail -n1 <<<"$buckets")" = "$count" ]
	awk -v s="$sum" 'BEGIN { exit !(s > 0) }'

}

# proc_cpu PID: the process's CPU seconds from /proc (all threads).
proc_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f\n", ($14 + $15) / hz }' "/proc/$1/stat"
}

# sum_metric NAME LABEL-SUBSTRING: the sum of every sample of NAME whose labels contain it.
sum_metric() {
	awk -v n="$1" -v l="$2" '$1 ~ "^"n"[{]" && index($1, l) { s += $2 } END { printf "%.6f\n", s }' <<<"$output"
}

@test "between two scrapes, CPU and thread time move as /proc and the clock say (within 15%)" {
	local c0 c1 p0 p1 t0 t1 w0 w1 n dc dp dt dw
	run -0 scrape
	p0=$(proc_cpu "$GIL_PID")
	w0=$(date +%s.%N)
	c0=$(metric pyprobe_thread_seconds_total "pid=\"$GIL_PID\",rule=\"cmdline:*$TOKEN*\",state=\"oncpu\"")
	t0=$(sum_metric pyprobe_thread_seconds_total "pid=\"$GIL_PID\"")
	sleep 3
	run -0 scrape
	p1=$(proc_cpu "$GIL_PID")
	w1=$(date +%s.%N)
	c1=$(metric pyprobe_thread_seconds_total "pid=\"$GIL_PID\",rule=\"cmdline:*$TOKEN*\",state=\"oncpu\"")
	t1=$(sum_metric pyprobe_thread_seconds_total "pid=\"$GIL_PID\"")
	n=$(ls "/proc/$GIL_PID/task" | wc -l)
	dc=$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')
	dp=$(awk -v a="$p0" -v b="$p1" 'BEGIN { print b - a }')
	dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
	dw=$(awk -v a="$w0" -v b="$w1" -v n="$n" 'BEGIN { print (b - a) * n }')
	echo "# on CPU: pyprobe +$dc s, /proc +$dp s; thread time: pyprobe +$dt s, $n threads x wall +$dw s" >&3
	awk -v a="$dc" -v b="$dp" 'BEGIN { exit !(b > 1 && a >= 0.85 * b && a <= 1.15 * b) }'
	# Every live thread's states add up to the wall time between the scrapes.
	awk -v a="$dt" -v b="$dw" 'BEGIN { exit !(b > 1 && a >= 0.85 * b && a <= 1.15 * b) }'
}

@test "HTTP: 404 elsewhere, 405 for POST, HEAD without a body, loopback only by default" {
	run -0 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nothing"
	[ "$output" = 404 ]
	run -0 curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/metrics"
	[ "$output" = 405 ]
	run -0 curl -sI "http://127.0.0.1:$PORT/metrics"
	[[ $output == *"Content-Type: text/plain; version=0.0.4"* ]]
	run -0 ss -Hltn "sport = :$PORT"
	[[ $output == *"127.0.0.1:$PORT"* ]]
	[[ $output != *"0.0.0.0:$PORT"* ]]
	# A silent connection does not block a scrape.
	"$PY" -c 'import socket, sys, time; s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); time.sleep(5)' "$PORT" 3>&- &
	local silent=$!
	sleep 0.2
	run -0 timeout 3 curl -sf "http://127.0.0.1:$PORT/metrics"
	kill "$silent" 2>/dev/null || true
}

@test "no listener unless the config or an option asks for one" {
	local dir
	dir=$(mktemp -d)
	"$BIN/pyprobed" -f --socket "$dir/s" --config "$CONF" --metrics off 2>"$dir/log" 3>&- &
	local pid=$!
	for _ in $(seq 100); do [ -S "$dir/s" ] && break; sleep 0.05; done
	[ -S "$dir/s" ]
	run ! grep -q "metrics on" "$dir/log"
	kill "$pid"
	wait "$pid"
	run ! grep -qE "$SANITIZER_REPORT" "$dir/log"
	rm -rf "$dir"
}

@test "a real Prometheus server on loopback scrapes it" {
	local dir pport
	dir=$(mktemp -d /tmp/pyprobe-prom.XXXXXX)
	pport=$(free_port)
	cat >"$dir/prometheus.yml" <<-EOF
	global:
	  scrape_interval: 1s
	scrape_configs:
	  - job_name: pyprobe
	    static_configs:
	      - targets: ['127.0.0.1:$PORT']
	EOF
	prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
		--web.listen-address="127.0.0.1:$pport" >"$dir/log" 2>&1 3>&- &
	PROM_PID=$!
	local q up ok=
	# Both the samples and the server's own "up" series (written after them) must appear.
	for _ in $(seq 60); do
		q=$(curl -sfG "http://127.0.0.1:$pport/api/v1/query" --data-urlencode 'query=pyprobe_verdict' || true)
		up=$(curl -sfG "http://127.0.0.1:$pport/api/v1/query" --data-urlencode 'query=up{job="pyprobe"}' || true)
		if jq -e '.data.result | length >= 2' <<<"$q" >/dev/null 2>&1 &&
			[ "$(jq -r '.data.result[0].value[1]' <<<"$up" 2>/dev/null)" = 1 ]; then
			ok=1
			break
		fi
		sleep 0.5
	done
	[ -n "$ok" ] || { echo "$q $up" >&2; tail -20 "$dir/log" >&2; false; }
	jq -e --arg p "$GIL_PID" '.data.result[] | select(.metric.pid == $p and .metric.label == "gil-contended")' <<<"$q"
	kill "$PROM_PID"
	wait "$PROM_PID" 2>/dev/null || true
	PROM_PID=
	rm -rf "$dir"
}

@test "a thread name that is not UTF-8 does not spoil the page" {
	# prctl(PR_SET_NAME) with bytes the target chose: invalid UTF-8, a quote, a backslash;
	# at once, before the daemon attaches (it takes the name when it first sees the thread).
	/usr/bin/python3 -c '
import ctypes, time
ctypes.CDLL(None).prctl(15, b"bad\xff\"x\\\\", 0, 0, 0)
end = time.time() + 60
while time.time() < end:
    sum(range(1000))' "$TOKEN-utf8" 3>&- &
	local pid=$!
	for _ in $(seq 50); do
		scrape | grep -q "pyprobe_thread_state_seconds_total{pid=\"$pid\"" && break
		sleep 0.3
	done
	sleep 1.1	# past the page cache
	run -0 scrape
	kill "$pid"
	grep -q "pid=\"$pid\"" <<<"$output"
	promtool check metrics <<<"$output"
	# Exposition escapes: the quote as \", each backslash as \\; the bad byte as U+FFFD.
	grep -qF "thread=\"bad"$'\xef\xbf\xbd''\"x\\\\",' <<<"$output"
}

@test "a watched event loop: its busy periods as a histogram, its stalls counted as its own log says" {
	local pid stalls logged n b1 b2
	start_workload "$PY" aio_stalls sleep "$TOKEN"
	pid=$WL_PID
	for _ in $(seq 50); do
		"$BIN/pyprobe" --socket "$SOCK" list --json | jq -e --argjson p "$pid" '[.sessions[] | select(.pid == $p)] | length == 1' >/dev/null && break
		sleep 0.1
	done
	sleep 3
	run -0 scrape
	kill "$pid"
	stalls=$(metric pyprobe_loop_stalls_total "pid=\"$pid\"")
	logged=$(grep -c '^stall' "$WL_OUT")
	n=$(metric pyprobe_loop_busy_seconds_count "pid=\"$pid\"")
	# The 200 ms sleeps land in (134, 268] ms.
	b1=$(metric pyprobe_loop_busy_seconds_bucket "pid=\"$pid\",rule=\"cmdline:*$TOKEN*\",le=\"0.134218\"")
	b2=$(metric pyprobe_loop_busy_seconds_bucket "pid=\"$pid\",rule=\"cmdline:*$TOKEN*\",le=\"0.268435\"")
	echo "# stalls $stalls (logged $logged), periods $n, in (134, 268] ms: $((b2 - b1))" >&3
	# Stalls before the attach are the workload's only.
	[ "$stalls" -ge 3 ] && [ "$stalls" -le "$logged" ] && [ "$stalls" -ge $((logged - 2)) ]
	[ $((b2 - b1)) -ge "$stalls" ]
	[ "$n" -ge "$stalls" ]
}
