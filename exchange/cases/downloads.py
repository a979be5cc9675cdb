"""Attachment names and types an uploader controls, made safe for storage and for the
download's headers: the upload replaces control characters in the name, and every
download builds its ``Content-Disposition`` (RFC 6266, with the exact name in an
RFC 5987 ``filename*``) from the stored name, so names stored before that still download.
"""

from __future__ import annotations

import re
import unicodedata
from typing import BinaryIO
from urllib.parse import quote

from flask import Response, send_file

# Control characters (C0, DEL, C1), format characters (bidi overrides that reverse how a
# name reads, zero-width ones), lone surrogates and line/paragraph separators: none
# belongs in a file name, and a line break in a header is refused (the download's 500).
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# RFC 5987 attr-char beyond letters and digits (quote() keeps "_.-~" itself).
_ATTR_CHARS = "!#$&+^`|"
# The quoted ASCII fallback keeps printable ASCII but the quote, the backslash, and what
# naive parsers split or decode on (; , %).
_FALLBACK_UNSAFE = frozenset('"\\;,%')
_MIMETYPE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
)
FALLBACK_NAME = "attachment"
FALLBACK_TYPE = "application/octet-stream"


def clean_filename(name: str) -> str:
    """``name`` stripped, with every unsafe character replaced by ``_``; empty when
    nothing but unsafe characters and spaces was there."""
    unsafe = [unicodedata.category(c) in _UNSAFE_CATEGORIES for c in name]
    if all(bad or c.isspace() for c, bad in zip(name, unsafe, strict=True)):
        return ""
    return "".join("_" if bad else c for c, bad in zip(name, unsafe, strict=True)).strip()


def clean_content_type(value: str | None) -> str:
    """A plain ``type/subtype`` as given, anything else ``application/octet-stream``."""
    return value if value and _MIMETYPE.fullmatch(value) else FALLBACK_TYPE


def content_disposition(filename: str) -> str:
    """``attachment; filename="<ASCII>"; filename*=UTF-8''<exact name>``: old clients read
    the ASCII fallback, current ones the percent-encoded UTF-8 name."""
    name = clean_filename(filename) or FALLBACK_NAME
    fallback = "".join(
        c if 0x20 <= ord(c) < 0x7F and c not in _FALLBACK_UNSAFE else "_" for c in name
    )
    encoded = quote(name, safe=_ATTR_CHARS)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def send_attachment(stream: BinaryIO, *, filename: str, content_type: str, etag: str) -> Response:
    """The file as a download, never shown inline and never kept in a cache (it holds
    customer data)."""
    response = send_file(stream, mimetype=clean_content_type(content_type), etag=etag, max_age=0)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
