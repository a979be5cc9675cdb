"""Only the two parties see a case: a matrix over every case route for an outsider's
program and an outsider's signed-in person (404 everywhere, nothing changed), and for
the parties' own programs without the cases scopes (403 insufficient_scope)."""

from __future__ import annotations

import io

import pytest

from tests.cases.conftest import ACTION_BODIES, ACTIONS, assert_problem

READ = "cases:read"
WRITE = "cases:write"


def routes(case_id: int, note_id: int, attachment_id: int) -> list[tuple]:
    """(method, url, request keyword arguments, scope the route needs) for every route."""
    base = f"/api/v1/cases/{case_id}"
    table = [
        ("GET", base, {}, READ),
        ("PATCH", base, {"json": {"reference": "MINE-1"}}, WRITE),
        ("GET", f"{base}/notes", {}, READ),
        ("POST", f"{base}/notes", {"json": {"body": "peek"}}, WRITE),
        ("POST", f"{base}/notes/{note_id}/redact", {}, WRITE),
        ("GET", f"{base}/attachments", {}, READ),
        (
            "POST",
            f"{base}/attachments",
            {
                "data": {"file": (io.BytesIO(b"x"), "x.txt")},
                "content_type": "multipart/form-data",
            },
            WRITE,
        ),
        ("GET", f"{base}/attachments/{attachment_id}/content", {}, READ),
        ("GET", f"{base}/events", {}, READ),
        ("GET", f"{base}/events?after=1", {}, READ),
    ]
    for action in ACTIONS:
        table.append(("POST", f"{base}/{action}", {"json": ACTION_BODIES[action]}, WRITE))
    return table


def call(caller, method, url, kwargs):
    kwargs = dict(kwargs)
    if "data" in kwargs:  # a stream can be read once: give each call its own
        kwargs["data"] = {"file": (io.BytesIO(b"x"), "x.txt")}
    response = getattr(caller, method.lower())(url, **kwargs)
    response.close()
    return response


@pytest.fixture()
def shared_case(case_world):
    """A case between acme and globex with a note and an attachment."""
    case = case_world.open_case()
    acme = case_world.acme.api
    note = acme.post(f"/api/v1/cases/{case['id']}/notes", json={"body": "Personal data"}).json
    attachment = acme.post(
        f"/api/v1/cases/{case['id']}/attachments",
        data={"file": (io.BytesIO(b"secret bytes"), "secret.txt")},
        content_type="multipart/form-data",
    ).json
    return case["id"], note["id"], attachment["id"]


def snapshot(world, case_id):
    """What a party sees of the case (without clock readings, which move by themselves)."""
    acme = world.acme.api
    case = acme.get(f"/api/v1/cases/{case_id}").json
    case.pop("deadlines", None)
    return (
        case,
        acme.get(f"/api/v1/cases/{case_id}/notes").json,
        acme.get(f"/api/v1/cases/{case_id}/attachments").json,
        acme.get(f"/api/v1/cases/{case_id}/events").json,
    )


def test_every_route_answers_404_to_an_outsiders_program(case_world, shared_case):
    case_id, note_id, attachment_id = shared_case
    before = snapshot(case_world, case_id)
    admin_program = case_world.program(
        case_world.initech, ("cases:read", "cases:write", "members:admin"), "Initech admin tool"
    )
    for outsider in (case_world.initech.api, admin_program):
        for method, url, kwargs, _ in routes(case_id, note_id, attachment_id):
            response = call(outsider, method, url, kwargs)
            assert response.status_code == 404, (method, url, response.get_data(as_text=True))
            assert response.json["code"] == "not_found"
    assert snapshot(case_world, case_id) == before


def test_every_route_answers_404_to_an_outsiders_signed_in_people(case_world, shared_case):
    case_id, note_id, attachment_id = shared_case
    before = snapshot(case_world, case_id)
    for name in ("indira", "admin", "isha"):
        person = case_world.sign_in(case_world.initech.users[name])
        for method, url, kwargs, _ in routes(case_id, note_id, attachment_id):
            response = call(person, method, url, kwargs)
            assert response.status_code == 404, (name, method, url, response.json)
            assert response.json["code"] == "not_found"
    assert snapshot(case_world, case_id) == before


