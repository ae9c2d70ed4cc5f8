#!/usr/bin/env python3
"""Holds many idle live streams (`GET /api/live`) open on a running server, then signs sessions out and
times how long each signed-out stream takes to hear `ended`. Prints the server's memory per stream and the
revocation-to-leave latency (p50, p99). Standard library only.

usage: live_streams.py HOST:PORT SERVER_PID USERS SESSIONS_PER_USER SAMPLES

The sessions are those bench/seed.py made (tokens from seed.token). Each user's session 0 signs out the
others, one at a time, as the profile's "Sign out" button does; every other session holds one stream.
"""
import asyncio, statistics, sys, time

sys.path.insert(0, "bench")
import seed  # noqa: E402


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Stream:
    """One tab's event stream, read until it says `ended`."""

    def __init__(self, host: str, port: int, token: str):
        self.host, self.port, self.token = host, port, token
        self.ended = asyncio.get_running_loop().create_future()

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(
            f"GET /api/live HTTP/1.1\r\nHost: {self.host}\r\nAccept: text/event-stream\r\n"
            f"Cookie: session={self.token}\r\n\r\n".encode()
        )
        await self.writer.drain()
        status = await self.reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"stream refused: {status!r}")
        while (await self.reader.readline()) not in (b"\r\n", b""):
            pass
        asyncio.get_running_loop().create_task(self.read())

    async def read(self) -> None:
        while True:
            line = await self.reader.readline()
            if not line:
                break
            if b"event: ended" in line and not self.ended.done():
                self.ended.set_result(time.perf_counter())
        self.writer.close()


async def sign_out(host: str, port: int, own_token: str, session_id: str) -> None:
    """`end_session`, as the hydrated profile calls it."""
    body = f"id={session_id}".encode()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"POST /api/end_session HTTP/1.1\r\nHost: {host}:{port}\r\nOrigin: http://{host}:{port}\r\n"
        f"Cookie: session={own_token}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"sign-out refused: {status!r}")
    await reader.read()
    writer.close()


async def main() -> None:
    address, pid, users, per_user, samples = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    host, port = address.rsplit(":", 1)
    port = int(port)
    before = rss_kib(pid)
    streams = {}
    for i in range(users):
        for k in range(1, per_user):
            streams[(i, k)] = Stream(host, port, seed.token(i, k))
    opened = time.perf_counter()
    keys = list(streams)
    for start in range(0, len(keys), 200):
        await asyncio.gather(*(streams[key].open() for key in keys[start : start + 200]))
    opened = time.perf_counter() - opened
    await asyncio.sleep(2)
    held = rss_kib(pid)
    print(f"- {len(streams):,} idle streams held open (opened in {opened:.1f} s)")
    print(f"- server memory: {before / 1024:.1f} MiB before, {held / 1024:.1f} MiB with them open: "
          f"**{(held - before) / len(streams):.1f} KiB per stream**")
    latencies = []
    for key in keys[:samples]:
        i, k = key
        started = time.perf_counter()
        await sign_out(host, port, seed.token(i, 0), f"{i:024x}{k:08x}")
        ended = await asyncio.wait_for(streams[key].ended, timeout=10)
        latencies.append((ended - started) * 1000)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"- from sending a sign-out (`POST /api/end_session`) to its tab's stream hearing `ended`, over "
          f"{len(latencies)} sign-outs: **p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms** "
          f"(max {latencies[-1]:.1f} ms)")


asyncio.run(main())
