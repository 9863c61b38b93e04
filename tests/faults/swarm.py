# SPDX-License-Identifier: MIT
"""Many clients on pyprobed's socket at once, for tests/bats/080-faults.bats.

  swarm.py SOCKET [--silent N] [--slow N] [--flood N] [--hold S] [--ready FILE]

silent: connect and send nothing.  slow: send a status request one byte every
--interval seconds (padded with leading blanks to --slow-bytes), then read the
reply.  flood: send status requests as fast
as the socket takes them and never read a reply.  Once every connection is
made, "ready N" is written to --ready; after --hold seconds (and the slow
clients' replies) all are closed and a JSON summary is printed.
"""
import argparse
import json
import os
import select
import socket
import sys
import time

REQ = b'{"v":1,"cmd":"status"}\n'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("--silent", type=int, default=0)
    ap.add_argument("--slow", type=int, default=0)
    ap.add_argument("--flood", type=int, default=0)
    ap.add_argument("--hold", type=float, default=3.0)
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--slow-bytes", type=int, default=len(REQ))
    ap.add_argument("--ready")
    a = ap.parse_args()
    slow_req = b" " * max(0, a.slow_bytes - len(REQ)) + REQ

    conns = []  # [kind, socket, sent, reply]
    connect_failed = 0
    for kind, n in (("silent", a.silent), ("slow", a.slow), ("flood", a.flood)):
        for _ in range(n):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            try:
                s.connect(a.socket)
            except OSError:
                connect_failed += 1
                s.close()
                continue
            s.setblocking(False)
            conns.append([kind, s, 0, b""])
    if a.ready:
        with open(a.ready + ".tmp", "w") as f:
            f.write("ready %d\n" % len(conns))
        os.rename(a.ready + ".tmp", a.ready)

    start = time.monotonic()
    flood_bytes = 0
    next_tick = start
    while True:
        now = time.monotonic()
        slow_pending = [c for c in conns if c[0] == "slow" and not c[3].endswith(b"\n")]
        if now - start >= a.hold and (not slow_pending or now - start >= a.hold + 30):
            break
        if now >= next_tick:
            next_tick += a.interval
            for c in slow_pending:
                if c[2] < len(slow_req):
                    try:
                        c[2] += c[1].send(slow_req[c[2]:c[2] + 1])
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        c[3] = b"<closed>\n"
        for c in conns:
            if c[0] != "flood":
                continue
            try:
                flood_bytes += c[1].send(REQ * 64)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                pass
        readers = [c[1] for c in slow_pending if c[2] == len(slow_req)]
        r, _, _ = select.select(readers, [], [], 0.005 if a.flood else max(0.0, min(0.02, next_tick - now)))
        for c in slow_pending:
            if c[1] in r:
                try:
                    chunk = c[1].recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    chunk = b""
                c[3] += chunk if chunk else b"<closed>\n"

    summary = {"connected": len(conns), "connect_failed": connect_failed, "refused": 0, "slow_ok": 0,
               "slow_total": 0, "silent_got_data": 0, "flood_bytes": flood_bytes,
               "seconds": round(time.monotonic() - start, 3)}
    for kind, s, _, reply in conns:
        if kind == "slow":
            summary["slow_total"] += 1
            try:
                rep = json.loads(reply.split(b"\n")[0])
            except ValueError:
                rep = {}
            if rep.get("ok") is True and "version" in rep:
                summary["slow_ok"] += 1
            elif rep.get("error", {}).get("code") == "limit-reached":
                summary["refused"] += 1
        elif kind == "silent":
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                data = b""
            except OSError:
                data = b""
            if data:
                summary["silent_got_data"] += 1
                if b'"limit-reached"' in data:
                    summary["refused"] += 1
        s.close()
    json.dump(summary, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
