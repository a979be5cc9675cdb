"""Test fixtures: one real database per test session (per xdist worker), each test in a
rolled-back savepoint, and factories for members, users and API clients.

The database is SQLite in a temporary folder, or PostgreSQL when
``EXCHANGE_TEST_POSTGRES_URL`` names a server (``make test`` starts a throwaway cluster
and sets it); each worker then gets its own database on that server.
"""

from __future__ import annotations

import base64
import collections
import itertools
import os
import re

import pytest
from flask import g
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from exchange import create_app
from exchange.db import db

PASSWORD = "correct horse battery"


def _postgres_database(admin_url: str, name: str) -> str:
    """A fresh, empty database ``name`` on the test cluster; returns its URL."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def fresh_database_url(tmp_path_factory, worker_id):
    """Makes a new empty database each call (the migration test needs its own)."""
    counter = itertools.count()
    admin_url = os.environ.get("EXCHANGE_TEST_POSTGRES_URL")

    def make(label: str) -> str:
        name = f"exchange_{label}_{worker_id}_{next(counter)}"
        if admin_url:
            return _postgres_database(admin_url, name)
        return "sqlite:///" + str(tmp_path_factory.mktemp("db") / f"{name}.sqlite3")

    return make


@pytest.fixture(scope="session")
def app(tmp_path_factory, fresh_database_url):
    instance = tmp_path_factory.mktemp("instance")
    os.environ["EXCHANGE_INSTANCE_PATH"] = str(instance)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": fresh_database_url("suite"),
            "SERVER_NAME": "exchange.test",
            # Hashing cost is not what these tests check; scrypt would dominate the run time.
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            # The suite signs in and fetches tokens far more often than any limit allows;
            # tests/security/test_rate_limits.py builds its own app with limits on.
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()

    # Tests hold one app context for their whole run, which Flask's test client reuses
    # for every request; in production each request has its own `g`. Start every request
    # with an empty `g`, so nothing (such as flask-login's cached user) leaks between them.
    # First of all before-request functions: the API's authentication runs in one too.
    def _fresh_g():
        for name in list(g):
            g.pop(name)

    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_g)

    yield app
    with app.app_context():
        db.engine.dispose()


class _BoundSession(FlaskSession):
    """Flask-SQLAlchemy's session picks an engine itself; tests bind it to one connection."""

    def get_bind(self, *args, **kwargs):
        return self.bind


