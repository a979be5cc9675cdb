"""Posting one signed message to one endpoint, connecting only to a vetted address.

Plain ``http.client``: it lets the connection go to the address the SSRF guard vetted
while TLS still checks the certificate for the URL's host name, and it never follows a
redirect. Every failure comes back as a ``Result``; nothing here raises.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from exchange.version import SIGNATURE
from exchange.webhooks.ssrf import RefusedURL, Target, resolve

EXCERPT_BYTES = 20 * 1024


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


def post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool
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
    deadline = started + timeout
    conn_cls = _HTTPS if target.scheme == "https" else _HTTP
    # The socket timeout bounds each read, not the whole exchange: a receiver sending its
    # answer a byte at a time would hold the worker as long as it liked. At the deadline
    # a watchdog shuts the socket, which ends any read in progress.
    expired = threading.Event()
    connection = conn_cls(target, timeout, expired)
    watchdog = threading.Timer(timeout, _cut_off, args=(connection, expired))
    watchdog.daemon = True
    watchdog.start()
    response = None
    try:
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
        response = connection.getresponse()
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
                break
            chunks.append(chunk)
            size += len(chunk)
        excerpt = b"".join(chunks).decode("utf-8", "replace")
        error = None if 200 <= response.status < 300 else _classify(response.status)
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
        if response is not None:
            response.close()
        connection.close()


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
