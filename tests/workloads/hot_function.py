# SPDX-License-Identifier: MIT
"""top: one named function burns nearly all the CPU on one known line."""
import common


def helper(n):
    return sum(range(n))


def hot_loop():
    x = helper(10)
    while True:
        for _ in range(8): x = (x * 31 + 7) % 1000003  # HOT LINE
        x = x ^ 1  # COLD LINE


common.start_watchdog()
common.ready()
hot_loop()
