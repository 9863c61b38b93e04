# SPDX-License-Identifier: MIT
"""attrs: a loop that looks up obj.method on every iteration, or (argument "cached") binds it once."""
import sys

import common


class Counter(object):
    def __init__(self):
        self.n = 0

    def method(self):
        return 1


def uncached(obj):
    while True:
        for _ in range(100000):
            obj.method()  # LOOKUP LINE


def cached(obj):
    m = obj.method  # CACHED LOOKUP LINE
    while True:
        for _ in range(100000):
            m()  # CACHED CALL LINE


common.start_watchdog()
common.ready()
(cached if sys.argv[1:] == ["cached"] else uncached)(Counter())
