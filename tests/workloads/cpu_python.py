# SPDX-License-Identifier: MIT
"""cpu-bound-python: one thread running a pure-Python loop."""
import common


def spin():
    x = 0
    while True:
        for i in range(10000):
            x = (x + i * i) % 1000003


common.start_watchdog()
common.ready()
spin()
