# SPDX-License-Identifier: MIT
"""A pre-forking server in miniature: the parent forks two workers (no exec)
after PYPROBE_FORK_DELAY seconds; they spin, the parent sleeps. Prints
"child PID" for each."""
import os
import sys
import time

import common

common.start_watchdog()
common.ready()
time.sleep(float(os.environ.get("PYPROBE_FORK_DELAY", "1")))
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        common.start_watchdog()
        common.spin()
    sys.stdout.write("child %d\n" % pid)
    sys.stdout.flush()
while True:
    time.sleep(1)
