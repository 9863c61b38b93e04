# SPDX-License-Identifier: MIT
"""One kind of waiting in the main thread, for the bucket tests: argv[1] is

  net    recv on a TCP loopback socket a helper thread writes a byte to every 20 ms
  file   read a 32 MiB file in argv[2] (default /var/tmp) 1 MiB at a time with O_DIRECT,
         round and round: each read waits for the device (on a VM's fast disk, buffered
         writes with fsync are 40% CPU, these reads 10%). Where the file system refuses
         O_DIRECT, rewrite a block and fdatasync it instead.
  lock   acquire a threading.Lock a helper thread holds 50 ms at a time
  child  fork a child that sleeps 0.2 s, waitpid for it, again
  loop   select() on a socket nobody writes to, 1 s at a time (an idle event loop)
  sleep  time.sleep(0.5), over and over
  queue  three threads compressing a large buffer (zlib lets go of the GIL) with the
         process pinned to one CPU: each runs a third of the time and queues the rest

Helpers are other threads: the main thread (tid = pid) is the one to measure.
"""
import mmap
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
    size, chunk = 32 << 20, 1 << 20
    fd, path = tempfile.mkstemp(dir=sys.argv[2] if len(sys.argv) > 2 else "/var/tmp")
    os.unlink(path)
    block = os.urandom(chunk)
    for off in range(0, size, chunk):
        os.pwrite(fd, block, off)
    os.fsync(fd)
    try:
        direct = os.open("/proc/self/fd/%d" % fd, os.O_RDONLY | os.O_DIRECT)
    except OSError:
        direct = -1
    common.ready()
    if direct < 0:
        while True:
            os.pwrite(fd, block[:4096], 0)
            os.fdatasync(fd)
    buf = mmap.mmap(-1, chunk)  # page-aligned, as O_DIRECT wants
    off = 0
    while True:
        os.lseek(direct, off, os.SEEK_SET)  # os.preadv is 3.7+
        os.readv(direct, [buf])
        off = (off + chunk) % size


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
