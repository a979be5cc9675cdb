"""Notes (plain text, append-only, redactable by the author side's member admin) and
attachments (multipart upload, SHA-256, size limit, safe download)."""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import func, select

from exchange.cases import service
from exchange.cases.models import Attachment, Note
from exchange.db import db, transaction
from exchange.errors import PayloadTooLarge
from tests.cases.conftest import assert_problem, event_count

# -- notes ----------------------------------------------------------------------------


def note_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Note))


def add_note(caller, case_id, text):
    response = caller.post(f"/api/v1/cases/{case_id}/notes", json={"body": text})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def test_notes_record_author_and_side_and_list_oldest_first(case_world):
    case_id = case_world.open_case()["id"]
    first = add_note(case_world.acme.api, case_id, "Array logs attached.")
    gina = case_world.sign_in(case_world.globex.users["gina"])
    second = add_note(gina, case_id, "Thanks, reviewing.")
    assert first["side"] == "submitter"
    assert first["author"] == "Acme Storage tracker (program)"
    assert second["side"] == "receiver"
    assert second["author"] == "gina@globex.example"
    assert second["redacted_at"] is None
    for caller in (case_world.acme.api, case_world.globex.api, gina):
        notes = caller.get(f"/api/v1/cases/{case_id}/notes").json
        assert [n["id"] for n in notes] == [first["id"], second["id"]]
    events = case_world.acme.api.get(f"/api/v1/cases/{case_id}/events").json
    added = [e for e in events if e["type"] == "case.note_added"]
    assert [(e["side"], e["data"]["note"]) for e in added] == [
        ("submitter", first["id"]),
        ("receiver", second["id"]),
    ]
    assert added[1]["origin"] == "web"
    assert case_world.acme.api.get(f"/api/v1/cases/{case_id}").json["version"] == 3


def test_notes_are_allowed_in_every_status(case_world):
    for status in ("rejected", "closed", "withdrawn"):
        case_id = case_world.open_case()["id"]
        case_world.bring_to(case_id, status)
        add_note(case_world.globex.api, case_id, f"A word after {status}.")


def test_a_note_at_the_limit_is_kept_and_one_over_it_is_413(case_world, config_value):
    case_id = case_world.open_case()["id"]
    acme = case_world.acme.api
    limit = case_world.app.config["NOTE_MAX_CHARS"]
    assert limit == 10_000
    add_note(acme, case_id, "é" * limit)  # characters, not bytes
    before = (note_count(), event_count())
    response = acme.post(f"/api/v1/cases/{case_id}/notes", json={"body": "x" * (limit + 1)})
    assert_problem(response, 413, "payload_too_large")
    assert (note_count(), event_count()) == before

    config_value("NOTE_MAX_CHARS", 20)
    assert_problem(
        acme.post(f"/api/v1/cases/{case_id}/notes", json={"body": "y" * 21}),
        413,
        "payload_too_large",
    )
    add_note(acme, case_id, "y" * 20)


def test_an_empty_note_is_422(case_world):
    case_id = case_world.open_case()["id"]
    before = (note_count(), event_count())
    for payload in [{"body": ""}, {"body": "  \n\t "}, {}, {"body": None}, {"body": 5}]:
        response = case_world.acme.api.post(f"/api/v1/cases/{case_id}/notes", json=payload)
        assert "body" in assert_problem(response, 422, "validation_failed")["errors"], payload
    assert (note_count(), event_count()) == before


def test_html_in_a_note_is_returned_verbatim_as_json_data(case_world):
    case_id = case_world.open_case()["id"]
    text = '<script>alert("x")</script><img src=x onerror=alert(1)> & &amp; <b>bold</b>'
    response = case_world.acme.api.post(f"/api/v1/cases/{case_id}/notes", json={"body": text})
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert response.json["body"] == text
    listed = case_world.globex.api.get(f"/api/v1/cases/{case_id}/notes")
    assert listed.mimetype == "application/json"
    assert listed.json[0]["body"] == text


def redact(caller, case_id, note_id):
    return caller.post(f"/api/v1/cases/{case_id}/notes/{note_id}/redact")


def test_the_authors_member_admin_redacts_a_note_leaving_a_tombstone(case_world):
    case_id = case_world.open_case()["id"]
    secret = "Customer contact: Carla, home phone +49 170 0000000"
    note = add_note(case_world.acme.api, case_id, secret)
    keep = add_note(case_world.acme.api, case_id, "Unrelated note.")
    admin = case_world.sign_in(case_world.acme.users["admin"])
    response = redact(admin, case_id, note["id"])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["body"] == "[redacted]"
    assert response.json["redacted_by"] == "admin@acme.example"
    assert response.json["redacted_at"] is not None
    assert response.json["author"] == note["author"]

    for caller in (case_world.acme.api, case_world.globex.api):
        notes = {n["id"]: n for n in caller.get(f"/api/v1/cases/{case_id}/notes").json}
        assert notes[note["id"]]["body"] == "[redacted]"
        assert notes[keep["id"]]["body"] == "Unrelated note."
        events = caller.get(f"/api/v1/cases/{case_id}/events")
        assert secret not in events.get_data(as_text=True)
        last = events.json[-1]
        assert last["type"] == "case.note_redacted"
        assert last["data"] == {"note": note["id"]}
        assert last["side"] == "submitter"
    assert db.session.get(Note, note["id"]).body == "[redacted]"

    # Redacting again changes nothing more.
    count = event_count()
    assert redact(admin, case_id, note["id"]).status_code == 200
    assert event_count() == count


