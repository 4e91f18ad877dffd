#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""An HTTPS server of MTA-STS policies for integration tests.

Serves https://mta-sts.DOMAIN/.well-known/mta-sts.txt on port 443 of one
address for every DOMAIN that has a file DOCROOT/DOMAIN (the policy body,
read at each request, so a test may change it). The certificate is chosen
by SNI: DOCROOT/DOMAIN.pem and .key when present (a wrong one, say), else
the default pair given. Every request is appended to DOCROOT/requests.log
("HOST PATH"), so a test can count fetches. A domain whose name starts with
a kind word is served badly, for the fetch failure cases:
  notfound.*   404             redirect.*  301 to mta-sts.good.example
  html.*       text/html       big.*       a body over 64 KB
  slow.*       answers after 30 seconds
Stops itself after --lifetime seconds (default 300) and on SIGTERM.

Usage: sts_https.py DOCROOT ADDRESS CERT KEY [--lifetime S]
"""
import http.server, os, signal, socketserver, ssl, sys, threading, time

if len(sys.argv) < 5 or sys.argv[1] in ("-h", "--help"):
    print(__doc__.strip())
    sys.exit(0 if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help") else 2)
docroot, address, cert, key = sys.argv[1:5]
lifetime = int(sys.argv[6]) if len(sys.argv) > 6 and sys.argv[5] == "--lifetime" else 300
PATH = "/.well-known/mta-sts.txt"


def context(chain, private):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, private)
    return ctx


default = context(cert, key)
own = {}


def pick(sock, server_name, _ctx):
    """SNI: the domain's own pair when the test put one there."""
    domain = (server_name or "").removeprefix("mta-sts.")
    pem = os.path.join(docroot, domain + ".pem")
    if domain and os.path.exists(pem):
        if domain not in own:
            own[domain] = context(pem, os.path.join(docroot, domain + ".key"))
        sock.context = own[domain]


default.sni_callback = pick
log_lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, ctype, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        with log_lock, open(os.path.join(docroot, "requests.log"), "a") as log:
            log.write("%s %s\n" % (host, self.path))
        domain = host.removeprefix("mta-sts.")
        policy = os.path.join(docroot, domain)
        if self.path != PATH or not host.startswith("mta-sts.") or "/" in domain or not os.path.isfile(policy):
            return self.reply(404, "text/plain", b"not found\n")
        with open(policy, "rb") as f:
            body = f.read()
        kind = domain.split(".")[0]
        if kind == "notfound":
            return self.reply(404, "text/plain", b"not found\n")
        if kind == "redirect":
            return self.reply(301, "text/plain", b"moved\n",
                              [("Location", "https://mta-sts.good.example" + PATH)])
        if kind == "html":
            return self.reply(200, "text/html; charset=utf-8", body)
        if kind == "big":
            body += b"x-padding: " + b"x" * 70000 + b"\n"
        if kind == "slow":
            time.sleep(30)
        self.reply(200, "text/plain; charset=utf-8", body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server((address, 443), Handler)
server.socket = default.wrap_socket(server.socket, server_side=True)
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
threading.Timer(lifetime, lambda: os._exit(0)).start()
with open(os.path.join(docroot, "ready"), "w") as f:
    f.write("ready\n")
server.serve_forever()
