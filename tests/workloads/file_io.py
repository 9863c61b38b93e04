# SPDX-License-Identifier: MIT
"""io-bound (files): blocking writes made durable with fsync, in a directory on disk."""
import os
import sys

import common

path = os.path.join(sys.argv[1] if len(sys.argv) > 1 else ".", "pyprobe-file-io.%d" % os.getpid())
block = b"x" * 65536
common.start_watchdog()
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.unlink(path)
common.ready()
n = 0
while True:
    os.pwrite(fd, block, (n % 256) * len(block)) if hasattr(os, "pwrite") else os.write(fd, block)
    os.fsync(fd)
    n += 1
