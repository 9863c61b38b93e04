# SPDX-License-Identifier: MIT
"""make bench: pyprobe's overhead, measured side by side in one run.

Each target runs the same fixed work unobserved and observed (a classify
window open on it for the whole run) in ROUNDS pairs, the order alternating;
the slowdown is the median of the per-pair ratios, with their range to show
the noise. Ratios only: absolute numbers depend on the machine.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("O", os.path.join(os.path.dirname(__file__), "..", "..", ".output"))
PY = os.environ.get("PYTHON", "/usr/bin/python3")
ROUNDS = int(os.environ.get("ROUNDS", "9"))
HERE = os.path.dirname(os.path.abspath(__file__))


def pyprobe(sock, *args, check=True):
    r = subprocess.run([os.path.join(BIN, "pyprobe"), "--socket", sock] + list(args),
                       capture_output=True, text=True, timeout=600)
    if check and r.returncode != 0:
        raise RuntimeError("pyprobe %s: %s" % (" ".join(args), r.stderr))
    return r.stdout


def run_target(sock, kind, n, observed, cmd="classify"):
    p = subprocess.Popen([PY, os.path.join(HERE, "target.py"), kind, str(n)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    client = None
    if observed:
        client = subprocess.Popen([os.path.join(BIN, "pyprobe"), "--socket", sock, cmd,
                                   str(p.pid), "--seconds", "600", "--json"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            sessions = json.loads(pyprobe(sock, "list", "--json"))["sessions"]
            if any(s["pid"] == p.pid for s in sessions):
                break
            time.sleep(0.01)
        else:
            raise RuntimeError("never attached")
    p.stdin.write("go\n")
    p.stdin.flush()
    elapsed = float(p.stdout.readline())
    p.wait()
    if client:
        client.kill()
        client.wait()
    return elapsed


def slowdown(sock, kind, n, cmd="classify"):
    """Paired runs, order alternating; returns (median off, median on, median ratio, min, max)."""
    off, on, ratios = [], [], []
    for i in range(ROUNDS):
        if i % 2:
            b = run_target(sock, kind, n, True, cmd)
            a = run_target(sock, kind, n, False)
        else:
            a = run_target(sock, kind, n, False)
            b = run_target(sock, kind, n, True, cmd)
        off.append(a)
        on.append(b)
        ratios.append(b / a)
    return (statistics.median(off), statistics.median(on), statistics.median(ratios), min(ratios),
            max(ratios))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start_daemon(sock, *args):
    d = subprocess.Popen([os.path.join(BIN, "pyprobed"), "--foreground", "--socket", sock] + list(args),
                         stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(sock):
            break
        time.sleep(0.05)
    return d


def main():
    tmp = tempfile.mkdtemp(prefix="pyprobe-bench.")
    sock = os.path.join(tmp, "sock")
    daemon = start_daemon(sock)
    try:
        rss_idle = rss_kb(daemon.pid)
        rows = []
        for kind, n, what in (("cpu", 15000000, "CPU-bound Python loop"),
                              ("switch", 100000, "two threads ping-ponging on one CPU (%.0fk sw/s)"),
                              ):
            rows.append((what,) + slowdown(sock, kind, n))
        # Exact GC timing (pyprobe gc: USDT or uprobes) on a GC-heavy loop.
        rows.append(("GC-heavy loop, pyprobe gc (every collection timed)",) + slowdown(sock, "gc", 10000, "gc"))
        # CPU sampling with Python stacks walked in BPF, at the default rate and at 999 Hz.
        rows.append(("CPU-bound loop, top (stack walks) at 99 Hz",) + slowdown(sock, "cpu", 15000000, "top"))
        fast_sock = os.path.join(tmp, "sock999")
        fast = start_daemon(fast_sock, "--sample-hz", "999")
        try:
            rows.append(("CPU-bound loop, top (stack walks) at 999 Hz",) +
                        slowdown(fast_sock, "cpu", 15000000, "top"))
        finally:
            fast.terminate()
            fast.wait()

        # Attach latency and classify latency beyond the window, on a fresh target each time.
        attach, extra = [], []
        for _ in range(ROUNDS):
            p = subprocess.Popen([PY, os.path.join(HERE, "..", "workloads", "sleeping.py")],
                                 stdout=subprocess.PIPE, text=True)
            p.stdout.readline()
            t0 = time.perf_counter()
            reply = json.loads(pyprobe(sock, "classify", str(p.pid), "--seconds", "0.5", "--json"))
            extra.append(time.perf_counter() - t0 - reply["requested_seconds"])
            attach.append(reply["attach_ms"])
            rss_busy = rss_kb(daemon.pid)
            p.kill()
            p.wait()

        print("pyprobe overhead (%s; %d alternating off/on pairs; observed = classify window open)"
              % (PY, ROUNDS))
        print("%-44s %8s %8s %9s  %s" % ("target", "off (s)", "on (s)", "slowdown", "pair range"))
        for what, off, on, ratio, lo, hi in rows:
            if "sw/s" in what:
                what = what % (2 * 100000 / off / 1000)
            print("%-44s %8.3f %8.3f %8.2f%%  %+.1f%% .. %+.1f%%"
                  % (what, off, on, 100 * (ratio - 1), 100 * (lo - 1), 100 * (hi - 1)))
        # Cost of one sample with a stack walk: the extra time over the samples taken.
        for what, off, on, ratio, lo, hi in rows:
            if "999 Hz" in what:
                print("per-sample cost with stack walk (999 Hz)      %.1f us"
                      % (1e6 * off * (ratio - 1) / (999 * on)))
        print("attach latency (request to probes live)      median %.1f ms, max %.1f ms"
              % (statistics.median(attach), max(attach)))
        print("classify latency beyond its window           median %.0f ms, max %.0f ms"
              % (1000 * statistics.median(extra), 1000 * max(extra)))
        print("daemon RSS                                   idle %.1f MB, after observing %.1f MB"
              % (rss_idle / 1024, rss_busy / 1024))
    finally:
        daemon.terminate()
        daemon.wait()
        os.rmdir(tmp) if os.path.isdir(tmp) and not os.listdir(tmp) else None


if __name__ == "__main__":
    sys.exit(main())
