# SPDX-License-Identifier: Apache-2.0
"""An SMTP client on Python's asyncio: STARTTLS through
StreamWriter.start_tls(), so OpenSSL runs on memory BIOs that the event
loop fills and drains (the way asyncio programs, aiosmtplib among them, do
TLS). Certificate checks left to mxverify (CERT_NONE, like curl -k) unless
--cafile is given (then the chain is checked, not the name).

Usage: asyncio_client.py ADDR PORT [--resume-to ADDR2 | --interleave ADDR2]
                         [--cafile F] [--marker M]
Delivers one message per connection (Subject and body MARKER, default
"asyncio") and prints one line each: "ADDR delivered tls=yes|no
reused=True|False" or "ADDR failed: why". Exit 0 when all were delivered.
  --resume-to ADDR2   then deliver to ADDR2 offering the first session
  --interleave ADDR2  both connections at once in the one event loop

asyncio cannot offer a session: neither start_tls() takes one. But its SSL
protocol makes its SSLObject with sslcontext.wrap_bio(), so a context whose
wrap_bio() adds the session offered by the calling task (a context
variable: wrap_bio runs in a callback scheduled from that task, which sees
the task's variables) lets asyncio's own machinery resume it.
"""
import asyncio, contextvars, ssl, sys

offered = contextvars.ContextVar("offered", default=None)


class OfferingContext(ssl.SSLContext):
    def wrap_bio(self, incoming, outgoing, server_side=False, server_hostname=None, session=None):
        return super().wrap_bio(incoming, outgoing, server_side, server_hostname,
                                session or offered.get())


class Failed(Exception):
    pass


async def reply(reader):
    """One reply, all its lines: (code, last line)."""
    while True:
        line = await reader.readline()
        if not line:
            raise Failed("connection closed")
        if len(line) < 4 or line[3:4] != b"-":
            return int(line[:3]) if line[:3].isdigit() else 0, line.strip().decode("latin-1")


async def command(reader, writer, line, want, stage):
    writer.write(line)
    await writer.drain()
    code, text = await reply(reader)
    if code != want:
        raise Failed("%s: %s" % (stage, text))
    return text


async def ehlo(reader, writer):
    writer.write(b"EHLO client.test\r\n")
    await writer.drain()
    offers = False
    while True:
        line = await reader.readline()
        if not line.startswith(b"250"):
            raise Failed("EHLO: %r" % line)
        offers |= line[4:].strip().upper() == b"STARTTLS"
        if line[3:4] != b"-":
            return offers


async def session(addr, port, ctx, marker, offer):
    """Delivers one message; returns (tls, reused, the TLS session)."""
    reader, writer = await asyncio.open_connection(addr, port)
    try:
        if (await reply(reader))[0] != 220:
            raise Failed("greeting")
        tls, reused, sess = False, False, None
        if await ehlo(reader, writer):
            await command(reader, writer, b"STARTTLS\r\n", 220, "STARTTLS")
            offered.set(offer)
            await writer.start_tls(ctx)
            obj = writer.get_extra_info("ssl_object")
            tls, reused = True, obj.session_reused
            await ehlo(reader, writer)
        await command(reader, writer, b"MAIL FROM:<s@client.test>\r\n", 250, "MAIL")
        await command(reader, writer, b"RCPT TO:<user@example.com>\r\n", 250, "RCPT")
        await command(reader, writer, b"DATA\r\n", 354, "DATA")
        data = b"Subject: %s\r\n\r\n%s\r\n.\r\n" % (marker.encode(), marker.encode())
        await command(reader, writer, data, 250, "message")
        await command(reader, writer, b"QUIT\r\n", 221, "QUIT")
        if tls:
            sess = writer.get_extra_info("ssl_object").session  # tickets are in by now
        return tls, reused, sess
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 5)
        except (OSError, ssl.SSLError, asyncio.TimeoutError):
            pass


async def deliver(addr, port, ctx, marker, offer=None):
    """Prints the connection's line; returns its session, or False if not delivered."""
    try:
        tls, reused, sess = await asyncio.wait_for(session(addr, port, ctx, marker, offer), 30)
    except (Failed, OSError, ssl.SSLError, asyncio.TimeoutError, ValueError) as e:
        print("%s failed: %s" % (addr, str(e) or type(e).__name__), flush=True)
        return False
    print("%s delivered tls=%s reused=%s" % (addr, "yes" if tls else "no", reused), flush=True)
    return sess


async def main(argv):
    addr, port = argv[0], int(argv[1])
    opts = dict(zip(argv[2::2], argv[3::2]))
    unknown = set(opts) - {"--resume-to", "--interleave", "--cafile", "--marker"}
    if len(argv) % 2 or unknown or ("--resume-to" in opts and "--interleave" in opts):
        sys.exit("usage: asyncio_client.py ADDR PORT [--resume-to ADDR2 | --interleave ADDR2] "
                 "[--cafile F] [--marker M]")
    ctx = OfferingContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    if "--cafile" in opts:
        ctx.load_verify_locations(opts["--cafile"])
    else:
        ctx.verify_mode = ssl.CERT_NONE
    marker = opts.get("--marker", "asyncio")
    if "--interleave" in opts:
        results = await asyncio.gather(deliver(addr, port, ctx, marker),
                                       deliver(opts["--interleave"], port, ctx, marker))
    else:
        results = [await deliver(addr, port, ctx, marker)]
        if "--resume-to" in opts:
            offer = results[0] or None
            results.append(await deliver(opts["--resume-to"], port, ctx, marker, offer))
    return 0 if all(r is not False for r in results) else 1


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(asyncio.run(main(sys.argv[1:])))
