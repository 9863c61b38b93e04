# SPDX-License-Identifier: MIT
"""Benchmark target: sets up, prints "ready", waits for a line on stdin, runs
a fixed amount of work, prints the elapsed seconds, exits.

  cpu N          N iterations of a pure-Python loop
  switch N       N round trips between two threads on one CPU (two context switches each)
  sock N PORT    N request/response round trips of 64 bytes over TCP loopback
                 to the echo server on PORT (both on one CPU)
  gc N           N rounds of cyclic garbage: automatic collections, ~500 per second
                 (under pyprobed's default --gc-max-rate of 1000, so exact timing stays on)

The result line is "SECONDS COLLECTIONS": elapsed time and the garbage
collections (all generations) the work caused.

Long-running helpers (print "ready", run until killed or stdin closes):

  echo           TCP echo server on 127.0.0.1, one connection at a time, pinned
                 to the first CPU; prints its port instead of "ready"
  worker         a moderately active service process for the daemon-cost
                 measurement: a main thread doing ~1 ms of Python and some
                 garbage every 50 ms, a thread in timed lock waits, two threads
                 passing a byte over a socket pair every 20 ms

Extra arguments are ignored: bench.py adds a token a watch rule matches.
"""
import os
import socket
import sys
import threading
import time


def first_cpu():
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def cpu(n):
    def work():
        x = 0
        for i in range(n):
            x = (x + i * i) % 1000003
        return x
    return work


def switch(n):
    # One CPU: every hand-off is a direct context switch, not a wakeup from
    # idle on the other core (whose latency would swamp what is measured).
    first_cpu()
    a, b = threading.Event(), threading.Event()

    def pong():
        for _ in range(n):
            a.wait()
            a.clear()
            b.set()

    def work():
        t = threading.Thread(target=pong)
        t.start()
        for _ in range(n):
            a.set()
            b.wait()
            b.clear()
        t.join()
    return work


def sock(n, port):
    # Same CPU as the echo server, for the same reason as switch.
    first_cpu()
    c = socket.create_connection(("127.0.0.1", port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg = b"x" * 64

    def work():
        for _ in range(n):
            c.sendall(msg)
            got = 0
            while got < len(msg):
                got += len(c.recv(4096))
        c.close()
    return work


class Node(object):
    pass


def gc_heavy(n):
    import gc
    # ~500 collections/s here: under pyprobed's default rate guard of 1000/s
    # (with 3000, ~3500/s, exact timing would stop within the first second).
    gc.set_threshold(20000)

    def work():
        for _ in range(n):
            for _ in range(1000):
                x = Node()
                x.self = x
    return work


def echo():
    first_cpu()
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    print(lsock.getsockname()[1], flush=True)
    while True:
        c, _ = lsock.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            d = c.recv(4096)
            if not d:
                break
            c.sendall(d)
        c.close()


def worker():
    def waiter():
        ev = threading.Event()
        while True:
            ev.wait(0.1)

    r, w = socket.socketpair()

    def reader():
        while r.recv(1):
            pass

    def writer():
        while True:
            time.sleep(0.02)
            w.send(b"x")

    for fn, name in ((waiter, "waiter"), (reader, "reader"), (writer, "writer")):
        threading.Thread(target=fn, name=name, daemon=True).start()
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    print("ready", flush=True)
    step = cpu(20000)
    while True:
        step()
        junk = [Node() for _ in range(200)]
        for x in junk:
            x.self = x
        del junk
        time.sleep(0.05)


kind = sys.argv[1]
if kind == "echo":
    echo()
elif kind == "worker":
    worker()
else:
    n = int(sys.argv[2])
    work = {"cpu": lambda: cpu(n), "switch": lambda: switch(n), "gc": lambda: gc_heavy(n),
            "sock": lambda: sock(n, int(sys.argv[3]))}[kind]()
    print("ready", flush=True)
    sys.stdin.readline()
    import gc
    import resource
    c0 = sum(g["collections"] for g in gc.get_stats())
    r0 = resource.getrusage(resource.RUSAGE_SELF)  # every thread of the process
    t0 = time.perf_counter()
    work()
    elapsed = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print("%.6f %d %.6f" % (elapsed, sum(g["collections"] for g in gc.get_stats()) - c0, cpu_s), flush=True)
