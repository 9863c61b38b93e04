# SPDX-License-Identifier: MIT
"""io-bound (network): four threads doing request/response on loopback with a slow server.

The server is a forked child process, so only the client side is in the observed process.
"""
import os
import socket
import threading
import time

import common

DELAY = 0.005


def serve_conn(conn):
    with conn:
        while True:
            try:
                data = conn.recv(256)
            except OSError:
                return
            if not data:
                return
            time.sleep(DELAY)  # the remote service is slow
            conn.sendall(data)


def server(lsock):
    while True:
        conn, _ = lsock.accept()
        t = threading.Thread(target=serve_conn, args=(conn,))
        t.daemon = True
        t.start()


def client(port):
    s = socket.create_connection(("127.0.0.1", port))
    while True:
        s.sendall(b"ping")
        got = b""
        while len(got) < 4:
            chunk = s.recv(4 - len(got))
            if not chunk:
                return
            got += chunk


lsock = socket.socket()
lsock.bind(("127.0.0.1", 0))
lsock.listen(16)
port = lsock.getsockname()[1]
parent = os.getpid()
if os.fork() == 0:
    # Server child: exits with its parent.
    common.LIFETIME += 5
    common.start_watchdog()
    threading.Thread(target=server, args=(lsock,), daemon=True).start()
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)
lsock.close()
common.start_watchdog()
common.run_threads(int(os.environ.get("PYPROBE_THREADS", "4")), client, port)
common.ready()
common.forever()
