"""Sampling profiles with py-spy (from PyPI, in the bench extra): record a running PID for
a few seconds while the bench loads it, then sum the collapsed stacks into the
functions that take the time (inclusive, exchange code first) and the leaf frames."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]+)(?::(?P<line>\d+))?\)$")


def py_spy() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


def start(pid: int, seconds: float, out: Path) -> subprocess.Popen | None:
    exe = py_spy()
    if exe is None:
        return None
    return subprocess.Popen(
        [
            exe,
            "record",
            "-p",
            str(pid),
            "-d",
            str(max(1, int(seconds))),
            "-r",
            "200",
            "-f",
            "raw",
            "-o",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _short(path: str) -> str:
    """A frame's file without this machine's directories."""
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    for package in ("exchange/", "bench/"):
        if f"/{package}" in path:
            path = package + path.split(f"/{package}", 1)[1]
    return path.lstrip("/")


def _frame(text: str) -> tuple[str, str]:
    match = _FRAME.match(text.strip())
    if not match:
        return text.strip(), ""
    return match.group("func"), _short(match.group("file"))


def summarise(raw: Path, top: int = 12) -> dict:
    """{samples, exchange: [(function, file, share %)], leaves: [...], libraries: [...]}"""
    if not raw.exists():
        return {"samples": 0}
    inclusive: Counter = Counter()
    leaves: Counter = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_frame(f) for f in stack.split(";")]
        for key in set(frames):
            inclusive[key] += n
        leaves[frames[-1]] += n

    def share(counter: Counter, keep) -> list:
        rows = [(f, p, round(100 * n / total, 1)) for (f, p), n in counter.most_common() if keep(p)]
        return rows[:top]

    def in_exchange(path: str) -> bool:
        return path.startswith("exchange/")

    def library(path: str) -> bool:
        return bool(path) and not path.startswith(("exchange/", "gunicorn/", "<", "threading"))

    return {
        "samples": total,
        "exchange": share(inclusive, in_exchange),
        "libraries": share(inclusive, library),
        "leaves": share(leaves, lambda p: True),
    }