@pytest.fixture(autouse=True)
def db_session(app):
    """Every test runs inside a transaction that is rolled back at the end; the code's
    own commits become savepoint releases, so ``transaction()`` works unchanged."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": _BoundSession,
            }
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def _fixed_clock(request):
    """``@pytest.mark.clock(when)`` freezes the clock at ``when`` for the whole process
    during the test: the exchange's clock, library code (itsdangerous, flask-limiter,
    authlib) and every thread, so data a test makes (the demo's published processes,
    rows' ``created_at``) sits at the test's time whatever the real date is.
    ``tick=True`` lets it run on from ``when``."""
    marker = request.node.get_closest_marker("clock")
    if marker is None:
        yield None
        return
    import time_machine

    when = marker.args[0]
    with time_machine.travel(when, tick=marker.kwargs.get("tick", False)) as traveller:
        yield traveller


@pytest.fixture()
def client(app):
    return app.test_client()


_seq = itertools.count(1)


@pytest.fixture()
def make_member():
    from exchange.db import transaction
    from exchange.members import service

    def make(slug: str | None = None, name: str | None = None, **fields):
        n = next(_seq)
        slug = slug or f"member{n}"
        with transaction():
            return service.create_member(
                slug=slug, name=name or f"Member {n}", email_domains=[f"{slug}.example"], **fields
            )

    return make


@pytest.fixture()
def make_user(make_member):
    from exchange.db import transaction
    from exchange.members import service

    def make(
        member=None, roles=("engineer",), email: str | None = None, password=PASSWORD, **fields
    ):
        member = member or make_member()
        n = next(_seq)
        with transaction():
            user = service.create_user(
                member=member,
                email=email or f"user{n}@{member.slug}.example",
                name=fields.pop("name", f"User {n}"),
                roles=list(roles),
                **fields,
            )
            if password:
                user.set_password(password)
        return user

    return make


@pytest.fixture()
def make_client(make_member):
    """Registers an OAuth client; returns (client, secret)."""
    from exchange.auth import service
    from exchange.db import transaction

    def make(member=None, scopes=("directory:read",), name="tracker"):
        member = member or make_member()
        with transaction():
            return service.create_client(member=member, name=name, scopes=" ".join(scopes))

    return make


class ApiCaller:
    """A program calling the API with a bearer token from the real token endpoint."""

    def __init__(self, client, token: str):
        self.http, self.token = client, token

    def _headers(self, headers):
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, url, headers=None, **kw):
        return self.http.get(url, headers=self._headers(headers), **kw)

    def post(self, url, headers=None, **kw):
        return self.http.post(url, headers=self._headers(headers), **kw)

    def patch(self, url, headers=None, **kw):
        return self.http.patch(url, headers=self._headers(headers), **kw)

    def delete(self, url, headers=None, **kw):
        return self.http.delete(url, headers=self._headers(headers), **kw)


def basic_auth(client_id: str, secret: str) -> dict:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


@pytest.fixture()
def fetch_token(client):
    def fetch(oauth_client, secret, scope=None) -> str:
        data = {"grant_type": "client_credentials"}
        if scope:
            data["scope"] = scope
        response = client.post(
            "/oauth/token", data=data, headers=basic_auth(oauth_client.client_id, secret)
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json["access_token"]

    return fetch


@pytest.fixture()
def api(client, make_client, fetch_token):
    """``api(member, scopes)`` -> an ApiCaller acting as that member's program."""

    def make(member=None, scopes=("directory:read",)):
        oauth_client, secret = make_client(member=member, scopes=scopes)
        return ApiCaller(client, fetch_token(oauth_client, secret))

    return make


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture()
def login(client):
    """Signs a user in through the real login form (with its CSRF token)."""

    def do(user, password=PASSWORD):
        page = client.get("/login")
        token = csrf_token_from(page.get_data(as_text=True))
        response = client.post(
            "/login", data={"email": user.email, "password": password, "csrf_token": token}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return do


class SessionCaller:
    """A person signed in through the real login form, calling the API with the session
    cookie and the page's CSRF token (as the exchange's own pages do)."""

    def __init__(self, http, csrf_token: str):
        self.http, self.csrf_token = http, csrf_token

    def _headers(self, method, headers):
        extra = {"X-CSRFToken": self.csrf_token} if method != "GET" else {}
        return {**extra, **(headers or {})}

    def get(self, url, headers=None, **kw):
        return self.http.get(url, headers=self._headers("GET", headers), **kw)

    def post(self, url, headers=None, **kw):
        return self.http.post(url, headers=self._headers("POST", headers), **kw)

    def patch(self, url, headers=None, **kw):
        return self.http.patch(url, headers=self._headers("PATCH", headers), **kw)


def browser_sign_in(app, email: str, password: str) -> SessionCaller:
    """A fresh browser (its own cookie jar) signed in through the login form."""
    http = app.test_client()
    page = http.get("/login")
    response = http.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    home = http.get("/")
    assert home.status_code == 200
    return SessionCaller(http, csrf_token_from(home.get_data(as_text=True)))


_fuzz_examples: list[int] = []
_fuzz_statuses: collections.Counter = collections.Counter()


def pytest_runtest_logreport(report):
    # Each fuzz test records its figures at teardown; under xdist the reports (with their
    # user properties) reach this hook in the controlling process too.
    if report.when == "teardown":
        for key, value in report.user_properties:
            if key == "fuzz_examples":
                _fuzz_examples.append(value)
            elif key == "fuzz_statuses":
                _fuzz_statuses.update(value)


def pytest_terminal_summary(terminalreporter):
    """The fuzzing figures (tests/fuzz): examples run, summed over every xdist worker;
    and under a shifted clock (scripts/with-faketime), what ran on which clock."""
    if os.environ.get("FAKETIME"):
        from exchange import clock

        terminalreporter.write_line(
            f"shifted clock: the exchange and the tests ran with FAKETIME="
            f"{os.environ['FAKETIME']} (the clock read {clock.now():%Y-%m-%d %H:%M} UTC at "
            "the end); Chromium cannot run under libfaketime, so the browser tests drove it "
            "on the real clock against the shifted server"
        )
    if _fuzz_examples:
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(_fuzz_statuses.items()))
        terminalreporter.write_line(
            f"fuzzing: {sum(_fuzz_examples)} examples over {len(_fuzz_examples)} "
            f"operation x member runs; answers {statuses}"
        )
