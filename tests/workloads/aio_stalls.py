# SPDX-License-Identifier: MIT
"""An asyncio server whose event loop stalls, and a client thread that feeds it.

  aio_stalls.py MODE

A request arrives every PYPROBE_EVERY seconds (default 0.4); its handler
(a coroutine, handle_client) then, by MODE:

  sleep       time.sleep(0.2) on the loop (a blocking call)
  sockread    a blocking recv() on a socket another thread writes to 150 ms later
  compute     ~300 ms of pure Python (crunch)
  none        nothing (a healthy loop)
  saturated   no requests: the loop runs short callbacks back to back forever

Every stall the handler causes is logged as "stall END MS": when it ended
(time.monotonic(), the kernel's CLOCK_MONOTONIC) and how long the blocking or
computing part took by the handler's own clock. Runs on CPython 3.6 and later."""
import asyncio
import os
import socket
import sys
import threading
import time

import common

MODE = sys.argv[1] if len(sys.argv) > 1 else "sleep"
EVERY = float(os.environ.get("PYPROBE_EVERY", "0.4"))
feed_a, feed_b = socket.socketpair()
feed_go = threading.Event()


def feeder():
    while True:
        feed_go.wait()
        feed_go.clear()
        time.sleep(0.15)
        feed_b.send(b"x")


def crunch(seconds):
    t0 = time.monotonic()
    x = 0
    while time.monotonic() - t0 < seconds:
        for i in range(5000):
            x = (x + i * i) % 1000003
    return x


def stall():
    t0 = time.monotonic()
    if MODE == "sleep":
        time.sleep(0.2)
    elif MODE == "sockread":
        feed_go.set()
        feed_a.recv(1)
    elif MODE == "compute":
        crunch(0.3)
    else:
        return
    t1 = time.monotonic()
    sys.stdout.write("stall %.6f %.1f\n" % (t1, (t1 - t0) * 1000))
    sys.stdout.flush()


async def handle_client(reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        stall()
        writer.write(b"ok\n")
        await writer.drain()
    writer.close()


def client(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(None)
    f = s.makefile("rb")
    while True:
        time.sleep(EVERY)
        s.sendall(b"go\n")
        f.readline()


def tick(loop, n):
    sum(range(200))
    loop.call_soon(tick, loop, n + 1)


def main():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    common.start_watchdog()
    if MODE == "saturated":
        for _ in range(4):
            loop.call_soon(tick, loop, 0)
    else:
        server = loop.run_until_complete(asyncio.start_server(handle_client, "127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        threading.Thread(target=feeder, name="feeder", daemon=True).start()
        threading.Thread(target=client, args=(port,), name="client", daemon=True).start()
    common.ready()
    loop.run_forever()


if __name__ == "__main__":
    main()
