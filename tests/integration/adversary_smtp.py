# SPDX-License-Identifier: Apache-2.0
"""An SMTP server that misbehaves on purpose, and records what crossed the
wire in clear: the attacker of the enforcement-boundary tests. Clients run
against it with and without mxverify; the logs tell whether anything but
the harmless opening of a session was sent outside TLS.

Usage: adversary_smtp.py SPOOL PORTFILE --port N [--lifetime S]
           [--slow-seconds S] ADDR=BEHAVIOUR[,CHAIN,KEY] ...
       adversary_smtp.py --check-clear SPOOL ADDR

Listens on one port (--port 0: any free one, written to PORTFILE by atomic
rename when ready) on each loopback ADDR, one thread per connection; stops
after --lifetime seconds (default 300) or on SIGTERM. BEHAVIOUR per ADDR:
  normal,CHAIN,KEY   STARTTLS offered and done with that certificate chain
  notls              no STARTTLS; mail accepted in clear
  alert[,CHAIN,KEY]  STARTTLS answered 220; the ClientHello is read and
                     answered by a fatal handshake_failure alert record, then
                     SMTP goes on in clear as if TLS had never been started
  454                STARTTLS answered "454 4.7.0 TLS not available"
  garbage[,CHAIN,KEY] like alert, but ~200 bytes of non-TLS garbage instead
  anon               TLS 1.2 with anonymous (aNULL) cipher suites only, no
                     certificate (the client needs e.g. "ALL:@SECLEVEL=0")
  slow,CHAIN,KEY     like normal, but waits --slow-seconds (default 3) once
                     the ClientHello has arrived before handshaking
  inject,CHAIN,KEY   like normal, but STARTTLS is answered
                     "220 go ahead\\r\\n250 injected\\r\\n" in one write
  tlsecho,CHAIN,KEY  not SMTP: TLS straight away, every line echoed back
                     (the "other TLS server" of guard_client --port8443)
  stall              as notls, with a small receive buffer, and after its
                     first EHLO reply reads nothing for --slow-seconds: a
                     client's later bytes wait in its send queue
                     (guard_client --zerocopy)
  late               as notls, but listens with a backlog of 0 and accepts
                     what is queued only 3 s after a connection arrived: a
                     client's next connect() waits (guard_client
                     --connect-eintr)
Addresses with the same CHAIN,KEY share one SSL context, so session tickets
from one are good on the others (resumption tests).

Written under SPOOL/ADDR/:
  clear.log  one entry per item received OUTSIDE TLS: "CONN line ESCAPED"
             for a line (or a chunk without newline), "CONN tls 16 03 01
             len=N [body]" for a well-formed TLS record read in clear (the
             ClientHello of alert/garbage, a client's alert; short bodies in hex)
  tls.log    "CONN line ESCAPED" for every line received INSIDE TLS
  events.log "CONN what" (connect, starttls, tls VERSION CIPHER reused=..,
             alert-sent, garbage-sent, handshake-failed WHY, close)
  N.eml      each accepted message, first line "X-Sink-TLS: yes|no" (as
             smtp_sink.py), then X-Sink-From, X-Sink-To, X-Sink-Conn
ESCAPED: printable ASCII as is, \\r \\n \\t \\\\ and \\xHH otherwise.

--check-clear SPOOL ADDR prints every clear-text line at ADDR whose verb
(first word, any case) is not EHLO, HELO, STARTTLS, QUIT, RSET or NOOP,
and exits 1 if there is one (0 if none; TLS records and empty lines are
not counted).
"""
import codecs, os, select, signal, socket, ssl, sys, threading, time

HARMLESS = {b"EHLO", b"HELO", b"STARTTLS", b"QUIT", b"RSET", b"NOOP"}
ALERT = bytes.fromhex("15030300020228")  # fatal handshake_failure, TLS 1.2
# Non-TLS bytes as SMTP continuation lines: a client reads only a record
# header (5 bytes) of them before giving up on TLS, and if it goes on in
# clear the rest joins its next reply instead of putting replies out of
# step (which would hide whether it went on).
GARBAGE = b"".join(b"250-garbage %02d zq#!~not a TLS record~!#qz\r\n" % i for i in range(5))


