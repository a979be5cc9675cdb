"""A throwaway PostgreSQL cluster that one test owns, so it may stop and start it
(the suite's cluster is shared by parallel test workers and must stay up).

The same recipe as ``scripts/with-postgres``: ``initdb`` and ``postgres`` refuse to run
as root, so as root every server command runs as the ``postgres`` system user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.live.deployment import free_port, postgres_database


def server_binaries() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: PGBIN, Debian's folder, or pg_config."""
    if os.environ.get("PGBIN"):
        return Path(os.environ["PGBIN"])
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(os.path.join(folder, "initdb"), os.X_OK):
            return Path(folder)
    if shutil.which("pg_config"):
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if found.returncode == 0:
            return Path(found.stdout.strip())
    return None


class Cluster:
    """``start()``, ``stop()``, ``start()`` again on the same port and data, ``destroy()``."""

    def __init__(self, binaries: Path):
        self.bin = binaries
        self.base = Path(tempfile.mkdtemp(prefix="exchange-live-pg-"))
        self.data = self.base / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.base, "postgres", "postgres")
        self.base.chmod(0o700)
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        self.admin_url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        done = subprocess.run(
            [*prefix, str(self.bin / tool), *args], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{tool}: {done.stdout}{done.stderr}"

    def start(self) -> None:
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.base} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        log = str(self.base / "server.log")
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", log, "-w", "-t", "60", "-o", options, "start"
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` ends every session (clients see their connection
        closed), ``immediate`` is a crash without a clean shutdown."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def database(self, name: str) -> str:
        return postgres_database(self.admin_url, name)

    def destroy(self) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        subprocess.run(
            [*prefix, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(self.base, ignore_errors=True)
