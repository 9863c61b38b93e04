# SPDX-License-Identifier: MIT
"""Many requests of every kind, for the leak test of tests/bats/080-faults.bats.

  request_loop.py SOCKET N PYTHON_PID OTHER_PID [WINDOWS]

Sends N requests over a new connection every 100: status, list, bad JSON,
unknown commands, bad fields, classify of a PID that does not exist and of a
process that is not Python, detach of a process not observed; plus WINDOWS
real 0.1 s windows (classify, gc, top, record in turn) on PYTHON_PID, one
window abandoned by closing its connection, and one oversized request. Every
reply is checked against the code it must have; prints a JSON summary and
exits 1 on any mismatch.
"""
import json
import socket
import sys
import time


def main():
    path, n, pypid, other = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    windows = int(sys.argv[5]) if len(sys.argv) > 5 else 4
    mix = [
        ('{"v":1,"cmd":"status"}', "ok"),
        ('{"v":1,"cmd":"list"}', "ok"),
        ("not json at all", "bad-request"),
        ('{"v":1,"cmd":"reboot"}', "unknown-command"),
        ('{"v":1,"cmd":"classify","pid":999999999}', "no-such-process"),
        ('{"v":1,"cmd":"classify","pid":%d,"seconds":0.1}' % other, "not-python"),
        ('{"v":1,"cmd":"detach","pid":%d}' % pypid, "not-attached"),
        ('{"v":1,"cmd":"top","pid":%d,"limit":0}' % pypid, "bad-request"),
        ('{"v":2,"cmd":"status"}', "unsupported-protocol"),
        ('{"v":1,"cmd":"gc","pid":-4}', "bad-request"),
    ]
    kinds = ["classify", "gc", "top", "record"]
    every = max(1, n // windows) if windows else 0
    s, f = None, None
    counts, bad = {}, []
    t0 = time.monotonic()
    done_windows = 0

    def call(line):
        f.write(line.encode() + b"\n")
        f.flush()
        rep = f.readline()
        if not rep:
            return "<closed>"
        rep = json.loads(rep)
        return "ok" if rep.get("ok") is True else rep.get("error", {}).get("code")

    for i in range(n):
        if i % 100 == 0:
            if s:
                s.close()
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(30)
            s.connect(path)
            f = s.makefile("rwb")
        if every and i % every == every // 2 and done_windows < windows:
            line = '{"v":1,"cmd":"%s","pid":%d,"seconds":0.1}' % (kinds[done_windows % 4], pypid)
            want = "ok"
            done_windows += 1
        else:
            line, want = mix[i % len(mix)]
        got = call(line)
        counts[got] = counts.get(got, 0) + 1
        if got != want:
            bad.append((line, want, got))
    s.close()

    # A window abandoned by its client, and a request too large (the daemon closes).
    a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    a.connect(path)
    a.sendall(b'{"v":1,"cmd":"classify","pid":%d,"seconds":3}\n' % pypid)
    time.sleep(0.2)
    a.close()
    b = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    b.settimeout(30)
    b.connect(path)
    b.sendall(b"x" * 5000)
    rep = b.makefile("rb").readline()
    if b'"request-too-large"' not in rep:
        bad.append(("oversized", "request-too-large", rep.decode("latin-1")[:80]))
    b.close()

    json.dump({"requests": n + 2, "windows": done_windows, "codes": counts, "mismatches": bad[:10],
               "seconds": round(time.monotonic() - t0, 2)}, sys.stdout)
    sys.stdout.write("\n")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
