# SPDX-License-Identifier: MIT
"""GC ground truth: times its own collections with gc.callbacks.

Waits for SIGUSR1, then runs a burst of explicit collections of every
generation over a heap full of reference cycles (automatic collection is off,
so these are the only ones), and writes "count total_seconds gen0 gen1 gen2"
to the file named by argv[1].
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
state = {"n": 0, "total": 0.0, "t0": 0.0, "gens": [0, 0, 0]}


def timer(phase, info):
    if phase == "start":
        state["t0"] = time.perf_counter()
    else:
        state["total"] += time.perf_counter() - state["t0"]
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
    f.write("%d %.9f %d %d %d\n" % ((state["n"], state["total"]) + tuple(state["gens"])))
os.rename(OUT + ".tmp", OUT)
common.forever()
