# SPDX-License-Identifier: MIT
"""Benchmark target: prints "ready", waits for a line on stdin, runs a fixed
amount of work, prints the elapsed seconds, exits.

  cpu N      N iterations of a pure-Python loop
  switch N   N round trips between two threads (two context switches each)
"""
import sys
import threading
import time


def cpu(n):
    x = 0
    for i in range(n):
        x = (x + i * i) % 1000003
    return x


def switch(n):
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


kind, n = sys.argv[1], int(sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()
t0 = time.perf_counter()
{"cpu": cpu, "switch": switch}[kind](n)
print("%.6f" % (time.perf_counter() - t0), flush=True)
