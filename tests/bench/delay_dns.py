# SPDX-License-Identifier: Apache-2.0
"""A DNS forwarder that answers every query DELAY_MS late (UDP): a resolver
"50 ms away" for the delivery benchmark. Usage: delay_dns.py LISTEN_ADDR
LISTEN_PORT UPSTREAM_ADDR UPSTREAM_PORT DELAY_MS PORTFILE"""
import os, socket, sys, threading, time

addr, port, up_addr, up_port, delay, portfile = sys.argv[1:7]
delay = int(delay) / 1000.0
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind((addr, int(port)))
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)

def relay(query, client):
    time.sleep(delay)
    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    up.settimeout(2)
    try:
        up.sendto(query, (up_addr, int(up_port)))
        answer, _ = up.recvfrom(65535)
        srv.sendto(answer, client)
    except OSError:
        pass
    finally:
        up.close()

deadline = time.time() + 600
srv.settimeout(1)
while time.time() < deadline:
    try:
        query, client = srv.recvfrom(65535)
    except socket.timeout:
        continue
    threading.Thread(target=relay, args=(query, client), daemon=True).start()
