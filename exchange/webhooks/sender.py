"""Posting one signed message to one endpoint, connecting only to a vetted address.

Plain ``http.client``: it lets the connection go to the address the SSRF guard vetted
while TLS still checks the certificate for the URL's host name, and it never follows a
redirect. Every failure comes back as a ``Result``; nothing here raises.

Connections are kept alive between deliveries to the same vetted address (``Pool``):
opening and closing one per delivery was a fifth of the worker's time. A kept
connection the receiver closed meanwhile is replaced once, at once; receivers
de-duplicate by ``webhook-id``, so the rare double post this can cause is safe.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

from exchange.version import SIGNATURE
from exchange.webhooks.ssrf import RefusedURL, Target, resolve

EXCERPT_BYTES = 20 * 1024
# Receivers close idle keep-alive connections after a few seconds (gunicorn: 2 s);
# one idle longer is not worth trying.
IDLE_SECONDS = 2.0
# What a kept connection the receiver has closed looks like on the next request.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


@dataclass
class Result:
    status_code: int | None
    duration_ms: int
    error_class: str | None
    excerpt: str
    retry_after: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _HTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float, expired: threading.Event):
        super().__init__(target.host, target.port, timeout=timeout)
        self._addresses, self._expired = target.addresses, expired

    def _open(self) -> socket.socket:
        # Every vetted address in turn (an unreachable IPv6 address must not fail a
        # host that also has a working IPv4 one); never a name resolved again.
        failure: OSError | None = None
        for address in self._addresses:
            try:
                # Visible to the watchdog as soon as it exists.
                self.sock = socket.create_connection((address, self.port), self.timeout)
                # http.client sends the headers and the body in two writes; on a kept
                # connection Nagle's algorithm would hold the body until the receiver's
                # delayed ACK (40 ms a delivery), as every HTTP client library avoids.
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                break
            except OSError as exc:
                failure = exc
                if self._expired.is_set():
                    break
        else:
            raise failure or OSError("no address to connect to")
        if self._expired.is_set():
            raise TimeoutError("the deadline passed while connecting")
        return self.sock

    def connect(self):
        self._open()


class _HTTPS(_HTTP, http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float, expired: threading.Event):
        http.client.HTTPSConnection.__init__(
            self, target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._addresses, self._expired = target.addresses, expired

    def connect(self):
        self.sock = self._context.wrap_socket(self._open(), server_hostname=self.host)


class Pool:
    """Idle keep-alive connections per vetted (scheme, host, port, addresses), shared by
    the worker's sending threads; each connection is used by one delivery at a time."""

    def __init__(self, per_target: int = 16):
        self._idle: dict[tuple, list[tuple[float, _HTTP]]] = defaultdict(list)
        self._lock = threading.Lock()
        self._per_target = per_target

    def take(self, key: tuple) -> _HTTP | None:
        now = time.monotonic()
        with self._lock:
            idle = self._idle.get(key)
            while idle:
                since, connection = idle.pop()
                if now - since < IDLE_SECONDS:
                    return connection
                connection.close()
        return None

    def give(self, key: tuple, connection: _HTTP) -> None:
        with self._lock:
            idle = self._idle[key]
            if len(idle) < self._per_target:
                idle.append((time.monotonic(), connection))
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            for idle in self._idle.values():
                for _, connection in idle:
                    connection.close()
            self._idle.clear()


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    allow_private: bool,
    pool: Pool | None = None,
) -> Result:
    """POST ``body`` to ``url``: success is a 2xx answer within ``timeout`` seconds."""
    started = time.monotonic()

    def result(code=None, error=None, excerpt="", retry_after=None) -> Result:
        elapsed = int((time.monotonic() - started) * 1000)
        # PostgreSQL text cannot hold NUL: a receiver's garbage must not break the log.
        return Result(code, elapsed, error, excerpt.replace("\x00", "\ufffd"), retry_after)

    try:
        target = resolve(url, allow_private=allow_private)
    except RefusedURL as exc:
        return result(error="refused_address", excerpt=str(exc))
    key = (target.scheme, target.host, target.port, tuple(target.addresses))
    deadline = started + timeout
    # The socket timeout bounds each read, not the whole exchange: a receiver sending its
    # answer a byte at a time would hold the worker as long as it liked. At the deadline
    # a watchdog shuts the socket, which ends any read in progress.
    expired = threading.Event()
    kept = pool.take(key) if pool is not None else None
    connection = kept or _connect(target, timeout, expired)
    connection._expired = expired
    watchdog = threading.Timer(timeout, _cut_off, args=(connection, expired))
    watchdog.daemon = True
    watchdog.start()
    response = None
    reusable = False
    try:
        try:
            response = _exchange(connection, target, body, headers, timeout)
        except _STALE:
            if kept is None or expired.is_set():
                raise
            # The receiver closed the kept connection while it was idle: a new one.
            connection.close()
            connection = _connect(target, timeout, expired)
            response = _exchange(connection, target, body, headers, timeout)
        chunks, size = [], 0
        while size < EXCERPT_BYTES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                # The status arrived in time: a 2xx counts, however slow its body.
                ok = 200 <= response.status < 300
                return result(response.status, None if ok else "timeout", "")
            if connection.sock is not None:  # None once http.client read it all
                connection.sock.settimeout(remaining)
            chunk = response.read1(EXCERPT_BYTES - size)
            if not chunk:
                response.read()  # the end: lets http.client finish with the answer
                break
            chunks.append(chunk)
            size += len(chunk)
        excerpt = b"".join(chunks).decode("utf-8", "replace")
        error = None if 200 <= response.status < 300 else _classify(response.status)
        # Kept only when the answer was read to its end and the receiver keeps it open.
        reusable = response.isclosed() and not response.will_close and not expired.is_set()
        return result(response.status, error, excerpt, response.getheader("Retry-After"))
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if expired.is_set() or isinstance(exc, TimeoutError):
            return result(error="timeout")
        if isinstance(exc, ssl.SSLError):
            return result(error="tls_error", excerpt=str(exc)[:500])
        if isinstance(exc, ConnectionRefusedError):
            return result(error="connection_refused")
        if isinstance(exc, ConnectionResetError):
            return result(error="connection_reset")
        return result(error=type(exc).__name__[:60], excerpt=str(exc)[:500])
    finally:
        watchdog.cancel()
        if response is not None and not reusable:
            response.close()
        # The watchdog may have fired after the answer was read: then it is not kept.
        if reusable and pool is not None and not expired.is_set():
            pool.give(key, connection)
        else:
            connection.close()


def _connect(target: Target, timeout: float, expired: threading.Event) -> _HTTP:
    conn_cls = _HTTPS if target.scheme == "https" else _HTTP
    return conn_cls(target, timeout, expired)


def _exchange(connection: _HTTP, target: Target, body: bytes, headers: dict, timeout: float):
    if connection.sock is not None:
        connection.sock.settimeout(timeout)
    connection.request(
        "POST",
        target.path,
        body=body,
        headers={
            **headers,
            "Content-Type": "application/json",
            "User-Agent": f"exchange-webhooks/{SIGNATURE}",
        },
    )
    return connection.getresponse()


def _cut_off(connection: _HTTP, expired: threading.Event) -> None:
    expired.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _classify(status: int) -> str:
    if 300 <= status < 400:
        return "redirect_not_followed"
    if status == 410:
        return "gone"
    return f"http_{status // 100}xx"
