"""Load on loopback: wrk (Debian's package) for throughput, with small Lua scripts for
bodies, bearer tokens and random case ids; a plain Python client for latency series."""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from bench.procs import METER

THREADS = 2
CONNECTIONS = 16


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float  # every answer, errors included
    ok_rps: float  # 2xx/3xx answers only
    errors: int  # non-2xx/3xx answers and socket errors
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    other_load: float | None = None  # share of the machine other processes used meanwhile

    def to_dict(self) -> dict:
        return asdict(self)


def wrk_version() -> str:
    if shutil.which("wrk") is None:
        return "missing"
    out = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    text = (out.stdout + out.stderr).strip().splitlines()
    return text[0].split(" [")[0] if text else "unknown"


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string literal for our inputs


def lua_script(
    *,
    method: str = "GET",
    path: str | None = None,
    paths: list[str] | None = None,
    body: str | None = None,
    token: str | None = None,
) -> str:
    """A wrk script: one fixed request, or a random path of ``paths`` per request."""
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    header_table = (
        "{" + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()) + "}"
    )
    body_lua = _lua_string(body) if body is not None else "nil"
    if paths:
        listing = ",\n  ".join(_lua_string(p) for p in paths)
        return f"""local paths = {{
  {listing}
}}
local headers = {header_table}
local body = {body_lua}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
function init(args)
  math.randomseed(os.time() * 1000 + seed)
end
function request()
  return wrk.format({_lua_string(method)}, paths[math.random(#paths)], headers, body)
end
"""
    return f"""local headers = {header_table}
local body = {body_lua}
function request()
  return wrk.format({_lua_string(method)}, {_lua_string(path or "/")}, headers, body)
end
"""


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    percentiles = {}
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.M):
        percentiles[pct] = _ms(value)
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if not done:
        raise ValueError("wrk printed no request count:\n" + output)
    count = int(done.group(1))
    seconds = float(done.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[done.group(3)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(non2xx.group(1)) if non2xx else 0
    # A read error is the server closing after its answer (no keep-alive in gunicorn's
    # sync workers), not a failure; connect, write and timeout errors are.
    socket_errors = (int(sock.group(1)) + int(sock.group(3)) + int(sock.group(4))) if sock else 0
    errors += socket_errors
    rps = count / seconds if seconds else 0.0
    ok = max(count - errors, 0) / seconds if seconds else 0.0
    return WrkResult(
        requests=count,
        seconds=round(seconds, 2),
        rps=round(rps, 1),
        ok_rps=round(ok, 1),
        errors=errors,
        p50_ms=round(percentiles.get("50", 0.0), 2),
        p75_ms=round(percentiles.get("75", 0.0), 2),
        p90_ms=round(percentiles.get("90", 0.0), 2),
        p99_ms=round(percentiles.get("99", 0.0), 2),
    )


def run_wrk(url: str, script: str, seconds: float, work_dir: Path, name: str) -> WrkResult:
    path = work_dir / f"{name}.lua"
    path.write_text(script)
    args = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(path),
        url,
    ]
    window = METER.start()
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60)
    other = METER.foreign_share(window)
    (work_dir / f"{name}.wrk.txt").write_text(out.stdout + out.stderr)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr.strip()}")
    result = parse_wrk(out.stdout)
    result.other_load = other
    return result


def combine(runs: list[WrkResult]) -> dict:
    """Ceiling runs before and after the measured figures: their means, and each run."""
    mean = lambda key: round(sum(getattr(r, key) for r in runs) / len(runs), 2)  # noqa: E731
    loads = [r.other_load for r in runs if r.other_load is not None]
    return {
        "requests": sum(r.requests for r in runs),
        "seconds": round(sum(r.seconds for r in runs), 2),
        "rps": mean("rps"),
        "ok_rps": round(mean("ok_rps"), 1),
        "errors": sum(r.errors for r in runs),
        "p50_ms": mean("p50_ms"),
        "p75_ms": mean("p75_ms"),
        "p90_ms": mean("p90_ms"),
        "p99_ms": mean("p99_ms"),
        "other_load": max(loads) if loads else None,
        "runs_ok_rps": [r.ok_rps for r in runs],
    }


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def latency_series(
    session: requests.Session,
    urls: list[str],
    *,
    headers: dict,
    count: int,
    max_seconds: float,
    expect: int = 200,
) -> dict:
    """One request after another (no concurrency): p50/p95 in ms over up to ``count``
    requests or ``max_seconds``, cycling through ``urls``."""
    times: list[float] = []
    errors = 0
    started = time.monotonic()
    window = METER.start()
    for i in range(count):
        url = urls[i % len(urls)]
        t0 = time.perf_counter()
        response = session.get(url, headers=headers, timeout=60)
        elapsed = (time.perf_counter() - t0) * 1000
        if response.status_code != expect:
            errors += 1
        times.append(elapsed)
        if time.monotonic() - started > max_seconds and len(times) >= 20:
            break
    return {
        "requests": len(times),
        "errors": errors,
        "p50_ms": round(percentile(times, 50), 2),
        "p95_ms": round(percentile(times, 95), 2),
        "mean_ms": round(statistics.fmean(times), 2) if times else None,
        "other_load": METER.foreign_share(window),
    }
