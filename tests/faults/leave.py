# SPDX-License-Identifier: MIT
"""Clients that leave pyprobed early, for tests/bats/080-faults.bats.

  leave.py SOCKET PID MODE

mid-reply     record PID for 1 s, wait until the reply starts, stop reading for
              a while, then close with the rest unread; prints what had
              arrived: {"queued": bytes, "newline": whether the reply was whole}
mid-window    classify PID for 20 s and close right after sending
pipelined     top PID, status and list in one write, close before any reply
half-close    classify PID for 0.2 s, shut down the write side, read the reply
half-close-many  3000 list requests (60 kB) in one write, shut down the write
              side, count the replies
"""
import array
import fcntl
import json
import select
import socket
import sys
import termios
import time


def req(**kw):
    kw["v"] = 1
    return (json.dumps(kw) + "\n").encode()


def main():
    path, pid, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    out = {"mode": mode}
    if mode == "mid-reply":
        s.sendall(req(cmd="record", pid=pid, seconds=1))
        r, _, _ = select.select([s], [], [], 30)
        if not r:
            sys.exit("no reply within 30 s")
        time.sleep(0.5)  # the daemon fills the socket buffer and waits to write the rest
        n = array.array("i", [0])
        fcntl.ioctl(s.fileno(), termios.FIONREAD, n)
        data = b""
        while len(data) < n[0]:
            data += s.recv(n[0] - len(data))
        out["queued"] = len(data)
        out["newline"] = b"\n" in data
        out["start"] = data[:12].decode("latin-1")
    elif mode == "mid-window":
        s.sendall(req(cmd="classify", pid=pid, seconds=20))
    elif mode == "pipelined":
        s.sendall(req(cmd="top", pid=pid, seconds=1) + req(cmd="status") + req(cmd="list"))
    elif mode == "half-close":
        s.sendall(req(cmd="classify", pid=pid, seconds=0.2))
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        rep = json.loads(data.split(b"\n")[0])
        out["ok"] = rep.get("ok")
        out["lines"] = data.count(b"\n")
    elif mode == "half-close-many":
        s.sendall(req(cmd="list") * 3000)
        s.shutdown(socket.SHUT_WR)
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            out["reset"] = True
        out["sent"] = 3000
        out["replies"] = sum(1 for line in data.split(b"\n") if line.startswith(b"{") and b'"ok":true' in line)
    else:
        sys.exit("unknown mode " + mode)
    s.close()
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
