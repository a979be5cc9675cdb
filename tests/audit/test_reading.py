"""Reading the audit log: only the member's own admins (API scope ``members:admin``, or a
person with the admin role), only their member's entries, newest first, a page at a
time, filtered by action; the page in the admin section shows the same."""

from __future__ import annotations

import re

import pytest

from exchange.audit import service
from exchange.auth.actor import actor_for_user


def _changes(program, count: int, prefix: str) -> None:
    """``count`` profile changes of ``program``'s member: one entry each."""
    for i in range(count):
        response = program.api.patch(
            f"/api/v1/members/{prefix}", json={"description": f"{prefix} change {i}"}
        )
        assert response.status_code == 200, response.get_data(as_text=True)


@pytest.fixture()
def logs(audit, db_session):
    acme, globex = audit.program("acme"), audit.program("globex")
    _changes(acme, 3, "acme")
    _changes(globex, 2, "globex")
    return acme, globex


def _all_pages(api, url: str) -> list[dict]:
    items, pages = [], 0
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.json
        items += body["items"]
        url = body["next"]
        pages += 1
    return items, pages


def test_admins_read_their_own_members_log_page_by_page(audit, logs):
    acme, _ = logs
    first = acme.api.get("/api/v1/audit?limit=2").json
    assert [e["action"] for e in first["items"]] == ["member.updated"] * 2
    newest = first["items"][0]
    assert newest["changes"] == {"description": {"from": "acme change 1", "to": "acme change 2"}}
    assert newest["actor"] == {
        "kind": "program",
        "label": "admin tool (program)",
        "client_id": acme.client_id,
    }
    assert newest["origin"] == f"client:{acme.client_id}"
    assert newest["target"] == {"type": "member", "id": "acme", "label": "Acme Storage"}

    items, pages = _all_pages(acme.api, "/api/v1/audit?limit=2")
    ids = [e["id"] for e in items]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    assert len(ids) >= 3 and pages == -(-len(ids) // 2)  # full pages, then the rest
    acme_member = audit.member("acme")
    everything = service.list_entries(
        actor=actor_for_user(next(u for u in acme_member.users if u.has_role("admin"))),
        limit=200,
    ).items
    assert ids == [e.id for e in everything]

    one = acme.api.get(f"/api/v1/audit/{newest['id']}")
    assert one.status_code == 200 and one.json == newest


def test_filter_by_action(audit, logs):
    acme, _ = logs
    body = acme.api.get("/api/v1/audit?action=member.updated").json
    assert len(body["items"]) == 3
    group = acme.api.get("/api/v1/audit?action=member.*").json
    assert group["items"] == body["items"]
    assert acme.api.get("/api/v1/audit?action=client.revoked").json["items"] == []
    bad = acme.api.get("/api/v1/audit?action=not%20an%20action")
    assert bad.status_code == 422 and bad.json["code"] == "validation_failed"
    assert "action" in bad.json["errors"]


def test_another_members_admins_see_none_of_it(audit, logs):
    acme, globex = logs
    acme_ids = {e["id"] for e in _all_pages(acme.api, "/api/v1/audit")[0]}
    globex_items, _ = _all_pages(globex.api, "/api/v1/audit")
    assert globex_items and not acme_ids & {e["id"] for e in globex_items}
    assert all("acme" not in str(e["changes"]) for e in globex_items)
    for entry_id in list(acme_ids)[:3]:
        refused = globex.api.get(f"/api/v1/audit/{entry_id}")
        assert refused.status_code == 404 and refused.json["code"] == "not_found"
    assert globex.api.get("/api/v1/audit/99999999999").status_code == 404


def test_programs_without_the_admin_scope_and_non_admin_people_are_refused(audit, logs):
    acme, _ = logs
    entry_id = acme.api.get("/api/v1/audit").json["items"][0]["id"]
    tracker = audit.program("acme", scopes=("cases:read", "cases:write", "webhooks:manage"))
    for url in ("/api/v1/audit", f"/api/v1/audit/{entry_id}"):
        refused = tracker.api.get(url)
        assert refused.status_code == 403 and refused.json["code"] == "insufficient_scope"
    ed = audit.person("ed@acme.example")
    refused = ed.get("/api/v1/audit")
    assert refused.status_code == 403 and refused.json["code"] == "insufficient_scope"
    page = ed.http.get("/admin/audit", headers={"Accept": "text/html"})
    assert page.status_code == 403
    assert audit.app.test_client().get("/api/v1/audit").status_code == 401


def test_the_admin_page_pages_and_filters(audit, logs):
    assert logs  # both members changed their profiles
    alice = audit.person("admin@acme.example")
    page = alice.http.get("/admin/audit?limit=2")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('<tr id="audit-') == 2
    assert "acme change 2" in html and "admin tool (program)" in html
    older = re.search(r'href="(/admin/audit\?[^"]*cursor=[^"]+)"', html)
    assert older, "no link to older entries"
    second = alice.http.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    shown_first = set(re.findall(r'<tr id="audit-(\d+)"', html))
    shown_second = set(re.findall(r'<tr id="audit-(\d+)"', second))
    assert len(shown_second) == 2 and not shown_first & shown_second

    filtered = alice.http.get("/admin/audit?action=member.updated").get_data(as_text=True)
    assert filtered.count('<tr id="audit-') == 3
    assert "globex change" not in alice.http.get("/admin/audit").get_data(as_text=True)
    greta = audit.person("admin@globex.example")
    theirs = greta.http.get("/admin/audit").get_data(as_text=True)
    assert "globex change 1" in theirs and "acme change" not in theirs
    assert 'href="/admin/audit"' in alice.http.get("/admin").get_data(as_text=True)
