"""A real deployment on loopback: an instance folder with its ``config.py``, a real
database migrated with ``exchange db upgrade``, the demo members loaded with
``exchange demo``, API clients made with ``exchange create-client``, and the web server
(``exchange serve``, gunicorn) and ``exchange worker`` as real processes.

Every process is started in its own session and stopped by its PID (SIGTERM, then
SIGKILL after a grace period); its output goes to a log file in the deployment's
folder, shown when a test fails. Conditions are waited for by polling with a generous
bound (``wait_for``), never by asserting on elapsed time.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.webhooks.conftest import ACTION_BODIES, globex_case

SCOPES = "cases:read cases:write webhooks:manage"
HTTP_TIMEOUT = 30  # a request that takes longer counts as hanging
# What every live deployment sets: cheap password hashing (not what these tests check),
# loopback receivers, and a delivery timeout and retry schedule of seconds, not hours.
BASE_SETTINGS = {
    "SECRET_KEY": "live-test-secret-key",
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": True,
    "WEBHOOK_TIMEOUT_SECONDS": 2,
    "WEBHOOK_RETRY_SCHEDULE": [0.2] * 5 + [0.5] * 60,
    "WORKER_LEASE_SECONDS": 20,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition: Callable[[], object], what: str, timeout: float = 90.0, every=0.05):
    """Poll ``condition`` until it returns something truthy (returned); fail after
    ``timeout`` seconds, a bound far above what the condition normally needs."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


