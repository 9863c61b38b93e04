# SPDX-License-Identifier: MIT
"""GC ground truth: times its own collections with gc.callbacks.

Waits for SIGUSR1, then runs a burst of explicit collections of every
generation over a heap full of reference cycles (automatic collection is off,
so these are the only ones), and writes "count total_seconds gen0 gen1 gen2
stall_seconds gen2_seconds" to the file named by argv[1]: stall is the most one
collection took beyond the median of its generation (a loaded machine
descheduling the workload mid-collection), gen2_seconds the full collections'
total.
"""
import gc
import os
import signal
import sys
import time

import common

OUT = sys.argv[1]
BURST = int(sys.argv[2]) if len(sys.argv) > 2 else 60


class Node(object):
    def __init__(self):
        self.other = None


def cycles(n):
    out = []
    for _ in range(n):
        a, b = Node(), Node()
        a.other, b.other = b, a
        out.append(a)
    return out


gc.disable()
keep = cycles(100000)  # long-lived: makes full collections take milliseconds
gc.collect()
state = {"n": 0, "total": 0.0, "t0": 0.0, "gens": [0, 0, 0], "each": [[], [], []]}


def timer(phase, info):
    if phase == "start":
        state["t0"] = time.perf_counter()
    else:
        d = time.perf_counter() - state["t0"]
        state["total"] += d
        state["each"][info["generation"]].append(d)
        state["n"] += 1
        state["gens"][info["generation"]] += 1


go = []
signal.signal(signal.SIGUSR1, lambda *a: go.append(1))
gc.callbacks.append(timer)
common.start_watchdog()
common.ready()
while not go:
    time.sleep(0.01)
for i in range(BURST):
    garbage = cycles(3000)
    del garbage
    gc.collect(i % 3)
    time.sleep(0.005)
gc.callbacks.remove(timer)
with open(OUT + ".tmp", "w") as f:
    stall = 0.0
    for each in state["each"]:
        if each:
            median = sorted(each)[len(each) // 2]
            stall = max(stall, max(each) - median)
    f.write("%d %.9f %d %d %d %.9f %.9f\n" % ((state["n"], state["total"]) + tuple(state["gens"]) +
                                            (stall, sum(state["each"][2]))))
os.rename(OUT + ".tmp", OUT)
common.forever()
