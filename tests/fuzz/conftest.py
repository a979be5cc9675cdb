"""The fuzzed exchange: its own real database (migrated, demo data, committed), two
members' programs holding every scope, and pools of real ids to aim the fuzzer at.

Like the browser tests, these do not use the suite's rolled-back savepoint: every
request commits, so later examples meet what earlier ones made (and deleted).
"""

from __future__ import annotations

import io
import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from sqlalchemy import select

from exchange import create_app
from exchange.auth.scopes import SCOPES
from exchange.db import db, transaction
from tests.conftest import basic_auth

FUZZ_MEMBERS = ("acme", "globex")
# Numbers no row will reach in a run, and a slug no member has: the "missing" ids.
MISSING_ID = 987_654_321
MISSING_SLUG = "no-such-slug"


@pytest.fixture()
def db_session():
    """Fuzzing commits for real, in the fuzzed app's own database."""
    yield None


def _is_local(host) -> bool:
    if host in (None, "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).strip("[]")).is_loopback
    except ValueError:
        return False


@pytest.fixture(scope="session")
def local_names_only():
    """A fence, not a stand-in: registering a webhook endpoint resolves its host, and the
    fuzzer invents host names. Any name but loopback fails as unresolvable (what the
    exchange answers for an unknown host), so no lookup or request leaves this machine."""
    original = socket.getaddrinfo

    def guarded(host, *args, **kwargs):
        if not _is_local(host):
            raise socket.gaierror(socket.EAI_NONAME, "fuzzing resolves loopback names only")
        return original(host, *args, **kwargs)

    socket.getaddrinfo = guarded
    yield
    socket.getaddrinfo = original


def _closing(wsgi_app):
    """Read and close every answer, as a WSGI server does. Schemathesis's WSGI client
    reads the body but never closes it, which would leave a downloaded attachment's
    file open (a ResourceWarning, an error in this suite)."""

    def app(environ, start_response):
        result = wsgi_app(environ, start_response)
        try:
            return [b"".join(result)]
        finally:
            if hasattr(result, "close"):
                result.close()

    return app


@dataclass
class Program:
    member: str
    client_id: str
    token: str

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class FuzzWorld:
    app: object
    programs: dict[str, Program]
    # path parameter name -> values naming real rows of both members, and missing ones
    pools: dict[str, list] = field(default_factory=dict)
    # item id name -> real (case id, item id) pairs
    pairs: dict[str, list[tuple[int, int]]] = field(default_factory=dict)


def _program(app, member_slug: str, name: str) -> tuple[str, str]:
    from exchange.auth import service as auth
    from exchange.members import service as members

    with app.app_context(), transaction():
        client, secret = auth.create_client(
            member=members.get_member(slug=member_slug), name=name, scopes=" ".join(SCOPES)
        )
        return client.client_id, secret


def _token(http, client_id: str, secret: str) -> str:
    response = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": " ".join(SCOPES)},
        headers=basic_auth(client_id, secret),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["access_token"]


def _ok(response, status: int = 201) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json


def _cases(http, programs: dict[str, Program]) -> None:
    """A case each way, each with a note and an attachment; one accepted."""
    from tests.cases.conftest import ACME_INTAKE, CUSTOMER, GLOBEX_INTAKE

    acme, globex = programs["acme"].headers, programs["globex"].headers
    bodies = [
        (acme, "globex", GLOBEX_INTAKE, "ed@acme.example"),
        (globex, "acme", ACME_INTAKE, "gustav@globex.example"),
    ]
    opened = []
    for headers, receiver, intake, engineer in bodies:
        case = _ok(
            http.post(
                "/api/v1/cases",
                headers=headers,
                json={
                    "receiver": receiver,
                    "severity": "2",
                    "summary": f"Fuzzing seed case for {receiver}",
                    "description": "Made by the fuzz fixture.",
                    "customer": dict(CUSTOMER),
                    "intake": dict(intake),
                    "engineer": engineer,
                },
            )
        )
        opened.append(case["id"])
        url = f"/api/v1/cases/{case['id']}"
        _ok(http.post(f"{url}/notes", headers=headers, json={"body": "A first note."}))
        _ok(
            http.post(
                f"{url}/attachments",
                headers=headers,
                data={"file": (io.BytesIO(b"log line\n"), "log.txt", "text/plain")},
                content_type="multipart/form-data",
            )
        )
    _hostile_attachment(http, programs["acme"].headers, opened[0])
    # globex accepts acme's case, so actions on it meet another state than "open".
    _ok(
        http.post(
            f"/api/v1/cases/{opened[0]}/accept",
            headers=globex,
            json={
                "receiver_reference": "GX-1",
                "engineer": "gustav@globex.example",
                "next_steps": "Looking.",
            },
        ),
        200,
    )


def _hostile_attachment(http, headers: dict, case_id: int) -> None:
    """An attachment named with a line break, an escape and a bidi override (an RFC 5987
    ``filename*``, so every character arrives), then stored back under its raw name, as
    names were kept before uploads cleaned them: downloading it must still work."""
    from exchange.cases.models import Attachment

    boundary = "fuzz-boundary"
    name = quote("bad\r\nname\x1b\u202e.txt", safe="")
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f"filename*=UTF-8''{name}\r\nContent-Type: text/plain\r\n\r\nbytes\r\n"
        f"--{boundary}--\r\n"
    )
    attachment = _ok(
        http.post(
            f"/api/v1/cases/{case_id}/attachments",
            headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            data=body.encode(),
        )
    )
    with http.application.app_context(), transaction():
        stored = db.session.get(Attachment, attachment["id"])
        stored.filename = 'bad\r\nname";\x1b\u202e.txt'


