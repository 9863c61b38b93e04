# SPDX-License-Identifier: MIT
"""idle: a process that sleeps, waking now and then to do a little work."""
import time

import common

common.start_watchdog()
common.ready()
while True:
    time.sleep(0.5)
    sum(range(1000))
