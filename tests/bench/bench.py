# SPDX-License-Identifier: MIT
"""make bench: pyprobe's overhead, measured side by side in one run.

Target slowdown: each target (target.py) runs the same fixed work unobserved
and observed in ROUNDS pairs, the order alternating; the slowdown is the median
of the per-pair ratios, with their range to show the noise. Observed means:

  classify       a classify window open on it for the whole run (the default use; it
                 samples Python stacks too, for the attr-hot and alloc-churn traits)
  top            a top window: CPU samples walk the Python stack in BPF
  attrs          an attrs window: stacks, plus the innermost instruction decoded (churn
                 costs the same)
  gc             a gc window: every collection timed by USDT probes or uprobes
  wall           a record --wall window: CPU samples, plus the daemon reading the
                 blocked threads' stacks and reasons every 20 ms (its CPU share is
                 reported: the cost is the daemon's, not the target's)
  watched        its command line matches a watch rule (window = 1, gc-timing =
                 sampled): picked up at exec, classified every second
  watched-exact  the same with gc-timing = exact (GC probes attached all the time)
  none           not observed either: an A/A pair, the noise floor, in every run
  perf           anchor: `perf record -F 99 -g -p PID` (task-bound perf events)
  bpftrace       anchor: a bpftrace `profile:hz:99` one-liner filtered on the PID
  floor          anchor: an empty BPF program on the scheduler's switch hook, the one
                 pyprobe's scheduler program uses (tests/bench/floor.c): what any
                 program there costs the target, which no program can avoid
  peer           Python 3.15's own sampling profiler (`python3.15 -m profiling.sampling
                 attach -r 99 -a`), entered into the target's mount namespace and root

Peer phase: when the Debian root of tools/debian-root.sh holds python3.15
(PEER_PYTHON, default $PYPROBE_ROOTS/bin/python3.15), the CPU loop and the
four-thread GIL loop run under that interpreter with none, top (pyprobe's
stack sampler, 99 Hz) and peer (the same rate): both tools' cost on the same
target, side by side. PEER=0 leaves it out.

Each row gives the slowdown of the target's CPU time (getrusage, all threads)
and of its wall time, as the median of the per-pair ratios with their range;
the target is pinned to one CPU where its shape allows (switch, paced, sock).

BPF statistics: the kernel's per-program statistics cost two clock reads per
program run, so they are off during the pairs. After each row's pairs the
bench switches kernel.bpf_stats_enabled on for one more observed run (and
back off; the administrator's setting is restored at the end) and reads each
program's run count and run time from the daemon (pyprobe status --json)
around it. For each row it reports ns per run, runs per second of the
target's work and the programs' time as a share of that run's target CPU
time: figures that do not depend on the neighbours. A separate phase measures the sched-switch program on switches
that involve no target thread (a target attached but asleep, an unobserved
process switching).

Daemon cost: a fresh daemon watches N moderately active processes (N = 0, 1,
10; window = 10, metrics on, scraped with curl every 3 s) for WATCH_SECONDS;
its CPU time (utime + stime) as % of one CPU, its RSS, and the scrape latency.

Then attach latency and classify latency beyond the window. Ratios only:
absolute numbers depend on the machine. Nothing here is asserted.

Environment: ROUNDS (default 9), WATCH_SECONDS (30), TARGETS and MODES
(comma-separated subsets, for quick runs), PYTHON (/usr/bin/python3), O,
SKIP_FLEET=1 (no daemon-cost phase).
"""
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("O", os.path.join(os.path.dirname(__file__), "..", "..", ".output"))
PY = os.environ.get("PYTHON", "/usr/bin/python3")
ROUNDS = int(os.environ.get("ROUNDS", "9"))
WATCH_SECONDS = float(os.environ.get("WATCH_SECONDS", "30"))
HERE = os.path.dirname(os.path.abspath(__file__))
PEER_PY = os.environ.get("PEER_PYTHON", os.path.join(
    os.environ.get("PYPROBE_ROOTS", "/var/cache/pyprobe/test-roots"), "bin", "python3.15"))

# Tokens in a target's argv that the bench daemons' watch rules match.
TOKEN = {"watched": "PYPROBE_BENCH_WATCHED", "watched-exact": "PYPROBE_BENCH_EXACT"}
FLEET_TOKEN = "PYPROBE_BENCH_FLEET"

