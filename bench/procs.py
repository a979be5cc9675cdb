"""The processes the bench starts, and only those: free ports on 127.0.0.1, readiness
waits, peak memory, and stopping exactly the PIDs recorded here (also on Ctrl-C)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Processes:
    """Every long-running process the bench started, by PID, newest last."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], env: dict, cwd: Path = REPO) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        # A session of its own: a Ctrl-C in the terminal reaches the bench, which then
        # stops its processes in order, instead of every process at once.
        proc = subprocess.Popen(
            args, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        proc._bench_log = log
        self.started.append((name, proc))
        return proc

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, proc: subprocess.Popen, timeout: float = 15.0) -> None:
        """SIGTERM to this PID (gunicorn's master stops its own workers), SIGKILL if it
        does not end in time. Never anything but the recorded PID."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                proc.wait(5)
        log = getattr(proc, "_bench_log", None)
        if log is not None and not log.closed:
            log.close()
        self.started = [(n, p) for n, p in self.started if p is not proc]

    def stop_all(self) -> None:
        for _name, proc in reversed(list(self.started)):
            self.stop(proc)


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the process ended with {proc.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def status_kib(pid: int, field: str) -> int | None:
    """A ``/proc/<pid>/status`` figure in KiB (VmHWM is the peak resident set)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident set in MB (10^6 bytes, the unit of the issue's goals)."""
    kib = status_kib(pid, "VmHWM")
    return round(kib * 1024 / 1e6, 1) if kib is not None else None


def python_module(*args: str) -> list[str]:
    return [sys.executable, "-m", *args]


# -- how busy the machine was with work that is not the bench's ---------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _machine_ticks() -> tuple[int, int]:
    """(all, busy) CPU ticks of the machine since boot, every core."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields[:8]), sum(fields[:8]) - idle


def _processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, own + reaped children's CPU ticks)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        # After the name: state ppid ... utime(14) stime(15) cutime(16) cstime(17).
        found[int(entry)] = (int(fields[1]), sum(int(v) for v in fields[11:15]))
    return found


class CpuMeter:
    """The share of the machine's CPU time that processes outside the bench used during a
    window (the bench, its descendants and the PostgreSQL cluster count as the bench's):
    a noise figure for each measurement on a shared machine."""

    def __init__(self):
        self.roots: set[int] = {os.getpid()}

    def add_root(self, pid: int) -> None:
        self.roots.add(pid)

    def _ours(self) -> float:
        procs = _processes()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _) in procs.items():
            children.setdefault(ppid, []).append(pid)
        seen, stack, ticks = set(), [r for r in self.roots if r in procs], 0
        while stack:
            pid = stack.pop()
            if pid in seen:
                continue
            seen.add(pid)
            if pid != os.getpid():
                ticks += procs[pid][1]
            stack.extend(children.get(pid, []))
        me = os.times()
        mine = (me.user + me.system + me.children_user + me.children_system) * _TICK
        return ticks + mine

    def start(self) -> tuple:
        return (*_machine_ticks(), self._ours())

    def foreign_share(self, started: tuple) -> float | None:
        """Share (0..1) of all cores' time used by other processes since ``started``."""
        total0, busy0, ours0 = started
        total1, busy1 = _machine_ticks()
        ours1 = self._ours()
        elapsed = total1 - total0
        if elapsed <= 0:
            return None
        return round(max(0.0, (busy1 - busy0) - (ours1 - ours0)) / elapsed, 3)


METER = CpuMeter()


def postmaster_pid(port: int) -> int | None:
    """The PostgreSQL server listening on ``port`` (started by scripts/with-postgres)."""
    for pid in _processes():
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"postgres") and str(port).encode() in cmd:
            return pid
    return None