def test_a_program_with_members_admin_may_redact(case_world):
    case_id = case_world.open_case()["id"]
    note = add_note(case_world.acme.api, case_id, "Personal data")
    without = redact(case_world.acme.api, case_id, note["id"])
    assert_problem(without, 403, "insufficient_scope")
    admin_program = case_world.program(
        case_world.acme, ("cases:read", "cases:write", "members:admin"), "Acme admin tool"
    )
    response = redact(admin_program, case_id, note["id"])
    assert response.status_code == 200
    assert response.json["redacted_by"] == "Acme admin tool (program)"


def test_the_other_side_cannot_redact(case_world):
    case_id = case_world.open_case()["id"]
    note = add_note(case_world.acme.api, case_id, "Personal data")
    globex_admin = case_world.sign_in(case_world.globex.users["admin"])
    assert_problem(redact(globex_admin, case_id, note["id"]), 403, "forbidden")
    globex_admin_program = case_world.program(
        case_world.globex, ("cases:read", "cases:write", "members:admin"), "Globex admin tool"
    )
    assert_problem(redact(globex_admin_program, case_id, note["id"]), 403, "forbidden")
    assert db.session.get(Note, note["id"]).body == "Personal data"


def test_engineers_without_admin_cannot_redact(case_world):
    case_id = case_world.open_case()["id"]
    erin = case_world.sign_in(case_world.acme.users["erin"])
    note = add_note(erin, case_id, "My own words")
    response = redact(erin, case_id, note["id"])
    assert response.status_code == 403
    assert response.json["code"] in ("insufficient_scope", "forbidden")
    assert db.session.get(Note, note["id"]).body == "My own words"


def test_redacting_a_note_of_another_case_or_none_is_404(case_world):
    first = case_world.open_case()["id"]
    second = case_world.open_case()["id"]
    note = add_note(case_world.acme.api, first, "On the first case")
    admin = case_world.program(
        case_world.acme, ("cases:read", "cases:write", "members:admin"), "Acme admin tool"
    )
    for note_id in (note["id"] + 1000, 2**63, 2**64 + 5):
        assert_problem(redact(admin, first, note_id), 404, "not_found")
    assert_problem(redact(admin, second, note["id"]), 404, "not_found")


def test_add_note_in_the_service_refuses_oversize_text(case_world, config_value):
    with transaction():
        case = service.open_case(actor=case_world.acme.actor("ed"), **_globex())
    config_value("NOTE_MAX_CHARS", 5)
    with pytest.raises(PayloadTooLarge):
        service.add_note(actor=case_world.acme.actor("ed"), case_id=case.id, body="123456")


def _globex():
    from tests.cases.conftest import globex_case

    return globex_case()


# -- attachments ----------------------------------------------------------------------


def upload(caller, case_id, data: bytes, name="logs.txt", content_type="text/plain"):
    return caller.post(
        f"/api/v1/cases/{case_id}/attachments",
        data={"file": (io.BytesIO(data), name, content_type)},
        content_type="multipart/form-data",
    )


def attachment_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Attachment))


