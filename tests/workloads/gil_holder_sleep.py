# SPDX-License-Identifier: MIT
"""A thread that calls a blocking C function while holding the GIL
(ctypes.PyDLL keeps it: usleep of PYPROBE_HOLD_MS, or with PYPROBE_HOLD=read
a read from a pipe that a child feeds every PYPROBE_HOLD_MS) beside two
pure-Python threads that wait for it.

The truth for a test: the holder prints "calls N" after each call, and at
start "sleep_ms M", the length of one such usleep measured alone (timer
slack included). Timing the calls in Python would not do: the time between
the call's return and the next clock read includes the holder's own wait
for the GIL it dropped there."""
import ctypes
import os
import sys
import threading
import time

import common

MODE = os.environ.get("PYPROBE_HOLD", "sleep")
CALL_MS = float(os.environ.get("PYPROBE_HOLD_MS", "20"))
libc = ctypes.PyDLL(None)  # PyDLL: the GIL is not released around calls
libc.usleep.argtypes = [ctypes.c_uint]
libc.read.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]


def holder(rfd):
    calls = 0
    buf = ctypes.create_string_buffer(1)
    while True:
        if MODE == "read":
            libc.read(rfd, buf, 1)
        else:
            libc.usleep(int(CALL_MS * 1000))
        calls += 1
        sys.stdout.write("calls %d\n" % calls)
        sys.stdout.flush()
        sum(range(200))  # a little Python between calls, as real code has


# One usleep, alone (no other thread wants the GIL yet).
t0 = time.monotonic()
for _ in range(10):
    libc.usleep(int(CALL_MS * 1000))
sys.stdout.write("sleep_ms %.4f\n" % ((time.monotonic() - t0) * 100))
rfd = -1
if MODE == "read":
    rfd, wfd = os.pipe()
    parent = os.getpid()
    if os.fork() == 0:
        os.close(rfd)
        while os.getppid() == parent:
            time.sleep(CALL_MS / 1000)
            os.write(wfd, b"x")
        os._exit(0)
    os.close(wfd)
common.start_watchdog()
common.run_threads(2, common.spin)
t = threading.Thread(target=holder, args=(rfd,), name="holder", daemon=True)
t.start()
time.sleep(0.2)
common.ready()
print("holder %d" % (t.native_id if hasattr(t, "native_id") else 0), flush=True)
common.forever()
