# SPDX-License-Identifier: MIT
"""Two threads alternating on a condition variable: lock waits and GIL
hand-offs, no object building (trait precision: no alloc-churn)."""
import threading

import common

cond = threading.Condition()
turn = [0]


def player(me):
    while True:
        with cond:
            while turn[0] != me:
                cond.wait()
            turn[0] = 1 - me
            cond.notify()


common.start_watchdog()
common.run_threads(1, player, 0)
threading.Thread(target=player, args=(1,), daemon=True).start()
common.ready()
common.forever()
