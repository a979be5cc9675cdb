"""Partner receivers on loopback, shared by the webhook tests and the live-process tests.

``FaultServer`` is a real HTTP server that records every request it gets (the exact
body bytes and headers) and answers as told: a status, a hang until released, a status
line dripped a byte at a time, a closed connection, a TCP reset or bytes that are not
HTTP. ``load_tracker_module()`` imports ``examples/tracker_receiver.py``, the partner
tracker of the docs.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load_tracker_module():
    """``examples/tracker_receiver.py`` as the module ``tracker_receiver`` (loaded once)."""
    name = "tracker_receiver"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "examples" / "tracker_receiver.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class Request:
    """One request as it arrived: the exact body bytes, the headers, and how the
    receiver meant to answer it (``mode`` and ``status``)."""

    body: bytes
    headers: dict[str, str]
    received_at: float = field(default_factory=time.time)
    mode: str = ""
    status: int | None = None

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def timestamp(self) -> int:
        return int(self.headers["webhook-timestamp"])

    @property
    def signatures(self) -> list[str]:
        return self.headers["webhook-signature"].split(" ")


def lower_headers(headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def stop_server(server) -> None:
    """Shut ``server`` down and close it; a connection wakes its loop at once (instead of
    after its poll interval)."""
    if getattr(server, "stopped", False):
        return
    server.stopped = True
    stopping = threading.Thread(target=server.shutdown)
    stopping.start()
    while stopping.is_alive():
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", server.server_port), timeout=1).close()
        stopping.join(0.02)
    server.server_close()


def url_of(server, path: str = "/hooks") -> str:
    return f"http://127.0.0.1:{server.server_port}{path}"


class FaultServer(ThreadingHTTPServer):
    """A receiver that misbehaves as told by ``mode``:

    ``status`` (answer ``status`` with ``headers`` and ``body``, or what ``decide``
    returns for the message, when it returns a status; after ``delay`` seconds), ``hang``
    (read the request, never answer until released), ``drip`` (send the status line one
    byte at a time, slowly), ``close`` (close without answering), ``reset`` (TCP RST),
    ``garbage`` (answer bytes that are not HTTP).

    ``port`` binds a given port (to come back where a stopped receiver was);
    ``captured`` may be a list shared with an earlier server on that port."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, port: int = 0, captured: list[Request] | None = None):
        super().__init__(("127.0.0.1", port), _FaultHandler)
        self.mode = "status"
        self.status = 204
        self.delay = 0.0
        self.headers: dict[str, str] = {}
        self.body = b""
        self.decide = None
        self.captured: list[Request] = [] if captured is None else captured
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.url = url_of(self)

    def answer(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.mode, self.status, self.body = "status", status, body
        self.headers = {k.replace("_", "-"): v for k, v in headers.items()}

    def start(self) -> FaultServer:
        """Serve in a daemon thread; returns the server."""
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        stop_server(self)

    def received(self) -> list[Request]:
        """A copy of what arrived so far (handlers append from their own threads)."""
        with self.lock:
            return list(self.captured)


class _FaultHandler(BaseHTTPRequestHandler):
    server: FaultServer
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        mode, status = self.server.mode, self.server.status
        request = Request(body, lower_headers(self.headers), mode=mode, status=status)
        with self.server.lock:
            self.server.captured.append(request)
        self.close_connection = True
        with contextlib.suppress(OSError):
            if mode == "status":
                decided = self.server.decide and self.server.decide(json.loads(body))
                request.status = decided or status
                if self.server.delay:
                    time.sleep(self.server.delay)
                self.send_response(request.status)
                for name, value in self.server.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(self.server.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(self.server.body)
            elif mode == "hang":
                self.server.release.wait(60)
            elif mode == "drip":
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
                    if self.server.release.wait(0.2):
                        break
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            elif mode == "reset":
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
            elif mode == "garbage":
                self.wfile.write(b"\x00\xffthis is not HTTP at all\r\n\r\n")
            # "close": nothing at all

    def log_message(self, *args):
        pass
