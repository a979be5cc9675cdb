"""A throwaway exchange for the bench: an instance folder in a temporary directory,
migrated with ``exchange db upgrade``, the demo data from ``exchange demo``, API clients
from ``exchange create-client``, served by ``exchange serve`` (2 sync workers, no
background worker) on a free port, with two webhook endpoints of the receiving member."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.procs import HOST, Processes, free_port, python_module, wait_http

SUBMITTER, RECEIVER = "acme", "globex"
SUBMITTER_ENGINEER = "ed@acme.example"


def case_body(n: int = 0) -> dict:
    """A case from acme to globex under globex's demo process (its intake fields)."""
    return {
        "receiver": RECEIVER,
        "severity": "2",
        "summary": f"Guests lose their storage paths after a host failover (bench {n})",
        "description": "After a host failover the guests on LUN 12 pause and do not "
        "resume; the array logs show the paths coming back within 20 s.",
        "customer": {
            "company": "Initrode Logistics",
            "contact_name": "Pat Operator",
            "contact_email": "pat@initrode.example",
        },
        "intake": {
            "hypervisor_version": "8.0",
            "cluster_hosts": 12,
            "admin_email": "virt-admins@initrode.example",
        },
        "product": {"name": "Globex Hypervisor", "version": "8.0"},
        "engineer": SUBMITTER_ENGINEER,
    }


NOTE_BODY = {"body": "Collected the array-side logs for the failover window; uploading next."}


def clean_env() -> dict:
    """This process's environment without any EXCHANGE_* setting of the caller's."""
    return {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}


@dataclass
class Client:
    client_id: str
    secret: str


@dataclass
class Exchange:
    work_dir: Path
    database_url: str | None  # None: the instance's embedded SQLite file
    procs: Processes
    port: int = 0
    server: subprocess.Popen | None = None
    clients: dict[str, Client] = field(default_factory=dict)
    endpoints: list[dict] = field(default_factory=list)

    @property
    def instance_path(self) -> Path:
        return self.work_dir / "instance"

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.instance_path / 'exchange.sqlite3'}"

    def env(self, **extra: str) -> dict:
        env = clean_env()
        env.update(
            EXCHANGE_INSTANCE_PATH=str(self.instance_path),
            EXCHANGE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS="1",
            EXCHANGE_SERVE_WORKER="0",
            WEB_CONCURRENCY="2",
        )
        if self.database_url:
            env["EXCHANGE_DATABASE_URL"] = self.database_url
        env.update(extra)
        return env

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            python_module("exchange", *args),
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if out.returncode != 0:
            raise RuntimeError(f"exchange {' '.join(args)} failed:\n{out.stderr[-3000:]}")
        return out.stdout

    def prepare(self) -> None:
        self.instance_path.mkdir(parents=True, exist_ok=True)
        self.cli("db", "upgrade")
        self.cli("demo")
        for slug, scopes in (
            (SUBMITTER, "cases:read cases:write"),
            (RECEIVER, "cases:read cases:write webhooks:manage"),
        ):
            made = json.loads(
                self.cli("create-client", "--member", slug, "--name", "bench", "--scopes", scopes)
            )
            self.clients[slug] = Client(made["client_id"], made["client_secret"])

    def serve(self) -> None:
        self.port = free_port()
        self.server = self.procs.start(
            "exchange-serve", python_module("exchange", "serve"), self.env(PORT=str(self.port))
        )
        wait_http(self.base + "/healthz", self.server, timeout=60)

    def stop(self) -> None:
        if self.server is not None:
            self.procs.stop(self.server)
            self.server = None

    def token(self, slug: str) -> str:
        client = self.clients[slug]
        response = requests.post(
            self.base + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client.client_id, client.secret),
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def register_endpoints(self, receiver_port: int) -> None:
        token = self.token(RECEIVER)
        for path in ("/a", "/b"):
            response = requests.post(
                self.base + "/api/v1/webhooks/endpoints",
                json={"url": f"http://{HOST}:{receiver_port}{path}", "event_types": ["*"]},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            if response.status_code != 201:
                raise RuntimeError(f"registering an endpoint: {response.text}")
            self.endpoints.append(response.json())

    def web_workers(self) -> list[int]:
        from bench.procs import children

        return children(self.server.pid) if self.server else []


def open_cases(ex: Exchange, token: str, count: int) -> list[int]:
    """Open ``count`` cases through the API (acme to globex); returns their ids."""
    ids = []
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        for n in range(count):
            response = session.post(ex.base + "/api/v1/cases", json=case_body(n), timeout=60)
            if response.status_code != 201:
                # SQLite under concurrent writers can refuse; the seed retries quietly.
                with contextlib.suppress(Exception):
                    response = session.post(
                        ex.base + "/api/v1/cases", json=case_body(n), timeout=60
                    )
            if response.status_code == 201:
                ids.append(response.json()["id"])
    if not ids:
        raise RuntimeError("could not open a single case through the API")
    return ids
