# SPDX-License-Identifier: Apache-2.0
"""smtplib with a child process started between EHLO and MAIL FROM.

Python (3.11) starts children with vfork(): until it execs, the child runs
in the parent's memory and closes the descriptors it does not pass on
(close_range()) in its own descriptor table. The parent's SMTP connection
must stay what it was.

usage: subprocess_client.py HOST PORT MARKER
Prints "delivered" or "failed WHY".
"""
import smtplib
import subprocess
import sys

host, port, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3]
try:
    s = smtplib.SMTP(host, port, timeout=20)
    s.ehlo("client.test")
    subprocess.run(["/bin/true"], check=True, close_fds=True)
    s.sendmail("s@client.test", ["user@example.com"],
               "Subject: %s\r\n\r\n%s\r\n" % (marker, marker))
    s.quit()
    print("delivered")
except (smtplib.SMTPException, OSError) as e:
    print("failed", e)
