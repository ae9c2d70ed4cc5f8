"""A real SMTP server for the integration tests (aiosmtpd): every message it accepts is written to a
folder as an .eml file, which the tests read like the outbox.

    python smtp_sink.py FOLDER [--refuse-first N]

It listens on a free loopback port and prints "listening on PORT" once it does. With --refuse-first N
it answers the first N messages with a temporary failure (451), as a busy or restarting mail server
does, so the tests can watch the app retry. Mail to an address starting with "bounce@" gets a
permanent failure (550), which must not be retried.
"""

import argparse
import asyncio
import os
import sys
import time

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, folder, refuse_first):
        self.folder = folder
        self.refuse_left = refuse_first

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_left > 0:
            self.refuse_left -= 1
            print("refused a message (451)", flush=True)
            return "451 4.3.0 Try again later"
        if any(rcpt.startswith("bounce@") for rcpt in envelope.rcpt_tos):
            print("refused a message (550)", flush=True)
            return "550 5.1.1 No such mailbox"
        name = f"{time.time_ns()}"
        partial = os.path.join(self.folder, f".{name}.tmp")
        with open(partial, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        # Renamed once whole: a reader never sees half a message.
        os.rename(partial, os.path.join(self.folder, f"{name}.eml"))
        return "250 2.0.0 OK"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--refuse-first", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    handler = Sink(args.folder, args.refuse_first)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="sink.localhost"), "127.0.0.1", 0)
    print(f"listening on {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
