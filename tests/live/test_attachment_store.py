"""The attachment store failing in the middle of an upload, for real: the store's folder
runs out of space while the file is written (a 1 MiB tmpfs mounted over it, in a mount
namespace of the web server's own: ENOSPC), the server may not write files that large
(RLIMIT_FSIZE: EFBIG), the store's folder breaks when the file is put in place, and
the client goes away in the middle of its request body. Each time: a clear
answer (``attachment_store_failed``, or nothing for a client that left), no attachment,
no event in the case's history, no file or part of one left, and the next upload works.

The web server runs one sync worker, so a request is answered only after the one
before it was handled completely."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.live.deployment import HTTP_TIMEOUT, wait_for

pytestmark = pytest.mark.slow
POSTGRES = os.environ.get("EXCHANGE_TEST_POSTGRES_URL")

MiB = 1024 * 1024


def _files(root: Path) -> list[str]:
    """Every file under ``root``, hidden temporary files included."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _attach(program, case_id: int, data: bytes):
    files = {"file": ("controller-dump.bin", data, "application/octet-stream")}
    return program.call("POST", f"/cases/{case_id}/attachments", files=files)


def _assert_store_failed(response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "attachment_store_failed"
    assert "nothing was added" in problem["detail"]


def _case(exchange) -> tuple[int, int]:
    """A new case of acme's and how many events its history holds."""
    case_id = exchange.programs["acme"].open_case()["id"]
    return case_id, len(exchange.programs["acme"].events(case_id))


def _nothing_added(program, case_id: int, events: int) -> None:
    assert program.ok("GET", f"/cases/{case_id}/attachments") == []
    history = program.events(case_id)
    assert len(history) == events
    assert "case.attachment_added" not in {e["type"] for e in history}


def _tmpfs_prefix(mount_point: Path) -> list[str]:
    """Run a command in a mount namespace of its own with a 1 MiB tmpfs on
    ``mount_point`` (the rest of the machine never sees it); skip where not allowed."""
    prefix = [
        "unshare", "--mount", "--propagation", "private", "--",
        "sh", "-c", 'mount -t tmpfs -o size=1m tmpfs "$0" && exec "$@"', str(mount_point),
    ]  # fmt: skip
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) from util-linux to mount a small store")
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs in a mount namespace here: {probe.stderr.strip()}")
    return prefix


def _file_size_prefix() -> list[str]:
    """Run a command with a file size limit of 256 KiB (RLIMIT_FSIZE) and SIGXFSZ
    ignored, so a longer write fails with EFBIG instead of killing the process."""
    if not POSTGRES:
        pytest.skip(
            "PostgreSQL pass only: on SQLite the limit would stop the server's writes to "
            "its database file too"
        )
    if shutil.which("prlimit") is None:
        pytest.skip("needs prlimit(1) from util-linux")
    return [
        "prlimit", f"--fsize={256 * 1024}", "--",
        "sh", "-c", 'trap "" XFSZ; exec "$@"', "sh",
    ]  # fmt: skip


# How the store fails mid-write: (how the server is started, a file too large for the
# store, a file that fits, the error the server logs). The large file of the size limit
# stays below the 500 KiB that werkzeug keeps in memory, so the limit hits the store,
# not the parsing of the upload.
FAILURES = {
    "out-of-space": (_tmpfs_prefix, 3 * MiB, MiB // 2, errno.ENOSPC),
    "file-size-limit": (lambda _store: _file_size_prefix(), 400 * 1024, 100 * 1024, errno.EFBIG),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_store_failing_mid_write_keeps_nothing(deploy, tmp_path, failure):
    store = tmp_path / "store"
    store.mkdir()
    make_prefix, too_large, fits, error = FAILURES[failure]
    prefix = make_prefix(store)
    exchange = deploy(ATTACHMENTS_PATH=str(store))
    server = exchange.serve(web_workers=1, prefix=prefix)
    # The store as the server sees it: through its root, in its own mount namespace.
    seen = Path(f"/proc/{server.pid}/root") / store.relative_to("/")
    if failure == "out-of-space":
        assert f" {store} " in Path(f"/proc/{server.pid}/mountinfo").read_text()
    acme = exchange.programs["acme"]
    case_id, events = _case(exchange)

    _assert_store_failed(_attach(acme, case_id, os.urandom(too_large)))
    _nothing_added(acme, case_id, events)
    assert _files(seen) == []
    assert f"attachment store failed on case {case_id}: OSError: {os.strerror(error)}" in (
        server.output()
    )
    # The space the failed upload took is free again: a file that fits is stored.
    data = os.urandom(fits)
    assert _attach(acme, case_id, data).status_code == 201
    sha = hashlib.sha256(data).hexdigest()
    assert _files(seen) == [f"{sha[:2]}/{sha}"]
    assert len(acme.events(case_id)) == events + 1


def test_a_store_folder_that_breaks_when_the_file_is_put_in_place_keeps_nothing(deploy, tmp_path):
    store = tmp_path / "store"
    exchange = deploy(ATTACHMENTS_PATH=str(store))
    exchange.serve(web_workers=1)
    acme = exchange.programs["acme"]
    case_id, events = _case(exchange)
    data = os.urandom(2 * MiB)
    sha = hashlib.sha256(data).hexdigest()
    # A file where the store's folder for this content belongs: the whole upload is
    # written to a temporary file, and putting it in place fails.
    store.mkdir()
    (store / sha[:2]).write_bytes(b"not a folder")

    _assert_store_failed(_attach(acme, case_id, data))
    _nothing_added(acme, case_id, events)
    assert _files(store) == [sha[:2]]
    # Repaired, the same upload goes through.
    (store / sha[:2]).unlink()
    assert _attach(acme, case_id, data).status_code == 201
    assert _files(store) == [f"{sha[:2]}/{sha}"]


def test_a_client_leaving_mid_upload_leaves_nothing(deploy, tmp_path):
    store = tmp_path / "store"
    exchange = deploy(ATTACHMENTS_PATH=str(store))
    server = exchange.serve(web_workers=1)
    acme = exchange.programs["acme"]
    case_id, events = _case(exchange)
    boundary = "live-test-boundary"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="half.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = 3 * MiB
    port = int(exchange.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT) as conn:
        conn.sendall(
            (
                f"POST /api/v1/cases/{case_id}/attachments HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\n"
                f"Authorization: Bearer {acme.token}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {len(head) + size + len(tail)}\r\n\r\n"
            ).encode()
            + head
            + os.urandom(size // 3)
        )
    # Gone with two thirds of the body unsent. The server notices, and logs its answer
    # (a 4xx: the request is incomplete; never a 5xx).
    logged = re.compile(rf'"POST /api/v1/cases/{case_id}/attachments HTTP/1.1" (\d+)')
    found = wait_for(lambda: logged.search(server.output()), "the server to finish the request")
    assert 400 <= int(found.group(1)) < 500, found.group(0)
    _nothing_added(acme, case_id, events)
    assert not store.exists() or _files(store) == []
    assert _attach(acme, case_id, b"complete").status_code == 201
