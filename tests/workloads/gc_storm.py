# SPDX-License-Identifier: MIT
"""GC storm: thousands of tiny collections per second (a pathological threshold)."""
import gc

import common

gc.set_threshold(1, 1, 1)  # collect on (almost) every container allocation
common.start_watchdog()
common.ready()
while True:
    [[] for _ in range(100)]
