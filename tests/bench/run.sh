#!/bin/sh
# SPDX-License-Identifier: MIT
# make bench: overhead ratios measured side by side (see bench.py).
set -e
[ "$(id -u)" = 0 ] || { echo "bench: run as root (pyprobed loads eBPF programs)" >&2; exit 1; }
exec /usr/bin/python3 "$(dirname "$0")/bench.py"
