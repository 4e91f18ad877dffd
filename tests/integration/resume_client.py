# SPDX-License-Identifier: Apache-2.0
"""Opens a STARTTLS session with each given server in turn, offering the
previous connection's TLS session for resumption (certificate checks left
to mxverify: CERT_NONE, like curl -k). Prints one line per server:
"ADDR ok reused=True|False" or "ADDR failed: why".
Usage: resume_client.py PORT ADDR..."""
import socket, ssl, sys

port = int(sys.argv[1])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
session = None
for addr in sys.argv[2:]:
    try:
        raw = socket.create_connection((addr, port), timeout=10)
        f = raw.makefile("rwb", buffering=0)
        f.readline()
        f.write(b"EHLO client.test\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        f.write(b"STARTTLS\r\n")
        f.readline()
        tls = ctx.wrap_socket(raw, session=session)
        tf = tls.makefile("rwb", buffering=0)
        tf.write(b"EHLO client.test\r\n")
        while not tf.readline().startswith(b"250 "):
            pass
        print("%s ok reused=%s" % (addr, tls.session_reused), flush=True)
        session = tls.session
        tf.write(b"QUIT\r\n")
        tf.readline()
        tls.close()
    except (OSError, ssl.SSLError) as e:
        print("%s failed: %s" % (addr, e), flush=True)
