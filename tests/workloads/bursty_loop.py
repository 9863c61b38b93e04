# SPDX-License-Identifier: MIT
"""A single-threaded asyncio server, idle between requests, that runs a
pure-Python burst of PYPROBE_BURST_MS (default 700) every PYPROBE_PERIOD_MS
(default 1600) on its event loop: about 45% of one core, in bursts. It logs
each burst's length ("burst MS") so a test can compare."""
import asyncio
import os
import sys
import time

import common

BURST = float(os.environ.get("PYPROBE_BURST_MS", "700")) / 1000
PERIOD = float(os.environ.get("PYPROBE_PERIOD_MS", "1600")) / 1000


def burst(loop, start):
    t0 = time.monotonic()
    x = 0
    while time.monotonic() - t0 < BURST:
        for i in range(2000):
            x = (x + i * i) % 1000003
    sys.stdout.write("burst %.1f\n" % (1000 * (time.monotonic() - t0)))
    sys.stdout.flush()
    start += PERIOD
    loop.call_at(start, burst, loop, start)


async def handle(reader, writer):
    data = await reader.read(100)
    writer.write(data)
    await writer.drain()
    writer.close()


def main():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", 0))
    common.start_watchdog()
    start = loop.time() + 0.2
    loop.call_at(start, burst, loop, start)
    common.ready()
    loop.run_forever()


main()