def esc(data):
    out = []
    for b in data:
        if b == 0x5C:
            out.append("\\\\")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append({0x0D: "\\r", 0x0A: "\\n", 0x09: "\\t"}.get(b, "\\x%02x" % b))
    return "".join(out)


def check_clear(spool, addr):
    bad = []
    try:
        with open(os.path.join(spool, addr, "clear.log")) as f:
            for entry in f:
                conn, kind, text = (entry.rstrip("\n").split(" ", 2) + [""])[:3]
                if kind != "line":
                    continue
                words = codecs.escape_decode(text.encode())[0].split()
                if words and words[0].upper() not in HARMLESS:
                    bad.append(entry.rstrip("\n"))
    except FileNotFoundError:
        pass
    for b in bad:
        print(b)
    return 1 if bad else 0


if len(sys.argv) == 4 and sys.argv[1] == "--check-clear":
    sys.exit(check_clear(sys.argv[2], sys.argv[3]))

spool, portfile = sys.argv[1:3]
args = sys.argv[3:]
port, lifetime, slow_seconds = 0, 300, 3.0
listeners, contexts = [], {}
i = 0
while i < len(args):
    if args[i] in ("--port", "--lifetime", "--slow-seconds"):
        val = args[i + 1]
        if args[i] == "--port":
            port = int(val)
        elif args[i] == "--lifetime":
            lifetime = int(val)
        else:
            slow_seconds = float(val)
        i += 2
        continue
    addr, spec = args[i].split("=", 1)
    behaviour, _, certspec = spec.partition(",")
    ctx = None
    if behaviour == "anon":
        # No certificate at all: only suites that need none can be chosen.
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("aNULL:@SECLEVEL=0")
    elif behaviour in ("normal", "slow", "inject", "tlsecho"):
        if certspec not in contexts:
            chain, key = certspec.split(",")
            contexts[certspec] = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            contexts[certspec].load_cert_chain(chain, key)
        ctx = contexts[certspec]
    elif behaviour not in ("notls", "alert", "454", "garbage", "late", "stall"):
        sys.exit("unknown behaviour " + behaviour)
    listeners.append((addr, behaviour, ctx))
    i += 1

lock = threading.Lock()
counters = {"conn": 0, "msg": 0}


def next_number(what):
    with lock:
        counters[what] += 1
        return counters[what]


def log(addr, name, conn_no, text):
    d = os.path.join(spool, addr)
    os.makedirs(d, exist_ok=True)
    with lock, open(os.path.join(d, name), "a") as f:
        f.write("%d %s\n" % (conn_no, text))


def store(addr, conn_no, tls, mail_from, rcpts, data):
    d = os.path.join(spool, addr)
    os.makedirs(d, exist_ok=True)
    n = next_number("msg")
    tmp = os.path.join(d, ".%d.tmp" % n)
    with open(tmp, "wb") as f:
        f.write(b"X-Sink-TLS: " + (b"yes" if tls else b"no") + b"\r\n")
        f.write(b"X-Sink-From: " + mail_from + b"\r\nX-Sink-To: " + b",".join(rcpts) + b"\r\n")
        f.write(b"X-Sink-Conn: %d\r\n" % conn_no)
        f.write(data)
    os.rename(tmp, os.path.join(d, "%d.eml" % n))


def tls_header(data):
    return len(data) >= 3 and 0x14 <= data[0] <= 0x17 and data[1] == 3 and data[2] <= 4


