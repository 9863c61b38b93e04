# SPDX-License-Identifier: MIT
"""Plain arithmetic loops, the baseline of what ordinary code costs
(argv[1]: lcg, float or objects). lcg and float must get no alloc-churn;
objects builds a dict, a tuple, a list and an instance per iteration and must."""
import sys

import common


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


def lcg():
    x = 1
    while True:
        for _ in range(10000):
            x = (x * 1103515245 + 12345) % 2147483648


def floats():
    x = 0.5
    while True:
        for i in range(10000):
            x = (x * 1.0000001 + i * 0.5) % 1000.0


def objects():
    keep = 0
    while True:
        for i in range(10000):
            d = {"a": i, "b": i + 1}
            t = (i, d, "x")
            l = [t, d]
            p = Point(t, l)
            keep += len(p.y)


common.start_watchdog()
kind = sys.argv[1] if len(sys.argv) > 1 else "lcg"
common.ready()
{"lcg": lcg, "float": floats, "objects": objects}[kind]()
