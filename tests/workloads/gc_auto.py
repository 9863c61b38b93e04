# SPDX-License-Identifier: MIT
"""Automatic collections at a moderate rate: cyclic garbage with default thresholds."""
import time

import common


class Node(object):
    pass


common.start_watchdog()
common.ready()
while True:
    for _ in range(1000):
        n = Node()
        n.self = n
    time.sleep(0.005)
