"""File names an uploader controls: control characters are replaced at upload, and the
download's Content-Disposition is safe for any stored name (RFC 6266 with an RFC 5987
``filename*``), including names stored before uploads were cleaned. An upload with a
line break in its name answered 201 and every download of it then was a 500."""

from __future__ import annotations

from urllib.parse import quote, unquote

import pytest

from exchange.cases.downloads import content_disposition
from exchange.cases.models import Attachment
from exchange.db import db, transaction

BOUNDARY = "exchange-test-boundary"


def multipart(name: str, data: bytes, extra: dict | None = None) -> tuple[bytes, str]:
    """A multipart body naming the file in an RFC 5987 ``filename*`` (what werkzeug
    decodes), so any character reaches the server, line breaks included."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in (extra or {}).items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f"filename*=UTF-8''{quote(name, safe='')}\r\nContent-Type: text/plain\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode(), (
        f"multipart/form-data; boundary={BOUNDARY}"
    )


def upload(caller, case_id: int, data: bytes, name: str):
    body, content_type = multipart(name, data)
    return caller.post(
        f"/api/v1/cases/{case_id}/attachments", data=body, headers={"Content-Type": content_type}
    )


HOSTILE_NAMES = {
    "newline": ("report\n.txt", "report_.txt"),
    "crlf-header": ('x.txt"\r\nSet-Cookie: a=b', 'x.txt"__Set-Cookie: a=b'),
    "escape": ("log\x1b[31m.txt", "log_[31m.txt"),
    "tab-and-del": ("a\tb\x7f.txt", "a_b_.txt"),
    "c1-control": ("a\x85b.txt", "a_b.txt"),
    "bidi-override": ("invoice\u202etxt.exe", "invoice_txt.exe"),
    "line-separator": ("a\u2028b.txt", "a_b.txt"),
}


def header_name(disposition: str) -> tuple[str, str]:
    """(the quoted ASCII ``filename``, the decoded ``filename*``) of a Content-Disposition."""
    assert disposition.startswith("attachment; ")
    params = dict(part.strip().split("=", 1) for part in disposition.split(";")[1:] if "=" in part)
    ascii_name = params["filename"]
    assert ascii_name.startswith('"') and ascii_name.endswith('"')
    encoded = params["filename*"]
    assert encoded.startswith("UTF-8''")
    return ascii_name[1:-1], unquote(encoded[len("UTF-8''") :], errors="strict")


def assert_safe_header(disposition: str) -> None:
    assert all(0x20 <= ord(c) < 0x7F for c in disposition), repr(disposition)


@pytest.mark.parametrize(("name", "cleaned"), HOSTILE_NAMES.values(), ids=HOSTILE_NAMES)
def test_control_characters_in_an_uploaded_name_are_replaced(case_world, name, cleaned):
    case_id = case_world.open_case()["id"]

    response = upload(case_world.acme.api, case_id, b"bytes", name)

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["filename"] == cleaned
    url = f"/api/v1/cases/{case_id}/attachments/{response.json['id']}/content"
    with case_world.globex.api.get(url) as download:
        assert download.status_code == 200, download.get_data(as_text=True)
        assert download.data == b"bytes"
        disposition = download.headers["Content-Disposition"]
    assert_safe_header(disposition)
    assert header_name(disposition)[1] == cleaned


def test_a_name_of_only_control_characters_is_refused(case_world):
    case_id = case_world.open_case()["id"]

    response = upload(case_world.acme.api, case_id, b"bytes", "\r\n\t")

    assert response.status_code == 422, response.get_data(as_text=True)
    assert set(response.json["errors"]) == {"file"}


@pytest.fixture()
def stored_bad_name(case_world):
    """An attachment whose name was stored with control characters (before the upload
    cleaned names), and a hostile content type."""
    case_id = case_world.open_case()["id"]
    good = upload(case_world.acme.api, case_id, b"old bytes", "placeholder.txt").json
    assert good["filename"] == "placeholder.txt"
    with transaction():
        attachment = db.session.get(Attachment, good["id"])
        attachment.filename = 'old\r\nname";\x1b\u202e.txt'
        attachment.content_type = "text/html\r\nX-Evil: 1"
    return case_id, good["id"]


def test_an_already_stored_bad_name_downloads_over_the_api(case_world, stored_bad_name):
    case_id, attachment_id = stored_bad_name

    with case_world.acme.api.get(
        f"/api/v1/cases/{case_id}/attachments/{attachment_id}/content"
    ) as download:
        assert download.status_code == 200, download.get_data(as_text=True)
        assert download.data == b"old bytes"
        assert download.mimetype == "application/octet-stream"
        assert "X-Evil" not in download.headers
        disposition = download.headers["Content-Disposition"]
    assert_safe_header(disposition)
    assert header_name(disposition) == ("old__name____.txt", 'old__name";__.txt')


def test_an_already_stored_bad_name_downloads_from_the_case_page(case_world, stored_bad_name):
    case_id, attachment_id = stored_bad_name
    browser = case_world.sign_in(case_world.acme.users["ed"])

    with browser.get(f"/cases/{case_id}/attachments/{attachment_id}") as download:
        assert download.status_code == 200, download.get_data(as_text=True)
        assert download.data == b"old bytes"
        disposition = download.headers["Content-Disposition"]
        assert "no-store" in download.headers["Cache-Control"]
    assert_safe_header(disposition)
    assert header_name(disposition)[1] == 'old__name";__.txt'


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("plain.txt", "plain.txt"),
        ("Prüfbericht 100%.pdf", "Pr_fbericht 100_.pdf"),
        ('quote"and\\slash.txt', "quote_and_slash.txt"),
        ("日本語.log", "___.log"),
        ("emoji \U0001f600.png", "emoji _.png"),
        ("", "attachment"),
    ],
)
def test_content_disposition_has_an_ascii_fallback_and_the_exact_utf8_name(name, fallback):
    disposition = content_disposition(name)

    assert_safe_header(disposition)
    assert header_name(disposition) == (fallback, name or "attachment")


def test_the_web_upload_cleans_the_name_too(case_world):
    case_id = case_world.open_case()["id"]
    browser = case_world.sign_in(case_world.acme.users["ed"])

    body, content_type = multipart(
        "web\nname.txt", b"web bytes", {"csrf_token": browser.csrf_token}
    )
    response = browser.post(
        f"/cases/{case_id}/attachments", data=body, headers={"Content-Type": content_type}
    )

    assert response.status_code == 303, response.get_data(as_text=True)
    listed = case_world.acme.api.get(f"/api/v1/cases/{case_id}/attachments").json
    assert [a["filename"] for a in listed] == ["web_name.txt"]
