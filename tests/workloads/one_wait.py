# SPDX-License-Identifier: MIT
"""One kind of waiting in the main thread, for the bucket tests: argv[1] is

  net    recv on a TCP loopback socket a helper thread writes a byte to every 20 ms
  file   write and fsync a file in argv[2] (default /var/tmp), over and over
  lock   acquire a threading.Lock a helper thread holds 50 ms at a time
  child  fork a child that sleeps 0.2 s, waitpid for it, again
  loop   select() on a socket nobody writes to, 1 s at a time (an idle event loop)
  sleep  time.sleep(0.5), over and over
  queue  three threads compressing a large buffer (zlib lets go of the GIL) with the
         process pinned to one CPU: each runs a third of the time and queues the rest

Helpers are other threads: the main thread (tid = pid) is the one to measure.
"""
import os
import selectors
import socket
import sys
import tempfile
import threading
import time
import zlib

import common

KIND = sys.argv[1]


def helper(fn):
    t = threading.Thread(target=fn, name="helper")
    t.daemon = True
    t.start()


def net():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    out = socket.create_connection(srv.getsockname())
    conn, _ = srv.accept()

    def writer():
        while True:
            time.sleep(0.02)
            out.sendall(b"x")
    helper(writer)
    common.ready()
    while True:
        conn.recv(1)


def file():
    fd, path = tempfile.mkstemp(dir=sys.argv[2] if len(sys.argv) > 2 else "/var/tmp")
    os.unlink(path)
    block = b"x" * 4096
    common.ready()
    while True:
        os.pwrite(fd, block, 0)
        os.fsync(fd)


def lock():
    mu = threading.Lock()

    def holder():
        while True:
            with mu:
                time.sleep(0.05)
    helper(holder)
    time.sleep(0.01)
    common.ready()
    while True:
        mu.acquire()
        mu.release()


def child():
    common.ready()
    while True:
        pid = os.fork()
        if pid == 0:
            time.sleep(0.2)
            os._exit(0)
        os.waitpid(pid, 0)


def loop():
    a, b = socket.socketpair()
    sel = selectors.DefaultSelector()
    sel.register(a, selectors.EVENT_READ)
    common.ready()
    while True:
        sel.select(timeout=1.0)


def sleep():
    common.ready()
    while True:
        time.sleep(0.5)


def queue():
    # Pinned before the helpers start: they inherit the mask.
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    block = os.urandom(1 << 20)

    def spin():
        while True:
            zlib.compress(block, 6)
    helper(spin)
    helper(spin)
    common.ready()
    spin()


common.start_watchdog()
{"net": net, "file": file, "lock": lock, "child": child, "loop": loop, "sleep": sleep,
 "queue": queue}[KIND]()
