# SPDX-License-Identifier: MIT
"""A thread that calls a blocking C function while holding the GIL
(ctypes.PyDLL keeps it: usleep, or PYPROBE_HOLD=read for a read from a pipe
fed by a child every few ms) beside two pure-Python threads that wait for
it. The holder knows how long it held the GIL blocked: it prints the running
total ("held SECONDS") after each call."""
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
    held = 0.0
    buf = ctypes.create_string_buffer(1)
    while True:
        t0 = time.monotonic()
        if MODE == "read":
            libc.read(rfd, buf, 1)
        else:
            libc.usleep(int(CALL_MS * 1000))
        held += time.monotonic() - t0
        sys.stdout.write("held %.6f\n" % held)
        sys.stdout.flush()
        # a little Python between calls, as real code has
        sum(range(200))


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