class Process:
    """A child process in its own session, output to ``log_path``, stopped by its PID."""

    def __init__(self, name: str, args: list[str], env: dict, log_path: Path, **popen):
        self.name, self.log_path = name, log_path
        self._log = log_path.open("ab")
        self.popen = subprocess.Popen(
            args, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
            **popen,
        )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self, signum: int = signal.SIGKILL) -> None:
        """Send ``signum`` to this process (by PID) and, for SIGKILL, reap it."""
        if self.alive():
            os.kill(self.pid, signum)
        if signum == signal.SIGKILL:
            self.popen.wait(30)

    def stop(self, grace: float = 20) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
                self.popen.wait(30)
        self._log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Program:
    """A member's API client (its tracker) calling the deployment over real HTTP."""

    member: str
    client_id: str
    secret: str
    base_url: str
    http: requests.Session = field(default_factory=requests.Session)
    token: str = ""

    def sign_in(self) -> None:
        response = requests.post(
            f"{self.base_url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(self.client_id, self.secret),
            timeout=HTTP_TIMEOUT,
        )
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"

    def clone(self) -> Program:
        """The same program with a connection pool of its own (one per thread)."""
        twin = Program(self.member, self.client_id, self.secret, self.base_url, token=self.token)
        twin.http.headers["Authorization"] = f"Bearer {self.token}"
        return twin

    def call(self, method: str, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", HTTP_TIMEOUT)
        return self.http.request(method, f"{self.base_url}/api/v1{path}", **kw)

    def ok(self, method: str, path: str, expect: int = 200, **kw) -> dict | list:
        response = self.call(method, path, **kw)
        assert response.status_code == expect, (method, path, response.status_code, response.text)
        return response.json() if response.content else {}

    # -- what a tracker does ------------------------------------------------------------

    def open_case(self, **overrides) -> dict:
        return self.ok("POST", "/cases", 201, json=globex_case(**overrides))

    def note(self, case_id: int, body: str) -> dict:
        return self.ok("POST", f"/cases/{case_id}/notes", 201, json={"body": body})

    def act(self, case_id: int, action: str, **body) -> dict:
        return self.ok("POST", f"/cases/{case_id}/{action}", json={**ACTION_BODIES[action], **body})

    def events(self, case_id: int) -> list[dict]:
        return self.ok("GET", f"/cases/{case_id}/events")

    def endpoint(self, url: str, **fields) -> dict:
        """Subscribe ``url`` to every case event of this member's cases, the member's own
        changes included (so each endpoint must receive every event); with ``secret``."""
        body = {"url": url, "event_types": ["case.*"], "exclude_own_changes": False, **fields}
        return self.ok("POST", "/webhooks/endpoints", 201, json=body)

    def deliveries(self, endpoint_id: int) -> list[dict]:
        """The endpoint's whole delivery log (every page)."""
        items, path = [], f"/webhooks/endpoints/{endpoint_id}/deliveries?limit=200"
        while path:
            page = self.ok("GET", path)
            items.extend(page["items"])
            following = page.get("next")
            path = following.split("/api/v1", 1)[1] if following else None
        return items


class Deployment:
    """One exchange deployment: instance folder, database, processes, programs."""

    def __init__(self, root: Path, database_url: str | None, settings: dict):
        self.root = root
        self.instance = root / "instance"
        self.instance.mkdir(parents=True)
        self.settings = {**BASE_SETTINGS, **settings}
        if database_url:
            self.settings["DATABASE_URL"] = database_url
        lines = ['"""Written by the live-process tests for this deployment."""']
        lines += [f"{name} = {value!r}" for name, value in self.settings.items()]
        (self.instance / "config.py").write_text("\n".join(lines) + "\n")
        # The environment of an operator's shell: no settings but the instance folder.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
        self.env["EXCHANGE_INSTANCE_PATH"] = str(self.instance)
        self.env["PYTHONUNBUFFERED"] = "1"
        self.processes: list[Process] = []
        self.programs: dict[str, Program] = {}
        self.base_url = ""

    # -- command line -------------------------------------------------------------------

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "exchange", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, f"exchange {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def install(self) -> None:
        """Migrate, load the demo members, and register a tracker program for two."""
        self.cli("db", "upgrade")
        self.cli("demo")
        for member in ("acme", "globex"):
            made = json.loads(
                self.cli(
                    "create-client", "--member", member, "--name", "tracker", "--scopes", SCOPES
                )
            )
            self.programs[member] = Program(member, made["client_id"], made["client_secret"], "")

    def copy_of(self, template: Deployment) -> None:
        """Start from ``template``'s installed database (a copy of its SQLite file; on
        PostgreSQL this deployment's database was created from it) and programs."""
        if "DATABASE_URL" not in self.settings:
            for name in ("exchange.sqlite3", "exchange.sqlite3-wal"):
                if (template.instance / name).exists():
                    shutil.copyfile(template.instance / name, self.instance / name)
        for member, program in template.programs.items():
            self.programs[member] = Program(member, program.client_id, program.secret, "")

    # -- processes ----------------------------------------------------------------------

    def _start(self, name: str, args: list[str], env: dict | None = None, **popen) -> Process:
        log_path = self.root / f"{name}-{len(self.processes)}.log"
        process = Process(name, args, {**self.env, **(env or {})}, log_path, **popen)
        self.processes.append(process)
        return process

    def serve(self, web_workers: int = 2, prefix: list[str] | None = None, **popen) -> Process:
        """``exchange serve`` (gunicorn) on a free port, without its own background worker;
        returns once ``/readyz`` answers. ``prefix`` runs it through another command."""
        port = free_port()
        env = {"PORT": str(port), "WEB_CONCURRENCY": str(web_workers), "EXCHANGE_SERVE_WORKER": "0"}
        args = [*(prefix or []), sys.executable, "-m", "exchange", "serve"]
        server = self._start("serve", args, env, **popen)
        self.base_url = f"http://127.0.0.1:{port}"
        wait_for(lambda: self._ready(server), "the web server to answer /readyz")
        for program in self.programs.values():
            program.base_url = self.base_url
            program.sign_in()
        return server

    def _ready(self, server: Process) -> bool:
        assert server.alive(), f"the web server exited:\n{server.output()[-3000:]}"
        with contextlib.suppress(requests.RequestException):
            return requests.get(f"{self.base_url}/readyz", timeout=5).status_code == 200
        return False

    def worker(self) -> Process:
        return self._start("worker", [sys.executable, "-m", "exchange", "worker"])

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def logs(self, tail: int = 4000) -> str:
        return "\n".join(
            f"----- {p.name} (pid {p.pid}, {p.log_path.name}) -----\n{p.output()[-tail:]}"
            for p in self.processes
        )


def postgres_database(admin_url: str, name: str, template: str | None = None) -> str:
    """A new database ``name`` on the cluster of ``admin_url``, empty or a copy of the
    database ``template``; returns its URL."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        copy = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()
