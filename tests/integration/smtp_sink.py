#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""An SMTP server for integration tests that keeps what it receives.

Listens on one port on several loopback addresses; each address has its own
certificate (or none: no STARTTLS). Every accepted message is written to
SPOOL/ADDRESS/N.eml, its first line "X-Sink-TLS: yes|no" telling whether it
arrived over TLS, so a test can count what was delivered, and how.
Threads serve connections concurrently; the server stops itself after
--lifetime seconds (default 300) and on SIGTERM.

Usage: smtp_sink.py SPOOL PORTFILE --port N ADDR=CHAIN,KEY[,NAME]|ADDR=none[,NAME] ...
(NAME: the host name the server announces; default sink.ADDR)
"""
import os, signal, socket, ssl, sys, threading, time

if len(sys.argv) < 3 or sys.argv[1] in ("-h", "--help"):
    print(__doc__.strip())
    sys.exit(0 if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help") else 2)
spool, portfile = sys.argv[1:3]
args = sys.argv[3:]
port = 0
lifetime = 300
listeners = []
contexts = {}
names = {}
i = 0
while i < len(args):
    if args[i] == "--port":
        port = int(args[i + 1]); i += 2; continue
    if args[i] == "--lifetime":
        lifetime = int(args[i + 1]); i += 2; continue
    addr, spec = args[i].split("=", 1)
    parts = spec.split(",")
    named = parts[1:2] if parts[0] == "none" else parts[2:3]
    names[addr] = named[0] if named else "sink." + addr
    spec = "none" if parts[0] == "none" else ",".join(parts[:2])
    ctx = None
    if spec != "none":
        # Addresses with the same certificate share one context, so one
        # server's session tickets are good on all of them (resumption tests).
        if spec not in contexts:
            chain, key = spec.split(",")
            contexts[spec] = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            contexts[spec].load_cert_chain(chain, key)
        ctx = contexts[spec]
    listeners.append((addr, ctx))
    i += 1

counter = [0]
lock = threading.Lock()

def store(addr, tls, mail_from, rcpts, data):
    d = os.path.join(spool, addr)
    os.makedirs(d, exist_ok=True)
    with lock:
        counter[0] += 1
        n = counter[0]
    tmp = os.path.join(d, ".%d.tmp" % n)
    with open(tmp, "wb") as f:
        f.write(b"X-Sink-TLS: " + (b"yes" if tls else b"no") + b"\r\n")
        f.write(b"X-Sink-From: " + mail_from + b"\r\nX-Sink-To: " + b",".join(rcpts) + b"\r\n")
        f.write(data)
    os.rename(tmp, os.path.join(d, "%d.eml" % n))

def session(conn, addr, ctx):
    conn.settimeout(20)
    f = conn.makefile("rwb", buffering=0)
    tls = False
    name = names[addr].encode()
    def reply(text):
        f.write(text + b"\r\n")
    reply(b"220 " + name + b" ESMTP test sink")
    mail_from, rcpts = None, []
    while True:
        line = f.readline()
        if not line:
            return
        cmd = line.strip().upper()
        if cmd.startswith(b"EHLO") or cmd.startswith(b"HELO"):
            ext = [b"PIPELINING", b"8BITMIME"] + ([b"STARTTLS"] if ctx and not tls else [])
            f.write(b"".join(b"250-" + e + b"\r\n" for e in [name] + ext[:-1]) + b"250 " + ext[-1] + b"\r\n")
        elif cmd == b"STARTTLS" and ctx and not tls:
            reply(b"220 go ahead")
            try:
                conn = ctx.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                return
            f = conn.makefile("rwb", buffering=0)
            tls = True
            mail_from, rcpts = None, []
        elif cmd.startswith(b"MAIL FROM:"):
            mail_from, rcpts = line.strip()[10:], []
            reply(b"250 sender ok")
        elif cmd.startswith(b"RCPT TO:"):
            rcpts.append(line.strip()[8:])
            reply(b"250 recipient ok")
        elif cmd == b"DATA":
            if mail_from is None or not rcpts:
                reply(b"503 need MAIL and RCPT first")
                continue
            reply(b"354 go on")
            data = b""
            while True:
                l = f.readline()
                if not l:
                    return
                if l in (b".\r\n", b".\n"):
                    break
                data += l[1:] if l.startswith(b"..") else l
            store(addr, tls, mail_from, rcpts, data)
            reply(b"250 queued")
            mail_from, rcpts = None, []
        elif cmd == b"RSET":
            mail_from, rcpts = None, []
            reply(b"250 ok")
        elif cmd == b"NOOP":
            reply(b"250 ok")
        elif cmd == b"QUIT":
            reply(b"221 bye")
            return
        else:
            reply(b"500 unknown command")

def serve(sock, addr, ctx):
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        # The connection is passed, not captured: a lambda would read the
        # loop's variable when the thread runs, and under load the next
        # accept() had rebound it by then (two sessions on one socket,
        # none on the other: Postfix saw replies out of order).
        threading.Thread(target=guarded, args=(conn, addr, ctx), daemon=True).start()

def guarded(conn, addr, ctx):
    try:
        session(conn, addr, ctx)
    except (OSError, ssl.SSLError, ValueError):
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass

socks = []
for addr, ctx in listeners:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    port = s.getsockname()[1]
    s.listen(64)
    socks.append(s)
    threading.Thread(target=serve, args=(s, addr, ctx), daemon=True).start()
with open(portfile + ".tmp", "w") as f:
    f.write(str(port))
os.rename(portfile + ".tmp", portfile)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
time.sleep(lifetime)
