"""Where attachment bytes live: a content-addressed store behind a small interface, so an
object store can replace the local folder without touching the cases service."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app

CHUNK = 1024 * 1024


class TooLarge(Exception):
    """The stream was longer than the limit; nothing was kept."""


class StoreFailed(Exception):
    """The store could not keep the file (no space, broken folder, I/O error); nothing
    was kept. ``reason`` is for the operator's log, not for the uploader."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class BlobStore(Protocol):
    def put(self, stream: BinaryIO, *, limit: int) -> tuple[str, int]:
        """(sha256, size); raises TooLarge or StoreFailed, keeping nothing then."""
        ...

    def open(self, sha256: str) -> BinaryIO: ...


class LocalBlobStore:
    """Files under ``root/ab/abcdef...`` named by their SHA-256; identical files share one."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, stream: BinaryIO, *, limit: int) -> tuple[str, int]:
        """Store ``stream`` (at most ``limit`` bytes); returns (sha256, size). Raises
        ``TooLarge`` or ``StoreFailed``, and then leaves no file behind, not even part
        of one: bytes go to a temporary file that becomes the blob only when complete."""
        try:
            return self._put(stream, limit)
        except OSError as exc:
            raise StoreFailed(f"{type(exc).__name__}: {exc.strerror or exc}") from exc

    def _put(self, stream: BinaryIO, limit: int) -> tuple[str, int]:
        self.root.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        handle, temp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge
                    digest.update(chunk)
                    out.write(chunk)
            sha = digest.hexdigest()
            target = self._path(sha)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, target)
            return sha, size
        finally:
            # A failed write (no space left: EFBIG, ENOSPC) ends here too.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)

    def open(self, sha256: str) -> BinaryIO:
        return self._path(sha256).open("rb")


def blob_store() -> BlobStore:
    root = current_app.config.get("ATTACHMENTS_PATH") or os.path.join(
        current_app.instance_path, "attachments"
    )
    return LocalBlobStore(Path(root))
