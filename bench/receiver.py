"""A minimal, fast webhook receiver for the bench: raw asyncio HTTP/1.1, keep-alive,
answers every POST with 204 at once and notes the time of receipt with the first bytes
of the body (where the envelope's ``timestamp`` is). No signature check: the bench
measures the sender, not the receiver.

    python -m bench.receiver --port 9000

Control (plain GET): ``/stats`` -> ``{"count": n}``; ``/dump`` -> every receipt as
``[unix_time, body_prefix]``; ``/reset`` forgets them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time

PREFIX_BYTES = 200
NO_CONTENT = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
NO_CONTENT_CLOSE = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class Receipts:
    def __init__(self):
        self.items: list[tuple[float, str]] = []


class Http(asyncio.Protocol):
    def __init__(self, receipts: Receipts):
        self.receipts = receipts
        self.buffer = b""
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data: bytes):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            lines = head.split("\r\n")
            method, target = lines[0].split(" ")[:2]
            length, close = 0, False
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value.strip())
                elif name == "connection" and value.strip().lower() == "close":
                    close = True
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            if method == "POST":
                self.receipts.items.append(
                    (time.time(), body[:PREFIX_BYTES].decode("utf-8", "replace"))
                )
                self.transport.write(NO_CONTENT_CLOSE if close else NO_CONTENT)
            else:
                self.transport.write(self._control(target, close))
            if close:
                self.transport.close()
                return

    def _control(self, target: str, close: bool) -> bytes:
        if target.startswith("/stats"):
            payload = {"count": len(self.receipts.items)}
        elif target.startswith("/dump"):
            payload = self.receipts.items
        elif target.startswith("/reset"):
            self.receipts.items = []
            payload = {"count": 0}
        else:
            payload = {"ok": True}
        body = json.dumps(payload).encode()
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n" + ("Connection: close\r\n" if close else "")
        )
        return head.encode() + b"\r\n" + body


async def serve(host: str, port: int) -> None:
    receipts = Receipts()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Http(receipts), host, port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
