"""The sender keeps connections alive between deliveries to the same address, and
replaces a kept connection the receiver closed meanwhile without failing the delivery."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from exchange.webhooks.sender import Pool, post


class KeepAliveServer(ThreadingHTTPServer):
    """Answers 204 over HTTP/1.1 keep-alive; records the client port of each request.
    With ``hang_up`` it closes every connection after answering, without saying so
    (what an idle timeout on the receiver's side looks like to the next request)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.ports: list[int] = []
        self.hang_up = False


class _Handler(BaseHTTPRequestHandler):
    server: KeepAliveServer
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.ports.append(self.client_address[1])
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = self.server.hang_up

    def log_message(self, *args):
        pass


@pytest.fixture()
def receiver():
    server = KeepAliveServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def send(server: KeepAliveServer, pool: Pool | None):
    url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    return post(url, b"{}", {"webhook-id": "msg_1"}, timeout=5, allow_private=True, pool=pool)


def test_deliveries_to_one_address_share_a_connection(receiver):
    pool = Pool()
    try:
        results = [send(receiver, pool) for _ in range(5)]
    finally:
        pool.close()
    assert [r.status_code for r in results] == [204] * 5
    assert len(receiver.ports) == 5
    assert len(set(receiver.ports)) == 1


def test_without_a_pool_every_delivery_connects_anew(receiver):
    results = [send(receiver, None) for _ in range(3)]
    assert [r.status_code for r in results] == [204] * 3
    assert len(set(receiver.ports)) == 3


def test_a_kept_connection_the_receiver_closed_is_replaced(receiver):
    receiver.hang_up = True
    pool = Pool()
    try:
        results = [send(receiver, pool) for _ in range(4)]
    finally:
        pool.close()
    # Each delivery succeeds once, on a new connection; none is reported as failed.
    assert [(r.status_code, r.error_class) for r in results] == [(204, None)] * 4
    assert len(receiver.ports) == 4
    assert len(set(receiver.ports)) == 4


def test_kept_connections_send_without_waiting_for_acks(receiver):
    """TCP_NODELAY: headers and body go in two writes; with Nagle's algorithm a kept
    connection waited for the receiver's delayed ACK (about 40 ms) on every delivery."""
    pool = Pool()
    try:
        assert send(receiver, pool).ok
        ((_, connection),) = [kept for idle in pool._idle.values() for kept in idle]
        assert connection.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        pool.close()