def test_an_outsider_cannot_tell_a_hidden_case_from_a_missing_one(case_world, shared_case):
    case_id, note_id, attachment_id = shared_case
    missing = case_id + 10_000
    outsider = case_world.initech.api
    for (method, url, kwargs, _), (_, other_url, _, _) in zip(
        routes(case_id, note_id, attachment_id),
        routes(missing, note_id, attachment_id),
        strict=True,
    ):
        hidden = call(outsider, method, url, kwargs)
        absent = call(case_world.acme.api, method, other_url, kwargs)
        assert hidden.status_code == absent.status_code == 404, (method, url)
        assert hidden.json["detail"].replace(str(case_id), "N") == absent.json["detail"].replace(
            str(missing), "N"
        )


def test_the_parties_see_every_read_route(case_world, shared_case):
    case_id, note_id, attachment_id = shared_case
    for party in (case_world.acme, case_world.globex):
        for method, url, kwargs, _ in routes(case_id, note_id, attachment_id):
            if method == "GET":
                assert call(party.api, method, url, kwargs).status_code == 200, (party.slug, url)


@pytest.mark.parametrize(
    "scopes", [("directory:read",), ("webhooks:manage", "members:admin", "processes:write")]
)
def test_a_program_without_the_cases_scopes_is_403_everywhere(case_world, shared_case, scopes):
    case_id, note_id, attachment_id = shared_case
    before = snapshot(case_world, case_id)
    for party in (case_world.acme, case_world.globex, case_world.initech):
        program = case_world.program(party, scopes, f"{party.slug} directory reader")
        for method, url, kwargs, scope in routes(case_id, note_id, attachment_id):
            response = call(program, method, url, kwargs)
            assert_problem(response, 403, "insufficient_scope")
            assert scope in response.headers["WWW-Authenticate"]
        assert_problem(program.get("/api/v1/cases"), 403, "insufficient_scope")
        # The scope is checked before the body: a caller without it learns nothing more.
        assert_problem(program.post("/api/v1/cases", json={}), 403, "insufficient_scope")
    assert snapshot(case_world, case_id) == before


def test_a_read_only_program_reads_but_cannot_write(case_world, shared_case):
    from tests.cases.conftest import globex_case

    case_id, note_id, attachment_id = shared_case
    reader = case_world.program(case_world.acme, ("cases:read",), "Acme dashboard")
    before = snapshot(case_world, case_id)
    for method, url, kwargs, scope in routes(case_id, note_id, attachment_id):
        response = call(reader, method, url, kwargs)
        if scope == READ:
            assert response.status_code == 200, url
        else:
            assert_problem(response, 403, "insufficient_scope")
    assert_problem(reader.post("/api/v1/cases", json=globex_case()), 403, "insufficient_scope")
    assert reader.get("/api/v1/cases").status_code == 200
    assert snapshot(case_world, case_id) == before


def test_a_program_with_only_cases_write_cannot_read(case_world, shared_case):
    case_id, note_id, attachment_id = shared_case
    writer = case_world.program(case_world.acme, ("cases:write",), "Acme intake form")
    for method, url, kwargs, scope in routes(case_id, note_id, attachment_id):
        if scope == READ:
            assert_problem(call(writer, method, url, kwargs), 403, "insufficient_scope")


def test_without_credentials_every_route_is_401(client, case_world, shared_case):
    case_id, note_id, attachment_id = shared_case
    for method, url, kwargs, _ in routes(case_id, note_id, attachment_id):
        response = call(client, method, url, kwargs)
        assert_problem(response, 401, "unauthorized")


def test_lists_never_show_an_outsider_the_case(case_world, shared_case):
    case_id, _, _ = shared_case
    for person in (case_world.initech.api, case_world.sign_in(case_world.initech.users["indira"])):
        page = person.get("/api/v1/cases").json
        assert page["items"] == []
        assert sum(page["counts"].values()) == 0
        for query in (f"q=CX-{case_id:06d}", "partner=acme", "partner=globex"):
            assert person.get(f"/api/v1/cases?{query}").json["items"] == []