TARGETS = [  # kind, work, description, modes skipped
    ("cpu", 15000000, "CPU-bound Python loop", ("gc", "watched-exact", "floor")),
    ("deep", 15000000, "the same loop 32 Python frames deep",
     ("classify", "attrs", "gc", "loop", "wall", "watched", "watched-exact", "perf", "bpftrace", "floor")),
    ("switch", 100000, "threads ping-ponging on one CPU", ("loop",)),
    ("paced", 100000, "the same, paced by Python work to ~100k switches/s", ("loop",)),
    ("sock", 100000, "TCP loopback echo, 64 B, one CPU", ("loop",)),
    ("gc", 10000, "GC-heavy loop", ("loop", "floor")),
    ("aioloop", 20000, "asyncio loop, ~10k callbacks/s waking ~1k times/s",
     ("top", "attrs", "gc", "watched", "watched-exact", "perf", "bpftrace", "floor")),
]
TARGETS_ALL = dict((t[0], t[1]) for t in TARGETS)
# GC probes cost per collection and per context switch of the target: the CPU
# loop has neither, so gc and watched-exact are not measured on it. The floor
# matters where switches are many: the CPU and GC loops switch a few times a second.
# attrs stands for churn too: both sample stacks and decode the leaf the same way.
MODES = ["none", "classify", "top", "attrs", "gc", "loop", "wall", "watched", "watched-exact", "perf", "bpftrace",
         "floor"]
# The CLI words of a mode that is not a command of its own.
MODE_ARGS = {"wall": ["record", "--wall", "-o", "/dev/null"]}


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def pyprobe(sock, *args, check=True):
    r = subprocess.run([os.path.join(BIN, "pyprobe"), "--socket", sock] + list(args),
                       capture_output=True, text=True, timeout=600)
    if check and r.returncode != 0:
        raise RuntimeError("pyprobe %s: %s" % (" ".join(args), r.stderr))
    return r.stdout


def sessions(sock):
    return json.loads(pyprobe(sock, "list", "--json"))["sessions"]


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.01)
    raise RuntimeError("timed out waiting for " + what)


class Daemon:
    def __init__(self, tmp, name, conf_lines=(), args=()):
        self.sock = os.path.join(tmp, name + ".sock")
        self.conf = os.path.join(tmp, name + ".conf")
        self.log = os.path.join(tmp, name + ".log")
        with open(self.conf, "w") as f:
            f.write("".join(line + "\n" for line in conf_lines))
        with open(self.log, "w") as err:
            self.p = subprocess.Popen([os.path.join(BIN, "pyprobed"), "--foreground", "--socket",
                                       self.sock, "--config", self.conf] + list(args), stderr=err)
        wait_for(lambda: os.path.exists(self.sock) or self.p.poll() is not None, 10, "daemon socket")
        if self.p.poll() is not None:
            raise RuntimeError("pyprobed %s exited: %s" % (name, open(self.log).read()))
        self.pid = self.p.pid

    def idle(self):
        """No process observed (the previous target's session is gone)."""
        wait_for(lambda: not sessions(self.sock), 10, "daemon to drop its sessions")

    def stop(self):
        self.p.terminate()
        self.p.wait()


