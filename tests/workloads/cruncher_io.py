# SPDX-License-Identifier: MIT
"""One thread crunching pure Python without pause beside four threads doing
request/response over sockets with a fast server (a forked child): the I/O
threads wait for the GIL the cruncher holds after every reply."""
import os
import socket
import threading
import time

import common


def serve_conn(conn):
    with conn:
        while True:
            try:
                data = conn.recv(256)
            except OSError:
                return
            if not data:
                return
            time.sleep(0.002)
            conn.sendall(data)


def server(lsock):
    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=serve_conn, args=(conn,), daemon=True).start()


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


def cruncher():
    common.spin()


lsock = socket.socket()
lsock.bind(("127.0.0.1", 0))
lsock.listen(16)
port = lsock.getsockname()[1]
parent = os.getpid()
if os.fork() == 0:
    common.LIFETIME += 5
    common.start_watchdog()
    threading.Thread(target=server, args=(lsock,), daemon=True).start()
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)
lsock.close()
common.start_watchdog()
common.run_threads(4, client, port)
t = threading.Thread(target=cruncher, name="cruncher", daemon=True)
t.start()
common.ready()
print("cruncher %d" % (t.native_id if hasattr(t, "native_id") else 0), flush=True)
common.forever()
