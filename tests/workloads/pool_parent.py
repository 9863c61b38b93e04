# SPDX-License-Identifier: MIT
"""A multiprocessing.Pool parent: idle for its own part, waiting on its workers.

The main thread waits for results; the pool's helper threads wait on the
pipes from the worker processes, which compute."""
import multiprocessing
import os

import common


def crunch(n):
    x = 0
    for i in range(n):
        x = (x + i * i) % 1000003
    return x


if __name__ == "__main__":
    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(int(os.environ.get("PYPROBE_POOL_WORKERS", "2")))
    common.start_watchdog()
    pool.map(crunch, [1000] * 4)  # the workers exist and answer
    workers = " ".join(str(p.pid) for p in pool._pool)
    common.ready()
    print("workers %s" % workers, flush=True)
    while True:
        pool.map(crunch, [300000] * 8)
