# SPDX-License-Identifier: MIT
"""Take over a PID the way a forking server's worker would, without exec.

  fork_at.py PID

Sets /proc/sys/kernel/ns_last_pid to PID - 1 and forks, until the child gets
PID (another process may take it first). The child stays this same CPython,
with no exec a tracer could notice, and idles like tests/workloads/sleeping.py
after printing "ready PID". Needs root (ns_last_pid).
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "workloads"))
import common  # noqa: E402

want = int(sys.argv[1])
for _ in range(50):
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write(str(want - 1))
    pid = os.fork()
    if pid == 0:
        if os.getpid() != want:
            os._exit(3)
        common.start_watchdog()
        common.ready()
        while True:
            time.sleep(0.5)
            sum(range(1000))
    os.waitpid(pid, 0)
    if pid == want:
        sys.exit(0)
sys.exit("could not fork as PID %d" % want)
