# SPDX-License-Identifier: MIT
"""gil-contended: four threads running pure-Python loops at once."""
import common


def spin():
    x = 0
    while True:
        for i in range(10000):
            x = (x + i * i) % 1000003


common.start_watchdog()
common.run_threads(4, spin)
common.ready()
common.forever()
