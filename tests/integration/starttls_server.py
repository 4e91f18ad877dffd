# SPDX-License-Identifier: Apache-2.0
"""A minimal SMTP server for tests: greeting, EHLO (with or without
STARTTLS), STARTTLS with the given certificate chain and key, QUIT.
Serves one connection at a time for a bounded time (60 s), on loopback.
Usage: starttls_server.py PORTFILE CHAIN KEY [--no-starttls] [--bind ADDR]
       [--port N] [--name HOST] [--stall] [--garbage]"""
import socket, ssl, sys, time

portfile, chain, key = sys.argv[1:4]
opts = sys.argv[4:]
def opt(name, default):
    return opts[opts.index(name) + 1] if name in opts else default
starttls = "--no-starttls" not in opts
bind, port, name = opt("--bind", "127.0.0.1"), int(opt("--port", "0")), opt("--name", "mx.test")
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((bind, port))
srv.listen(8)
srv.settimeout(1)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
import os
os.rename(portfile + ".tmp", portfile)

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(chain, key)
deadline = time.time() + 60
while time.time() < deadline:
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        continue
    conn.settimeout(5)
    f = conn.makefile("rwb", buffering=0)
    try:
        if "--stall" in opts:  # accept, then say nothing
            time.sleep(10)
            continue
        if "--garbage" in opts:
            f.write(b"hello there, this is not SMTP\r\n")
            continue
        f.write(b"220 " + name.encode() + b" ESMTP\r\n")
        while True:
            line = f.readline().strip().upper()
            if not line:
                break
            if line.startswith(b"EHLO"):
                f.write(b"250-" + name.encode() + b"\r\n" + (b"250-STARTTLS\r\n" if starttls else b"") + b"250 8BITMIME\r\n")
            elif line == b"STARTTLS" and starttls:
                f.write(b"220 go ahead\r\n")
                tls = ctx.wrap_socket(conn, server_side=True)
                tls.settimeout(5)
                try:
                    tls.recv(100)  # QUIT, or nothing when the client refused
                except (OSError, ssl.SSLError):
                    pass
                break
            elif line == b"QUIT":
                f.write(b"221 bye\r\n")
                break
            else:
                f.write(b"502 no\r\n")
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()