class Session:
    def __init__(self, conn, addr, behaviour, ctx):
        self.sock, self.addr, self.behaviour, self.ctx = conn, addr, behaviour, ctx
        self.no = next_number("conn")
        self.tls = False
        self.tlsfile = None

    def event(self, text):
        log(self.addr, "events.log", self.no, text)

    def send(self, data):
        (self.tlsfile.write if self.tls else self.sock.sendall)(data)

    def reply(self, text):
        self.send(text + b"\r\n")

    def read_clear(self):
        """Next item received in clear, logged: ("line", bytes),
        ("tls", record) or None at end of stream. Peeks first and takes no
        byte past the item, so a ClientHello waiting behind a STARTTLS line
        is still in the socket for wrap_socket."""
        partial = [b""]
        try:
            return self.clear_item(partial)
        except OSError:
            if partial[0]:  # what came before a reset was received all the same
                log(self.addr, "clear.log", self.no, "line " + esc(partial[0]))
            raise

    def clear_item(self, partial):
        while True:
            data = self.sock.recv(4096, socket.MSG_PEEK)
            if not data:
                if partial[0]:
                    log(self.addr, "clear.log", self.no, "line " + esc(partial[0]))
                    return ("line", partial[0])
                return None
            if not partial[0] and 0x14 <= data[0] <= 0x17:
                head = self.sock.recv(5, socket.MSG_PEEK | socket.MSG_WAITALL)
                if tls_header(head) and len(head) == 5:
                    size = 5 + int.from_bytes(head[3:5], "big")
                    record = self.sock.recv(size, socket.MSG_WAITALL)
                    body = record[5:].hex(" ") if size <= 21 else ""  # alerts in full
                    log(self.addr, "clear.log", self.no,
                        ("tls %s len=%d %s" % (record[:3].hex(" "), size - 5, body)).rstrip())
                    return ("tls", record)
            nl = data.find(b"\n")
            partial[0] += self.sock.recv(nl + 1 if nl >= 0 else len(data), socket.MSG_WAITALL)
            if nl >= 0 or len(partial[0]) >= 8192:
                log(self.addr, "clear.log", self.no, "line " + esc(partial[0]))
                return ("line", partial[0])

    def read_line(self):
        """Next SMTP line, clear or TLS; TLS records read in clear are
        logged and skipped. b"" at end of stream."""
        if self.tls:
            line = self.tlsfile.readline()
            if line:
                log(self.addr, "tls.log", self.no, "line " + esc(line))
            return line
        while True:
            item = self.read_clear()
            if item is None:
                return b""
            if item[0] == "line":
                return item[1]

    def drain_before_tls(self):
        """Clear text sent behind STARTTLS before the ClientHello (a client
        with injected commands): taken and logged as clear, then dropped,
        as a fixed server would."""
        self.sock.settimeout(0.2)
        try:
            while True:
                data = self.sock.recv(5, socket.MSG_PEEK)
                if not data or tls_header(data):
                    return
                self.sock.settimeout(20)
                self.read_clear()
                self.sock.settimeout(0.2)
        except (socket.timeout, BlockingIOError):
            pass
        finally:
            self.sock.settimeout(20)

    def handshake(self):
        try:
            self.sock = self.ctx.wrap_socket(self.sock, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.event("handshake-failed " + esc(str(e).encode()))
            return False
        self.tls = True
        self.tlsfile = self.sock.makefile("rwb", buffering=0)
        v, c = self.sock.version(), (self.sock.cipher() or ("?",))[0]
        self.event("tls %s %s reused=%s" % (v, c, self.sock.session_reused))
        return True

    def starttls(self):
        """Answers STARTTLS as the behaviour says; False ends the session."""
        self.event("starttls")
        b = self.behaviour
        if b == "454":
            self.reply(b"454 4.7.0 TLS not available")
            return True
        if b in ("alert", "garbage"):
            self.reply(b"220 go ahead")
            self.read_clear()  # the ClientHello, logged as a TLS record
            self.sock.sendall(ALERT if b == "alert" else GARBAGE)
            self.event(b + "-sent")
            return True  # and on in clear, as if TLS had never started
        self.sock.sendall(b"220 go ahead\r\n250 injected\r\n" if b == "inject" else b"220 go ahead\r\n")
        self.drain_before_tls()
        if b == "slow":
            self.sock.recv(1, socket.MSG_PEEK)  # wait for the ClientHello...
            time.sleep(slow_seconds)  # ...and let it wait in the socket
        return self.handshake()

    def offers_starttls(self):
        return self.behaviour not in ("notls", "late", "stall", "tlsecho") and not self.tls

    def run(self):
        self.event("connect")
        if self.behaviour == "tlsecho":
            if self.handshake():
                while True:
                    line = self.read_line()
                    if not line or line.strip().upper() == b"QUIT":
                        return
                    self.send(line)
            return
        name = b"adversary." + self.addr.encode()
        self.reply(b"220 " + name + b" ESMTP adversary")
        mail_from, rcpts = None, []
        while True:
            line = self.read_line()
            if not line:
                return
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO") or cmd.startswith(b"HELO"):
                ext = [name, b"PIPELINING", b"8BITMIME"] + ([b"STARTTLS"] if self.offers_starttls() else [])
                self.send(b"".join(b"250-" + e + b"\r\n" for e in ext[:-1]) + b"250 " + ext[-1] + b"\r\n")
                if self.behaviour == "stall" and not getattr(self, "stalled", False):
                    self.stalled = True
                    time.sleep(slow_seconds)
            elif cmd == b"STARTTLS" and self.offers_starttls():
                if not self.starttls():
                    return
                mail_from, rcpts = None, []
            elif cmd.startswith(b"MAIL FROM:"):
                mail_from, rcpts = line.strip()[10:], []
                self.reply(b"250 sender ok")
            elif cmd.startswith(b"RCPT TO:"):
                rcpts.append(line.strip()[8:])
                self.reply(b"250 recipient ok")
            elif cmd == b"DATA":
                if mail_from is None or not rcpts:
                    self.reply(b"503 need MAIL and RCPT first")
                    continue
                self.reply(b"354 go on")
                data = b""
                while True:
                    l = self.read_line()
                    if not l:
                        return
                    if l in (b".\r\n", b".\n"):
                        break
                    data += l[1:] if l.startswith(b"..") else l
                store(self.addr, self.no, self.tls, mail_from, rcpts, data)
                self.reply(b"250 queued")
                mail_from, rcpts = None, []
            elif cmd == b"RSET":
                mail_from, rcpts = None, []
                self.reply(b"250 ok")
            elif cmd == b"NOOP":
                self.reply(b"250 ok")
            elif cmd == b"QUIT":
                self.reply(b"221 bye")
                return
            else:
                self.reply(b"500 unknown command")


def guarded(conn, addr, behaviour, ctx):
    s = Session(conn, addr, behaviour, ctx)
    conn.settimeout(20)
    try:
        s.run()
    except (OSError, ssl.SSLError, ValueError) as e:
        s.event("error " + esc(str(e).encode()))
    finally:
        s.event("close")
        try:
            s.sock.close()
        except OSError:
            pass


def accept_late(sock):
    """The connections queued 3 s after the first of them arrived: the
    queue (backlog 0) stays full meanwhile, so a later connect() waits."""
    select.select([sock], [], [])
    time.sleep(3)
    sock.setblocking(False)
    conns = []
    try:
        while True:
            conns.append(sock.accept()[0])
    except BlockingIOError:
        pass
    sock.setblocking(True)
    for c in conns:
        c.setblocking(True)
    return conns


def serve(sock, addr, behaviour, ctx):
    while True:
        try:
            conns = accept_late(sock) if behaviour == "late" else [sock.accept()[0]]
        except OSError:
            return
        for conn in conns:
            # Arguments, not a closure: see smtp_sink.py (the loop rebinds conn).
            threading.Thread(target=guarded, args=(conn, addr, behaviour, ctx), daemon=True).start()


socks = []
for addr, behaviour, ctx in listeners:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if behaviour == "stall":  # accepted sockets inherit it: a window that closes soon
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.bind((addr, port))
    port = s.getsockname()[1]
    s.listen(0 if behaviour == "late" else 64)
    socks.append(s)
    threading.Thread(target=serve, args=(s, addr, behaviour, ctx), daemon=True).start()
with open(portfile + ".tmp", "w") as f:
    f.write(str(port))
os.rename(portfile + ".tmp", portfile)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
time.sleep(lifetime)