def _endpoints(http, programs: dict[str, Program]) -> None:
    """An endpoint per member on a loopback port nothing listens on, with a ping queued
    (no worker runs here: deliveries stay rows)."""
    for program in programs.values():
        endpoint = _ok(
            http.post(
                "/api/v1/webhooks/endpoints",
                headers=program.headers,
                json={"url": "http://127.0.0.1:9/hook", "event_types": ["case.opened"]},
            )
        )
        _ok(
            http.post(f"/api/v1/webhooks/endpoints/{endpoint['id']}/ping", headers=program.headers),
            202,
        )


def _community(http, programs: dict[str, Program]) -> None:
    """A community of acme's with globex invited (the demo's belongs to initech)."""
    acme = programs["acme"].headers
    _ok(
        http.post(
            "/api/v1/communities",
            headers=acme,
            json={"slug": "acme-partners", "name": "Acme partners"},
        )
    )
    _ok(
        http.post(
            "/api/v1/communities/acme-partners/invitations",
            headers=acme,
            json={"member": "globex"},
        )
    )


def _second_version(http, programs: dict[str, Program]) -> None:
    """acme's process gets a version 2 (so diffs and version numbers have a choice) and
    globex's an open draft."""
    for slug in FUZZ_MEMBERS:
        headers = programs[slug].headers
        process = _ok(http.get(f"/api/v1/members/{slug}/processes", headers=headers), 200)[0]
        url = f"/api/v1/processes/{process['id']}"
        _ok(http.post(f"{url}/draft", headers=headers))
        if slug == "acme":
            _ok(http.post(f"{url}/publish", headers=headers, json={}))


def _pools(app) -> dict[str, list]:
    from exchange.cases.models import Attachment, Case, Note
    from exchange.members.models import Community, Member, Product, ProductVersion, User
    from exchange.processes.models import Contact, Process, ProcessVersion
    from exchange.webhooks.models import Delivery, WebhookEndpoint

    def ids(model, column=None) -> list:
        return list(db.session.scalars(select(column or model.id).order_by(column or model.id)))

    with app.app_context():
        pools = {
            "slug": ids(Member, Member.slug),
            "member_slug": ids(Member, Member.slug),
            "community_slug": ids(Community, Community.slug),
            "user_id": ids(User),
            "product_id": ids(Product),
            "version_id": ids(ProductVersion),
            "process_id": ids(Process),
            "number": sorted(set(ids(ProcessVersion, ProcessVersion.number)) - {None}),
            "contact_id": ids(Contact),
            "case_id": ids(Case),
            "note_id": ids(Note),
            "attachment_id": ids(Attachment),
            "endpoint_id": ids(WebhookEndpoint),
            "delivery_id": ids(Delivery),
            "client_id": [],
        }
    for name, values in pools.items():
        values.append(MISSING_SLUG if name.endswith("slug") else MISSING_ID)
    return pools


def _pairs(app) -> dict[str, list[tuple[int, int]]]:
    """Real (case id, item id) pairs, for paths naming both: independently drawn ids
    rarely meet, and a note or attachment is only found under its own case."""
    from exchange.cases.models import Attachment, Note

    with app.app_context():
        return {
            name: [tuple(row) for row in db.session.execute(select(model.case_id, model.id))]
            for name, model in (("note_id", Note), ("attachment_id", Attachment))
        }


@pytest.fixture(scope="session")
def fuzz_world(fresh_database_url, tmp_path_factory, local_names_only) -> FuzzWorld:
    import flask_migrate

    from exchange.demo import load_demo

    app = create_app(
        {
            "SECRET_KEY": "fuzz-tests",
            "DATABASE_URL": fresh_database_url("fuzz"),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "ATTACHMENTS_PATH": str(tmp_path_factory.mktemp("fuzz-attachments")),
            "MAIL_OUTBOX_PATH": str(tmp_path_factory.mktemp("fuzz-mail")),
            # The seed endpoints sit on loopback; the fence above keeps every other
            # name from resolving, so no request can leave the machine.
            "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": True,
        }
    )
    app.wsgi_app = _closing(app.wsgi_app)
    with app.app_context():
        flask_migrate.upgrade()
        with transaction():
            load_demo()
    http = app.test_client()
    programs = {}
    spare_clients = []
    for slug in FUZZ_MEMBERS:
        client_id, secret = _program(app, slug, "fuzzer")
        programs[slug] = Program(slug, client_id, _token(http, client_id, secret))
        # A client the fuzzer may read and revoke; its own must keep working.
        spare_clients.append(_program(app, slug, "spare")[0])
    _cases(http, programs)
    _endpoints(http, programs)
    _community(http, programs)
    _second_version(http, programs)
    world = FuzzWorld(app=app, programs=programs, pools=_pools(app), pairs=_pairs(app))
    world.pools["client_id"] = [*spare_clients, "cx_no_such_client"]
    yield world
    with app.app_context():
        db.engine.dispose()