class Bench:
    def __init__(self, tmp):
        self.tmp = tmp
        self.daemons = {}
        self.echo = None
        self.echo_port = None
        self.py = PY
        self.daemon_cpu = 0.0

    def start(self):
        # One daemon serves the request modes and "watched"; "watched-exact"
        # needs gc-timing = exact, a daemon-wide setting.
        main = Daemon(self.tmp, "main", ["window = 1", "watch = cmdline *%s*" % TOKEN["watched"]])
        self.daemons = {"main": main}
        if "watched-exact" in MODES:
            self.daemons["exact"] = Daemon(self.tmp, "exact", [
                "window = 1", "gc-timing = exact", "watch = cmdline *%s*" % TOKEN["watched-exact"]])
        if "sock" in [t[0] for t in TARGETS]:
            self.echo = subprocess.Popen([PY, os.path.join(HERE, "target.py"), "echo"],
                                         stdout=subprocess.PIPE, text=True)
            self.echo_port = int(self.echo.stdout.readline())
        return main

    def stop(self):
        if self.echo:
            self.echo.kill()
            self.echo.wait()
        for d in self.daemons.values():
            d.stop()

    def daemon_for(self, mode):
        return self.daemons["exact" if mode == "watched-exact" else "main"]

    def run_target(self, kind, n, mode, sock=None):
        """One timed run; mode None or "none" = unobserved. Returns the elapsed
        seconds, the collections the work caused, the target's CPU seconds and
        the BPF program statistics' deltas over the run ({name: [runs, ns]})."""
        if mode == "none":
            mode = None
        for d in self.daemons.values():
            d.idle()
        argv = [self.py, os.path.join(HERE, "target.py"), kind, str(n)]
        if kind == "sock":
            argv.append(str(self.echo_port))
        if mode in TOKEN:
            argv.append(TOKEN[mode])
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        client = None
        anchor = None
        if mode == "perf":
            anchor = subprocess.Popen(["perf", "record", "-F", "99", "-g", "-p", str(p.pid), "-o",
                                       os.path.join(self.tmp, "perf.data")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)  # attached before the work begins
        elif mode == "bpftrace":
            anchor = subprocess.Popen(["bpftrace", "-e", "profile:hz:99 /pid == %d/ { @[ustack] = count(); }"
                                       % p.pid], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(3.0)  # bpftrace compiles and attaches
        elif mode == "floor":
            anchor = subprocess.Popen([FLOOR], stdout=subprocess.PIPE, text=True)
            assert anchor.stdout.readline().strip() == "ready"
        elif mode == "peer":
            # The wrapper chroots the target into its own mount namespace: the peer reads the
            # target's maps from there, as it would inside the container.
            anchor = subprocess.Popen(["nsenter", "-t", str(p.pid), "-m", "-r", "-w",
                                       "/usr/bin/" + os.path.basename(self.py), "-m", "profiling.sampling",
                                       "attach", "-r", "99", "-a", "--mode", "cpu", "--collapsed", "-o",
                                       "/dev/null", str(p.pid)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)  # attached before the work begins
        elif mode in TOKEN:
            sock = self.daemon_for(mode).sock
            wait_for(lambda: any(s["pid"] == p.pid and s.get("watch") for s in sessions(sock)),
                     20, "watch rule to pick up %d" % p.pid)
        elif mode:
            sock = sock or self.daemons["main"].sock
            words = MODE_ARGS.get(mode, [mode, "--json"])
            client = subprocess.Popen([os.path.join(BIN, "pyprobe"), "--socket", sock, words[0],
                                       str(p.pid), "--seconds", "600"] + words[1:],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_for(lambda: any(s["pid"] == p.pid and s["requests"] > 0 for s in sessions(sock)),
                     5, "%s window on %d" % (mode, p.pid))
        stats0 = prog_stats(sock or self.daemons["main"].sock) if mode and mode not in ANCHORS else {}
        daemon = self.daemons["main"].pid if mode and mode not in ANCHORS and mode not in TOKEN else None
        d0 = cpu_seconds(daemon) if daemon else 0.0
        p.stdin.write("go\n")
        p.stdin.flush()
        elapsed, collections, cpu_s = p.stdout.readline().split()
        if daemon:  # the daemon's CPU seconds over the last observed run
            self.daemon_cpu = cpu_seconds(daemon) - d0
        stats1 = prog_stats(sock or self.daemons["main"].sock) if stats0 else {}
        p.wait()
        if client:
            client.kill()
            client.wait()
        delta = {}
        if anchor:
            anchor.send_signal(2)
            try:
                out, _ = anchor.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                anchor.kill()
                out, _ = anchor.communicate()
            if mode == "floor" and out:  # its own program's statistics: "runs ns"
                runs, ns = out.split()[:2]
                delta["floor (empty program)"] = [int(runs), int(ns)]
        delta.update({k: [stats1[k][0] - v[0], stats1[k][1] - v[1]] for k, v in stats0.items() if k in stats1})
        return float(elapsed), int(collections), float(cpu_s), delta

    def slowdown(self, kind, n, mode, sock=None):
        """Paired runs, order alternating; returns a row: median off and on
        seconds, median ratio with its range, collections/s of the off runs."""
        off, on, ratios, cpu_ratios, gcs, cpu_on, dshare = [], [], [], [], [], 0.0, []
        progs = {}
        for i in range(ROUNDS):
            self.daemon_cpu = 0.0
            if i % 2:
                b, _, bc, st = self.run_target(kind, n, mode, sock)
                a, c, ac, _ = self.run_target(kind, n, None)
            else:
                a, c, ac, _ = self.run_target(kind, n, None)
                b, _, bc, st = self.run_target(kind, n, mode, sock)
            dshare.append(self.daemon_cpu / b if b > 0 else 0.0)
            off.append(a)
            on.append(b)
            ratios.append(b / a)
            cpu_ratios.append(bc / ac if ac > 0 else 1.0)
            gcs.append(c / a)
        # The kernel's statistics cost two clock reads per program run: they are on only for
        # one more observed run after the pairs, whose CPU time the programs' shares refer to.
        if mode not in (None, "none") and (mode not in ANCHORS or mode == "floor"):
            set_bpf_stats(True)
            try:
                b, _, cpu_on, st = self.run_target(kind, n, mode, sock)
            finally:
                set_bpf_stats(False)
            progs = {k: [runs, ns, b] for k, (runs, ns) in st.items()}
        return {"kind": kind, "n": n, "mode": mode, "off": statistics.median(off),
                "on": statistics.median(on), "ratio": statistics.median(ratios), "lo": min(ratios),
                "hi": max(ratios), "cpu_ratio": statistics.median(cpu_ratios), "cpu_lo": min(cpu_ratios),
                "cpu_hi": max(cpu_ratios), "gc_rate": statistics.median(gcs), "cpu_on": cpu_on,
                "progs": progs, "daemon_share": statistics.median(dshare)}


ANCHORS = ("perf", "bpftrace", "peer", "floor")
FLOOR = os.path.join(BIN, "tests", "bench", "floor")


def prog_stats(sock):
    """Each BPF program's cumulative run count and time, from the daemon (kernel.bpf_stats_enabled)."""
    st = json.loads(pyprobe(sock, "status", "--json"))["bpf"].get("stats", {})
    return {k: [v["run_cnt"], v["run_time_ns"]] for k, v in st.get("programs", {}).items()}


def set_bpf_stats(on):
    """Returns the previous value."""
    path = "/proc/sys/kernel/bpf_stats_enabled"
    try:
        with open(path) as f:
            prev = f.read().strip()
        with open(path, "w") as f:
            f.write("1" if on else "0")
        return prev
    except OSError:
        return None


def nontarget_switch_cost(bench):
    """The sched-switch program on switches that involve no target thread: a target is
    attached but asleep while an unobserved process ping-pongs."""
    sock = bench.daemons["main"].sock
    sleeper = subprocess.Popen([PY, os.path.join(HERE, "..", "workloads", "sleeping.py")],
                               stdout=subprocess.PIPE, text=True)
    sleeper.stdout.readline()
    client = subprocess.Popen([os.path.join(BIN, "pyprobe"), "--socket", sock, "classify", str(sleeper.pid),
                               "--seconds", "600", "--json"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: any(s["pid"] == sleeper.pid and s["requests"] > 0 for s in sessions(sock)), 5,
                 "window on the sleeper")
        s0 = prog_stats(sock).get("handle_sched_switch", [0, 0])
        for _ in range(3):
            p = subprocess.Popen([PY, os.path.join(HERE, "target.py"), "switch", "100000"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            p.stdout.readline()
            p.stdin.write("go\n")
            p.stdin.flush()
            p.stdout.readline()
            p.wait()
        s1 = prog_stats(sock).get("handle_sched_switch", [0, 0])
    finally:
        client.kill()
        client.wait()
        sleeper.kill()
        sleeper.wait()
    runs = s1[0] - s0[0]
    return (s1[1] - s0[1]) / runs if runs else 0.0, runs


def proc_status_kb(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def scrape(port):
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total} %{size_download}",
                        "http://127.0.0.1:%d/metrics" % port], capture_output=True, text=True, timeout=30)
    code, secs, size = r.stdout.split()
    if code != "200":
        raise RuntimeError("metrics scrape: HTTP %s %s" % (code, r.stderr))
    return float(secs), int(size)


def daemon_cost(tmp, n):
    """A fresh daemon watching n worker processes for WATCH_SECONDS, scraped every 3 s."""
    port = free_port()
    d = Daemon(tmp, "fleet%d" % n, ["window = 10", "metrics = %d" % port,
                                    "watch = cmdline *%s*" % FLEET_TOKEN])
    workers = []
    try:
        for _ in range(n):
            w = subprocess.Popen([PY, os.path.join(HERE, "target.py"), "worker", FLEET_TOKEN],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            assert w.stdout.readline().strip() == "ready"
            workers.append(w)
        pids = {w.pid for w in workers}
        wait_for(lambda: pids <= {s["pid"] for s in sessions(d.sock) if s.get("watch")}, 30,
                 "%d watched workers" % n)
        time.sleep(2)
        c0, t0 = cpu_seconds(d.pid), time.monotonic()
        lat, size = [], 0
        while time.monotonic() - t0 < WATCH_SECONDS:
            secs, size = scrape(port)
            lat.append(secs)
            time.sleep(max(0.0, min(3.0, WATCH_SECONDS - (time.monotonic() - t0))))
        c1, t1 = cpu_seconds(d.pid), time.monotonic()
        rss = proc_status_kb(d.pid)
        watched = [s for s in sessions(d.sock) if s.get("watch")]
        windows = min([s["watch"]["windows"] for s in watched] or [0])
        if len(watched) != n:
            raise RuntimeError("fleet%d: %d watched at the end" % (n, len(watched)))
        return {"n": n, "cpu_pct": 100 * (c1 - c0) / (t1 - t0), "rss_kb": rss,
                "scrape_ms": [1000 * x for x in lat], "scrape_bytes": size, "windows": windows}
    finally:
        for w in workers:
            w.kill()
            w.wait()
        d.stop()


def others():
    """pyprobed processes of other users of this machine (noise)."""
    r = subprocess.run(["pgrep", "-x", "pyprobed"], capture_output=True, text=True)
    return len(r.stdout.split())


def rate(row, what):
    if row["kind"] in ("switch", "paced"):
        return "%s (%.0fk switches/s)" % (what, 2 * row["n"] / row["off"] / 1000)
    if row["kind"] == "sock":
        return "%s (%.0fk round trips/s)" % (what, row["n"] / row["off"] / 1000)
    if row["kind"] == "gc":
        return "%s (%.0f collections/s)" % (what, row["gc_rate"])
    if row["kind"] == "aioloop":
        return "%s (%.1fk callbacks/s)" % (what, row["n"] / row["off"] / 1000)
    return what


def main():
    global TARGETS, MODES
    if os.environ.get("TARGETS"):
        TARGETS = [t for t in TARGETS if t[0] in os.environ["TARGETS"].split(",")]
    if os.environ.get("MODES"):
        MODES = [m for m in MODES if m in os.environ["MODES"].split(",")]
    for tool, mode in (("perf", "perf"), ("bpftrace", "bpftrace"), (FLOOR, "floor")):
        if mode in MODES and not shutil.which(tool):
            log("%s not installed: its anchor row is left out" % tool)
            MODES.remove(mode)
    stats_prev = set_bpf_stats(False)
    tmp = tempfile.mkdtemp(prefix="pyprobe-bench.")
    started = time.monotonic()
    others_before = others()
    bench = Bench(tmp)
    try:
        main_d = bench.start()
        rss_idle = proc_status_kb(main_d.pid)
        rows = []  # (description, row)
        for kind, n, what, skip in TARGETS:
            for mode in MODES:
                if mode in skip:
                    continue
                log("%s under %s (%d pairs)" % (kind, mode, ROUNDS))
                rows.append((what, bench.slowdown(kind, n, mode)))
        log("sched-switch program on switches of no target")
        set_bpf_stats(True)
        try:
            nontarget = nontarget_switch_cost(bench)
        finally:
            set_bpf_stats(False)
        fast_row = None
        if "top" in MODES and "cpu" in [t[0] for t in TARGETS]:
            log("cpu under top at 999 Hz (%d pairs)" % ROUNDS)
            fast = Daemon(tmp, "fast", args=["--sample-hz", "999"])
            try:
                fast_row = bench.slowdown("cpu", TARGETS[0][1], "top", fast.sock)
                fast_row["mode"] = "top 999 Hz"
                rows.append((TARGETS[0][2], fast_row))
            finally:
                fast.stop()

        if os.environ.get("PEER", "1") != "0" and os.access(PEER_PY, os.X_OK):
            bench.py = PEER_PY
            for kind, n, what in (("cpu", TARGETS_ALL["cpu"], "CPU-bound Python loop, Python 3.15 (Debian root)"),
                                  ("gilspin", TARGETS_ALL["cpu"], "four threads sharing the same loop, Python 3.15 (Debian root)")):
                for mode in ("none", "top", "peer"):
                    log("%s under %s, %s (%d pairs)" % (kind, mode, PEER_PY, ROUNDS))
                    rows.append((what, bench.slowdown(kind, n, mode)))
            bench.py = PY
        elif os.environ.get("PEER", "1") != "0":
            log("no %s (tools/debian-root.sh builds it): the peer rows are left out" % PEER_PY)

        # Attach latency and classify latency beyond the window, on a fresh target each time.
        log("attach and classify latency (%d runs)" % ROUNDS)
        attach, extra = [], []
        rss_busy = 0
        for _ in range(ROUNDS):
            p = subprocess.Popen([PY, os.path.join(HERE, "..", "workloads", "sleeping.py")],
                                 stdout=subprocess.PIPE, text=True)
            p.stdout.readline()
            t0 = time.perf_counter()
            reply = json.loads(pyprobe(main_d.sock, "classify", str(p.pid), "--seconds", "0.5", "--json"))
            extra.append(time.perf_counter() - t0 - reply["requested_seconds"])
            attach.append(reply["attach_ms"])
            rss_busy = max(rss_busy, proc_status_kb(main_d.pid))
            p.kill()
            p.wait()
        rss_after = proc_status_kb(main_d.pid)
        bench.stop()
        bench = None

        fleet = []
        for n in (() if os.environ.get("SKIP_FLEET") else (0, 1, 10)):
            log("daemon cost watching %d process(es) for %.0f s" % (n, WATCH_SECONDS))
            fleet.append(daemon_cost(tmp, n))
        others_after = others()

        print()
        print("pyprobe overhead: %s, %d alternating off/on pairs per row, %d CPUs, %s"
              % (PY, ROUNDS, os.cpu_count(), time.strftime("%Y-%m-%d")))
        print("%-40s %7s %7s %10s %16s %10s %16s" % ("target / observed by", "off (s)", "on (s)", "CPU time",
                                                       "CPU pair range", "wall", "wall pair range"))
        last = None
        for what, r in rows:
            if what != last:
                # the rate of the first row's unobserved runs names the target
                print(rate(r, what))
            last = what
            print("  %-38s %7.3f %7.3f %+9.1f%% %+7.0f%% .. %+.0f%% %+9.1f%% %+7.0f%% .. %+.0f%%%s"
                  % (r["mode"], r["off"], r["on"], 100 * (r["cpu_ratio"] - 1), 100 * (r["cpu_lo"] - 1),
                     100 * (r["cpu_hi"] - 1), 100 * (r["ratio"] - 1), 100 * (r["lo"] - 1),
                     100 * (r["hi"] - 1),
                     "   daemon %.1f%% of a CPU" % (100 * r["daemon_share"]) if r.get("daemon_share") else ""))
        print()
        print("BPF programs, kernel statistics (kernel.bpf_stats_enabled) over one more observed run per row:")
        print("  %-26s %-26s %10s %12s %16s" % ("target / mode", "program", "ns/run", "runs/s",
                                                  "% of target CPU"))
        for what, r in rows:
            for name, (runs, ns, secs) in sorted(r.get("progs", {}).items()):
                if not runs:
                    continue
                print("  %-26s %-26s %10.0f %12.0f %15.2f%%"
                      % ((r["kind"] + " / " + str(r["mode"]))[:26], name, ns / runs, runs / secs if secs else 0,
                         100 * ns / 1e9 / r["cpu_on"] if r["cpu_on"] else 0))
        print("  sched-switch program on switches involving no target thread: %.0f ns/run (%d runs)"
              % nontarget)
        if fast_row:
            print("per-sample cost with stack walk (999 Hz)       %.1f us"
                  % (1e6 * fast_row["off"] * (fast_row["ratio"] - 1) / (999 * fast_row["on"])))
        print("attach latency (request to probes live)        median %.1f ms, max %.1f ms"
              % (statistics.median(attach), max(attach)))
        print("classify latency beyond its window             median %.0f ms, max %.0f ms"
              % (1000 * statistics.median(extra), 1000 * max(extra)))
        print("daemon RSS, on request                         idle %.1f MB, observing %.1f MB, after %.1f MB"
              % (rss_idle / 1024, rss_busy / 1024, rss_after / 1024))
        print("daemon watching N processes for %.0f s (window 10, metrics scraped every 3 s):"
              % WATCH_SECONDS)
        print("  %3s %14s %8s %23s %10s %8s" % ("N", "CPU (% of one)", "RSS (MB)", "scrape median/max (ms)",
                                               "scrape kB", "windows"))
        for f in fleet:
            print("  %3d %14.2f %8.1f %15.1f / %5.1f %10.1f %8d"
                  % (f["n"], f["cpu_pct"], f["rss_kb"] / 1024, statistics.median(f["scrape_ms"]),
                     max(f["scrape_ms"]), f["scrape_bytes"] / 1024, f["windows"]))
        print("other pyprobed processes on the machine: %d at start, %d at the end; runtime %.0f s"
              % (others_before, others_after, time.monotonic() - started))
    finally:
        if stats_prev is not None:
            set_bpf_stats(stats_prev == "1")
        if bench:
            bench.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
