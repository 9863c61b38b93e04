# SPDX-License-Identifier: MIT
"""cpu-bound-python: one thread running a pure-Python loop."""
import common

common.start_watchdog()
common.ready()
common.spin()
