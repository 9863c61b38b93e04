# SPDX-License-Identifier: MIT
"""A process that says whether others may read it: prctl(PR_SET_DUMPABLE).

argv[1] is the flag to start with (0 or 1); SIGUSR1 sets it to 0, SIGUSR2 to
1, and each change is acknowledged with a line "dumpable N"."""
import ctypes
import signal
import sys
import time

import common

PR_SET_DUMPABLE = 4
libc = ctypes.CDLL(None, use_errno=True)


def set_dumpable(flag):
    if libc.prctl(PR_SET_DUMPABLE, flag, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl")
    sys.stdout.write("dumpable %d\n" % flag)
    sys.stdout.flush()


signal.signal(signal.SIGUSR1, lambda *_: set_dumpable(0))
signal.signal(signal.SIGUSR2, lambda *_: set_dumpable(1))
set_dumpable(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
common.start_watchdog()
common.ready()
while True:
    time.sleep(0.2)
    sum(range(1000))
