# SPDX-License-Identifier: MIT
"""A pre-fork server: a master that forks PYPROBE_WORKERS workers (default 4)
sharing one listening socket, as gunicorn's sync workers do, then waits on
them. Worker 0 is hot (a request that computes forever); the others wait in
accept() for connections that never come. The master is idle.

PYPROBE_HOT=gc: the hot worker makes cyclic garbage instead, so that the
collector runs in it (and in no other process) many times a second.

PYPROBE_LATE=usr1: fork one more worker (idle) when SIGUSR1 comes (a process
that joins a classify --tree window: the test sends it once the window is open).

Prints "ready PID", "workers PID...", "hot PID" and, for the late one,
"late PID"."""
import ctypes
import os
import signal
import socket
import sys
import time

import common

N = int(os.environ.get("PYPROBE_WORKERS", "4"))
LATE_ON_USR1 = os.environ.get("PYPROBE_LATE") == "usr1"
HOT = os.environ.get("PYPROBE_HOT", "cpu")


def hot():
    x = 0
    while True:
        for i in range(100000):
            x = (x + i * i) % 1000003


def hot_gc():
    while True:
        for _ in range(1000):
            a = []
            a.append(a)
        time.sleep(0.001)


def idle(sock):
    while True:
        conn, _ = sock.accept()
        conn.close()


def fork(target, *args):
    pid = os.fork()
    if pid == 0:
        # A worker dies with its master (PR_SET_PDEATHSIG): no orphans after a test.
        ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)
        try:
            target(*args)
        finally:
            os._exit(0)
    return pid


if __name__ == "__main__":
    if LATE_ON_USR1:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})  # for sigwait below
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    workers = [fork(hot_gc if HOT == "gc" else hot)] + [fork(idle, sock) for _ in range(N - 1)]
    common.start_watchdog()
    common.ready()
    print("workers %s" % " ".join(str(p) for p in workers), flush=True)
    print("hot %d" % workers[0], flush=True)
    if LATE_ON_USR1:
        signal.sigwait({signal.SIGUSR1})
        late = fork(idle, sock)
        workers.append(late)
        print("late %d" % late, flush=True)
    # The master supervises: it waits for a worker to exit.
    try:
        os.wait()
    finally:
        for p in workers:
            try:
                os.kill(p, 9)
            except OSError:
                pass
