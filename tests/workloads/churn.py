# SPDX-License-Identifier: MIT
"""churn: building and dropping objects in a loop ("alloc"), or arithmetic on small ints ("ints": additions and comparisons of cached ints, nothing allocated)."""
import sys

import common


class Point(object):
    def __init__(self, x, y):
        self.x = x
        self.y = y


def alloc():
    while True:
        for i in range(1000):
            # Rebinding p frees the previous iteration's objects on the same line.
            p = [Point(i, i), (i, i, i), {"k": i}, [i] * 3, str(i)]  # ALLOC LINE


def ints():
    x = 0
    while True:
        for i in range(100):
            x = x + 1 if x < 200 else 0  # INTS LINE


common.start_watchdog()
common.ready()
alloc() if sys.argv[1:] == ["alloc"] else ints()
