# SPDX-License-Identifier: MIT
"""Changes its nature: pure-Python CPU work for PYPROBE_PHASE_SECONDS, then idle."""
import os
import time

import common

common.start_watchdog()
common.ready()
end = time.time() + float(os.environ.get("PYPROBE_PHASE_SECONDS", "3"))
x = 0
while time.time() < end:
    for i in range(10000):
        x += i * i
while True:
    time.sleep(1)
