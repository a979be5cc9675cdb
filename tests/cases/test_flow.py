"""The issue's "Done when", tried as a new user would: two demo members' programs work a
case from opening to closing over the API, and a third member sees none of it."""

from __future__ import annotations

import hashlib
import io

from tests.cases.conftest import assert_problem


def test_acme_and_globex_work_a_case_end_to_end_and_initech_sees_nothing(case_world):
    acme, globex, initech = case_world.acme.api, case_world.globex.api, case_world.initech.api
    seen_urls: set[str] = set()  # what the two parties read
    posted: list[tuple[str, dict]] = []  # the actions they took
    expected_types: list[str] = []

    def case_answer(response, status=200):
        """A case body: right status, ETag matching its version, version = last event."""
        assert response.status_code == status, response.get_data(as_text=True)
        body = response.json
        assert response.headers["ETag"] == f'"{body["id"]}-{body["version"]}"'
        assert body["version"] == len(expected_types)
        return body

    def act(caller, action, payload, event_type):
        url = f"/api/v1/cases/{case_id}/{action}"
        posted.append((url, payload))
        expected_types.append(event_type)
        return case_answer(caller.post(url, json=payload))

    # acme opens a case to globex.
    expected_types.append("case.opened")
    opened = case_answer(
        acme.post(
            "/api/v1/cases",
            json={
                "receiver": "globex",
                "severity": "2",
                "summary": "VMs freeze during array controller failover",
                "description": "Guests on the Acme datastore hang for 40 s at failover.",
                "customer": {
                    "company": "Mutual Bank AG",
                    "contact_name": "Mia Ops",
                    "contact_email": "mia@bank.example",
                },
                "product": {"name": "Globex Hypervisor", "version": "8.0"},
                "intake": {
                    "hypervisor_version": "8.0",
                    "cluster_hosts": 12,
                    "admin_email": "vadmin@bank.example",
                    "log_bundle_url": "https://files.bank.example/bundle.tgz",
                },
                "submitter_reference": "ACME-77",
                "engineer": "ed@acme.example",
            },
        ),
        201,
    )
    case_id = opened["id"]
    url = f"/api/v1/cases/{case_id}"
    seen_urls.add(url)
    assert opened["number"] == f"CX-{case_id:06d}"
    assert opened["status"] == "open"
    assert opened["side"] == "submitter"
    assert opened["submitter"]["member"]["slug"] == "acme"
    assert opened["submitter"]["engineer"]["email"] == "ed@acme.example"
    assert opened["receiver"]["member"]["slug"] == "globex"

    # globex sees it inbound and asks for information.
    inbound = globex.get("/api/v1/cases?direction=inbound").json["items"]
    assert [c["id"] for c in inbound] == [case_id]
    assert inbound[0]["side"] == "receiver"
    assert "accept" in inbound[0]["allowed_actions"]
    body = act(
        globex,
        "request-information",
        {"question": "Which multipath policy do the hosts use?"},
        "case.information_requested",
    )
    assert body["status"] == "information_requested"

    # acme answers.
    body = act(
        acme,
        "provide-information",
        {"answer": "Round robin, 1000 IOPS per path."},
        "case.information_provided",
    )
    assert body["status"] == "open"

    # globex accepts with its own reference and engineer.
    body = act(
        globex,
        "accept",
        {
            "receiver_reference": "GLX-5521",
            "engineer": "gustav@globex.example",
            "next_steps": "Reproducing in the lab.",
        },
        "case.accepted",
    )
    assert body["status"] == "accepted"
    assert body["receiver"]["reference"] == "GLX-5521"
    assert body["receiver"]["engineer"]["email"] == "gustav@globex.example"

    # Notes go both ways.
    notes_url = f"{url}/notes"
    seen_urls.add(notes_url)
    for caller, text in ((acme, "Bundle uploaded."), (globex, "Seen, looking at it.")):
        response = caller.post(notes_url, json={"body": text})
        assert response.status_code == 201, response.get_data(as_text=True)
        expected_types.append("case.note_added")
    for caller in (acme, globex):
        notes = caller.get(notes_url).json
        assert [(n["side"], n["body"]) for n in notes] == [
            ("submitter", "Bundle uploaded."),
            ("receiver", "Seen, looking at it."),
        ]

    # An attachment goes each way; each side downloads the other's file intact.
    files_url = f"{url}/attachments"
    seen_urls.add(files_url)
    uploads = {}
    for caller, name, data in (
        (acme, "array-bundle.tgz", b"acme bundle \x00\x01" * 100),
        (globex, "host-logs.txt", b"vmkernel: path down\n" * 50),
    ):
        response = caller.post(
            files_url,
            data={"file": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        assert response.json["sha256"] == hashlib.sha256(data).hexdigest()
        uploads[response.json["id"]] = data
        expected_types.append("case.attachment_added")
    for reader in (acme, globex):
        listed = reader.get(files_url).json
        assert [a["id"] for a in listed] == list(uploads)
        for attachment_id, data in uploads.items():
            content_url = f"{files_url}/{attachment_id}/content"
            seen_urls.add(content_url)
            with reader.get(content_url) as download:
                assert download.status_code == 200
                assert download.data == data

    # acme escalates; both escalation managers show on both sides.
    body = act(acme, "escalate", {"reason": "Bank trading floor affected."}, "case.escalated")
    assert body["escalation_level"] == 1
    for caller in (acme, globex):
        view = case_answer(caller.get(url))
        assert view["submitter"]["escalation_manager"]["email"] == "max@acme.example"
        assert view["receiver"]["escalation_manager"]["email"] == "georg@globex.example"
        assert view["submitter"]["escalation_manager"]["name"] == "Max Manager"
        assert view["receiver"]["escalation_manager"]["name"] == "Georg Manager"

    # globex resolves; acme closes.
    body = act(globex, "resolve", {"resolution": "Driver 8.0.3 fixes it."}, "case.resolved")
    assert body["status"] == "resolved"
    body = act(acme, "close", {"resolution": "Customer confirmed."}, "case.closed")
    assert body["status"] == "closed"
    assert body["allowed_actions"] == ["reopen"]
    assert case_answer(globex.get(url))["allowed_actions"] == []

    # The full history, in order, sequence 1..n without gaps, the same for both sides.
    events_url = f"{url}/events"
    seen_urls.add(events_url)
    for caller in (acme, globex):
        events = caller.get(events_url).json
        assert [e["type"] for e in events] == expected_types
        assert [e["sequence"] for e in events] == list(range(1, len(expected_types) + 1))
    final = case_answer(acme.get(url))
    assert final["version"] == events[-1]["sequence"]
    by_type = {e["type"]: e for e in events}
    assert by_type["case.opened"]["side"] == "submitter"
    assert by_type["case.accepted"]["side"] == "receiver"
    assert by_type["case.accepted"]["origin"].startswith("client:")
    assert by_type["case.information_requested"]["data"]["question"].startswith("Which")

    # initech sees none of it: 404 on everything, nothing in its lists.
    for seen in sorted(seen_urls):
        assert_problem(initech.get(seen), 404, "not_found")
    for action_url, payload in posted:
        assert_problem(initech.post(action_url, json=payload), 404, "not_found")
    assert_problem(initech.post(notes_url, json={"body": "hello?"}), 404, "not_found")
    assert case_answer(acme.get(url))["version"] == len(expected_types)
    assert initech.get("/api/v1/cases").json["items"] == []
    assert initech.get(f"/api/v1/cases?q=CX-{case_id:06d}").json["items"] == []
    counts = initech.get("/api/v1/cases").json["counts"]
    assert sum(counts.values()) == 0
