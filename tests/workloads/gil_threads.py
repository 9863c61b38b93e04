# SPDX-License-Identifier: MIT
"""gil-contended: four threads running pure-Python loops at once."""
import common


common.start_watchdog()
common.run_threads(4, common.spin)
common.ready()
common.forever()