def stored_files(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_an_attachment_records_sha256_and_size_and_downloads_the_same_bytes(
    case_world, attachments_dir
):
    case_id = case_world.open_case()["id"]
    data = bytes(range(256)) * 40 + b"\r\n\x00tail"
    response = upload(case_world.acme.api, case_id, data, "support bundle.bin", "application/x-tar")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.json
    digest = hashlib.sha256(data).hexdigest()
    assert body["sha256"] == digest
    assert body["size"] == len(data)
    assert body["filename"] == "support bundle.bin"
    assert body["content_type"] == "application/x-tar"
    assert body["side"] == "submitter"
    assert body["uploaded_by"] == "Acme Storage tracker (program)"
    # Stored under the configured folder by its hash.
    assert [p.name for p in stored_files(attachments_dir)] == [digest]

    url = f"/api/v1/cases/{case_id}/attachments/{body['id']}/content"
    for caller in (case_world.acme.api, case_world.globex.api):
        with caller.get(url) as download:
            assert download.status_code == 200
            assert download.data == data
            assert download.headers["Content-Disposition"].startswith("attachment")
            assert "support bundle.bin" in download.headers["Content-Disposition"]
            assert download.headers["X-Content-Type-Options"] == "nosniff"
            assert download.mimetype == "application/x-tar"
            assert "no-store" in download.headers["Cache-Control"]
    event = case_world.acme.api.get(f"/api/v1/cases/{case_id}/events").json[-1]
    assert event["type"] == "case.attachment_added"
    assert event["data"] == {
        "attachment": body["id"],
        "filename": "support bundle.bin",
        "size": len(data),
        "sha256": digest,
    }


def test_html_attachments_are_never_rendered_inline(case_world):
    case_id = case_world.open_case()["id"]
    page = b"<html><script>alert(document.cookie)</script></html>"
    body = upload(case_world.globex.api, case_id, page, "report.html", "text/html").json
    with case_world.acme.api.get(
        f"/api/v1/cases/{case_id}/attachments/{body['id']}/content"
    ) as download:
        assert download.headers["Content-Disposition"].startswith("attachment")
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.data == page


def test_identical_files_share_one_blob_and_names_lose_their_paths(case_world, attachments_dir):
    case_id = case_world.open_case()["id"]
    data = b"same bytes"
    one = upload(case_world.acme.api, case_id, data, "../../etc/passwd").json
    two = upload(case_world.globex.api, case_id, data, "/tmp/x/copy.txt").json
    assert one["filename"] == "passwd"
    assert two["filename"] == "copy.txt"
    assert one["sha256"] == two["sha256"]
    assert len(stored_files(attachments_dir)) == 1
    listed = case_world.acme.api.get(f"/api/v1/cases/{case_id}/attachments").json
    assert [(a["id"], a["side"]) for a in listed] == [
        (one["id"], "submitter"),
        (two["id"], "receiver"),
    ]


def test_an_attachment_over_the_limit_is_413_and_leaves_nothing(
    case_world, config_value, attachments_dir
):
    case_id = case_world.open_case()["id"]
    config_value("ATTACHMENT_MAX_BYTES", 100)
    before = (attachment_count(), event_count())
    response = upload(case_world.acme.api, case_id, b"x" * 101)
    assert_problem(response, 413, "payload_too_large")
    assert (attachment_count(), event_count()) == before
    assert stored_files(attachments_dir) == []
    assert case_world.acme.api.get(f"/api/v1/cases/{case_id}").json["version"] == 1
    # Exactly at the limit is fine.
    assert upload(case_world.acme.api, case_id, b"x" * 100).status_code == 201


def test_an_empty_file_is_kept(case_world):
    case_id = case_world.open_case()["id"]
    body = upload(case_world.acme.api, case_id, b"", "empty.log").json
    assert body["size"] == 0
    assert body["sha256"] == hashlib.sha256(b"").hexdigest()


def test_an_upload_without_the_file_field_is_422(case_world):
    case_id = case_world.open_case()["id"]
    url = f"/api/v1/cases/{case_id}/attachments"
    acme = case_world.acme.api
    before = (attachment_count(), event_count())
    wrong_field = acme.post(
        url,
        data={"upload": (io.BytesIO(b"data"), "a.txt")},
        content_type="multipart/form-data",
    )
    assert "file" in assert_problem(wrong_field, 422, "validation_failed")["errors"]
    as_text = acme.post(url, data={"file": "just text"}, content_type="multipart/form-data")
    assert "file" in assert_problem(as_text, 422, "validation_failed")["errors"]
    nothing = acme.post(url)
    assert "file" in assert_problem(nothing, 422, "validation_failed")["errors"]
    nameless = upload(acme, case_id, b"data", "   ")
    assert_problem(nameless, 422, "validation_failed")
    assert (attachment_count(), event_count()) == before


def test_an_upload_as_json_is_415(case_world):
    case_id = case_world.open_case()["id"]
    response = case_world.acme.api.post(
        f"/api/v1/cases/{case_id}/attachments", json={"file": "aGVsbG8="}
    )
    assert_problem(response, 415, "unsupported_media_type")
    assert attachment_count() == 0


def test_a_missing_attachment_is_404(case_world):
    first = case_world.open_case()["id"]
    second = case_world.open_case()["id"]
    body = upload(case_world.acme.api, first, b"abc").json
    acme = case_world.acme.api
    for case_id, attachment_id in ((second, body["id"]), (first, body["id"] + 1), (first, 2**64)):
        response = acme.get(f"/api/v1/cases/{case_id}/attachments/{attachment_id}/content")
        assert_problem(response, 404, "not_found")


def test_attachments_may_be_added_in_a_final_status(case_world):
    case_id = case_world.open_case()["id"]
    case_world.bring_to(case_id, "closed")
    assert upload(case_world.globex.api, case_id, b"late log").status_code == 201


def test_attachments_and_redaction_honour_if_match(case_world):
    case = case_world.open_case()
    url = f"/api/v1/cases/{case['id']}"
    admin = case_world.program(case_world.acme, ["cases:read", "cases:write", "members:admin"])
    stale = f'"{case["id"]}-{case["version"]}"'
    note = admin.post(f"{url}/notes", json={"body": "call me on +1 555"}).json
    upload = admin.post(
        f"{url}/attachments",
        headers={"If-Match": stale},
        data={"file": (io.BytesIO(b"x"), "x.txt")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 412
    redaction = admin.post(f"{url}/notes/{note['id']}/redact", headers={"If-Match": stale})
    assert redaction.status_code == 412
    current = admin.get(url).headers["ETag"]
    assert (
        admin.post(f"{url}/notes/{note['id']}/redact", headers={"If-Match": current}).status_code
        == 200
    )
