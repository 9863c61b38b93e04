# SPDX-License-Identifier: MIT
"""attrs: a loop that looks up obj.method on every iteration, or (argument "cached") binds it
once, or (argument "heavy") reads five instance attributes per iteration."""
import sys

import common


class Counter(object):
    def __init__(self):
        self.n = 0
        self.w = 2
        self.h = 3
        self.d = 4

    def method(self):
        return 1


def uncached(obj):
    while True:
        for _ in range(100000):
            obj.method()  # LOOKUP LINE


def heavy(obj):
    t = 0
    while True:
        for _ in range(100000):
            t = obj.w * obj.h + obj.d * obj.n - obj.w  # HEAVY LINE


def cached(obj):
    m = obj.method  # CACHED LOOKUP LINE
    while True:
        for _ in range(100000):
            m()  # CACHED CALL LINE


common.start_watchdog()
common.ready()
{"cached": cached, "heavy": heavy}.get(sys.argv[1] if sys.argv[1:] else "", uncached)(Counter())
