# SPDX-License-Identifier: Apache-2.0
"""Delivers one message with Python's smtplib, the way a careful script
does: STARTTLS when the server offers it, with ssl.create_default_context()
(certificate and host name checked by OpenSSL).
Usage: send_smtplib.py HOST PORT RCPT MARKER [CAFILE] [--name SERVER_NAME]
Exit 0 delivered, 1 refused or failed."""
import smtplib, ssl, sys

host, port, rcpt, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rest = sys.argv[5:]
cafile = rest[0] if rest and not rest[0].startswith("--") else None
name = rest[rest.index("--name") + 1] if "--name" in rest else None
try:
    s = smtplib.SMTP(host, port, timeout=10)
    if name:
        s._host = name  # the name the client would have connected by
    s.ehlo("client.test")
    if s.has_extn("starttls"):
        s.starttls(context=ssl.create_default_context(cafile=cafile))
        s.ehlo("client.test")
    s.sendmail("sender@client.test", [rcpt], "Subject: %s\r\n\r\n%s\r\n" % (marker, marker))
    s.quit()
except (OSError, smtplib.SMTPException, ssl.SSLError) as e:
    print("send_smtplib: %s" % e, file=sys.stderr)
    sys.exit(1)
