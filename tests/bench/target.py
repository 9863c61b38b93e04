# SPDX-License-Identifier: MIT
"""Benchmark target: prints "ready", waits for a line on stdin, runs a fixed
amount of work, prints the elapsed seconds, exits.

  cpu N      N iterations of a pure-Python loop
  switch N   N round trips between two threads on one CPU (two context switches each)
  gc N       N rounds of cyclic garbage: automatic collections, ~hundreds per second
"""
import os
import sys
import threading
import time


def cpu(n):
    x = 0
    for i in range(n):
        x = (x + i * i) % 1000003
    return x


def switch(n):
    # One CPU: every hand-off is a direct context switch, not a wakeup from
    # idle on the other core (whose latency would swamp what is measured).
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    a, b = threading.Event(), threading.Event()

    def pong():
        for _ in range(n):
            a.wait()
            a.clear()
            b.set()

    t = threading.Thread(target=pong)
    t.start()
    for _ in range(n):
        a.set()
        b.wait()
        b.clear()
    t.join()


class Node(object):
    pass


def gc_heavy(n):
    import gc
    gc.set_threshold(3000)  # ~500 collections/s: under pyprobed's default rate guard
    for _ in range(n):
        for _ in range(1000):
            x = Node()
            x.self = x


kind, n = sys.argv[1], int(sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()
t0 = time.perf_counter()
{"cpu": cpu, "switch": switch, "gc": gc_heavy}[kind](n)
print("%.6f" % (time.perf_counter() - t0), flush=True)
