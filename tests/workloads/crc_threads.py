# SPDX-License-Identifier: MIT
"""Native leaf naming: two threads checksumming a large buffer (zlib.crc32 releases the GIL)."""
import os
import zlib

import common

DATA = os.urandom(8 << 20)


def work():
    while True:
        zlib.crc32(DATA)


common.start_watchdog()
common.run_threads(2, work)
common.ready()
common.forever()
