# SPDX-License-Identifier: MIT
"""cpu-bound-native: three threads compressing and checksumming large buffers.

zlib releases the GIL around deflate and crc32 of large buffers in every
version; hashlib only does when it is backed by OpenSSL, which some builds lack.
"""
import os
import zlib

import common

DATA = os.urandom(4 << 20)


def work():
    while True:
        zlib.compress(DATA, 6)
        zlib.crc32(DATA)


common.start_watchdog()
common.run_threads(3, work)
common.ready()
common.forever()
