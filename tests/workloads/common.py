# SPDX-License-Identifier: MIT
"""Shared by the test workloads: runs on CPython 3.6 and later, stdlib only."""
import os
import sys
import threading
import time

# A workload never outlives a forgotten test by much.
LIFETIME = float(os.environ.get("PYPROBE_WORKLOAD_SECONDS", "120"))


def start_watchdog():
    def die():
        time.sleep(LIFETIME)
        os._exit(0)
    t = threading.Thread(target=die, name="watchdog")
    t.daemon = True
    t.start()


def ready():
    """Tell the test the workload is in its steady state, and which Python threads it has."""
    idents = " ".join(str(t.ident) for t in threading.enumerate())
    sys.stdout.write("ready %d\nidents %s\n" % (os.getpid(), idents))
    sys.stdout.flush()


def run_threads(n, target, *args):
    threads = [threading.Thread(target=target, args=args, name="worker-%d" % i) for i in range(n)]
    for t in threads:
        t.daemon = True
        t.start()
    return threads


def spin():
    """Pure-Python work that never releases the GIL by itself."""
    x = 0
    while True:
        for i in range(10000):
            x = (x + i * i) % 1000003


def forever():
    while True:
        time.sleep(3600)
