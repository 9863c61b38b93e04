# SPDX-License-Identifier: MIT
"""Benchmark target: sets up, prints "ready", waits for a line on stdin, runs
a fixed amount of work, prints the elapsed seconds, exits.

  cpu N          N iterations of a pure-Python loop
  deep N         the same loop run 32 Python frames deep (a recursion): what the
                 stack sampler's walk costs at that depth
  switch N       N round trips between two threads on one CPU (two context switches each)
  gilspin N      four threads sharing N iterations of a pure-Python loop (GIL-bound)
  paced N        the same with some Python work at each hand-off, calibrated so that the
                 threads switch ~100k times a second unobserved (the budget's rate)
  sock N PORT    N request/response round trips of 64 bytes over TCP loopback
                 to the echo server on PORT (both on one CPU)
  aioloop N      an asyncio event loop running N short callbacks (~15 us each), ten per wake,
                 waking from epoll_wait every millisecond: ~10k callbacks/s
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


def deep(n, depth=32):
    def down(d):
        return down(d - 1) if d > 1 else cpu(n)()

    def work():
        return down(depth)
    return work


def spin(k):
    x = 0
    for i in range(k):
        x += i
    return x


def switch(n, k=0):
    # One CPU: every hand-off is a direct context switch, not a wakeup from
    # idle on the other core (whose latency would swamp what is measured).
    first_cpu()
    a, b = threading.Event(), threading.Event()

    def pong():
        for _ in range(n):
            a.wait()
            a.clear()
            spin(k)
            b.set()

    def work():
        t = threading.Thread(target=pong)
        t.start()
        for _ in range(n):
            a.set()
            b.wait()
            b.clear()
            spin(k)
        t.join()
    return work


PACED_SWITCHES_PER_S = 100000


def paced(n):
    """switch(n, k) with k chosen so the unobserved rate is ~100k switches/s."""
    def rt_seconds(k, trips=4000):
        w = switch(trips, k)
        t0 = time.perf_counter()
        w()
        return (time.perf_counter() - t0) / trips

    bare = min(rt_seconds(0) for _ in range(3))
    per_iter = (min(rt_seconds(2000) for _ in range(3)) - bare) / 4000  # two spins per trip
    want = 2.0 / PACED_SWITCHES_PER_S
    if per_iter <= 0:
        return switch(n)
    k = max(0, int((want - bare) / 2 / per_iter))
    for _ in range(3):  # the spins do not add linearly: correct on the measured rate
        k = max(0, int(k + (want - min(rt_seconds(k) for _ in range(2))) / 2 / per_iter))
    return switch(n, k)


def gilspin(n):
    def work():
        threads = [threading.Thread(target=cpu(n // 4)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
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


def aioloop(n):
    import asyncio
    loop = asyncio.new_event_loop()

    def work():
        done = loop.create_future()
        left = [n]

        def callback():
            sum(range(1000))
            left[0] -= 1
            if left[0] <= 0 and not done.done():
                done.set_result(None)

        def tick():
            for _ in range(10):
                loop.call_soon(callback)
            if left[0] > 0:
                loop.call_later(0.001, tick)

        loop.call_soon(tick)
        loop.run_until_complete(done)
    return work


kind = sys.argv[1]
if kind == "echo":
    echo()
elif kind == "worker":
    worker()
else:
    n = int(sys.argv[2])
    work = {"cpu": lambda: cpu(n), "deep": lambda: deep(n), "switch": lambda: switch(n), "paced": lambda: paced(n),
            "gc": lambda: gc_heavy(n), "gilspin": lambda: gilspin(n),
            "aioloop": lambda: aioloop(n), "sock": lambda: sock(n, int(sys.argv[3]))}[kind]()
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
