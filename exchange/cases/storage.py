"""Where attachment bytes live: a content-addressed store behind a small interface, so an
object store can replace the local folder without touching the cases service."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app

CHUNK = 1024 * 1024


class TooLarge(Exception):
    """The stream was longer than the limit; nothing was kept."""


class BlobStore(Protocol):
    def put(self, stream: BinaryIO, *, limit: int) -> tuple[str, int]: ...
    def open(self, sha256: str) -> BinaryIO: ...


class LocalBlobStore:
    """Files under ``root/ab/abcdef...`` named by their SHA-256; identical files share one."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, stream: BinaryIO, *, limit: int) -> tuple[str, int]:
        """Store ``stream`` (at most ``limit`` bytes); returns (sha256, size)."""
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
            if os.path.exists(temp):
                os.unlink(temp)

    def open(self, sha256: str) -> BinaryIO:
        return self._path(sha256).open("rb")


def blob_store() -> BlobStore:
    root = current_app.config.get("ATTACHMENTS_PATH") or os.path.join(
        current_app.instance_path, "attachments"
    )
    return LocalBlobStore(Path(root))
