# SPDX-License-Identifier: MIT
"""idle (event loop): an asyncio server nobody talks to."""
import asyncio

import common


async def handle(reader, writer):
    writer.close()


def main():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", 0))
    common.start_watchdog()
    common.ready()
    loop.run_forever()


main()
