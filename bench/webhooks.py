"""Webhook delivery: the worker's deliveries/s against a bare ``requests`` sender posting
the same signed payloads, and commit -> receipt latency at a steady event rate."""

from __future__ import annotations

import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import requests
from sqlalchemy import create_engine, func, insert, select, update

from bench.instance import NOTE_BODY, Exchange, case_body
from bench.loadgen import percentile
from bench.procs import HOST, METER, Processes, peak_rss_mb, python_module

BARE_THREADS = 8  # the exchange's WORKER_THREADS default: the same parallelism
_TIMESTAMP = re.compile(r'"timestamp":"([^"]+)"')


class Receiver:
    def __init__(self, procs: Processes, port: int):
        self.port = port
        self.proc = procs.start(
            "receiver", python_module("bench.receiver", "--port", str(port)), env=None
        )
        self.base = f"http://{HOST}:{port}"
        self.session = requests.Session()

    def count(self) -> int:
        return self.session.get(self.base + "/stats", timeout=10).json()["count"]

    def reset(self) -> None:
        self.session.get(self.base + "/reset", timeout=10)

    def dump(self) -> list:
        return self.session.get(self.base + "/dump", timeout=60).json()


def _engine(ex: Exchange):
    return create_engine(ex.sqlalchemy_url)


def _tables():
    from exchange.notifications.models import Message
    from exchange.webhooks.models import Delivery

    return Delivery.__table__, Message.__table__


def pending_deliveries(ex: Exchange) -> int:
    deliveries, _ = _tables()
    engine = _engine(ex)
    try:
        with engine.connect() as conn:
            return conn.scalar(
                select(func.count()).select_from(deliveries).where(deliveries.c.status == "pending")
            )
    finally:
        engine.dispose()


def prepare_backlog(ex: Exchange, target: int) -> dict:
    """Exactly ``target`` pending deliveries: the API phases' own backlog, the newest beyond
    ``target`` given up, or topped up with copies of real payloads (fresh message ids, no
    case, so no per-case ordering holds them). Pending mail is marked sent, so the
    worker's rounds measure deliveries only."""
    deliveries, messages = _tables()
    engine = _engine(ex)
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            mail = conn.execute(
                update(messages)
                .where(messages.c.status == "pending")
                .values(status="sent", sent_at=now, last_error="bench: not sent")
            ).rowcount
            pending_ids = list(
                conn.scalars(
                    select(deliveries.c.id)
                    .where(deliveries.c.status == "pending")
                    .order_by(deliveries.c.id)
                )
            )
            real = len(pending_ids)
            if real > target:
                excess = pending_ids[target:]
                for i in range(0, len(excess), 500):
                    conn.execute(
                        update(deliveries)
                        .where(deliveries.c.id.in_(excess[i : i + 500]))
                        .values(status="failed", last_error="bench: beyond the measured backlog")
                    )
            elif real < target:
                models = conn.execute(
                    select(
                        deliveries.c.endpoint_id,
                        deliveries.c.message_id,
                        deliveries.c.event_type,
                        deliveries.c.payload,
                    )
                    .order_by(deliveries.c.id.desc())
                    .limit(200)
                ).all()
                rows = []
                for i in range(target - real):
                    endpoint_id, old_id, event_type, payload = models[i % len(models)]
                    new_id = "msg_" + secrets.token_urlsafe(18)
                    rows.append(
                        {
                            "endpoint_id": endpoint_id,
                            "message_id": new_id,
                            "event_type": event_type,
                            "case_id": None,
                            "sequence": None,
                            "payload": payload.replace(old_id, new_id, 1),
                            "status": "pending",
                            "attempts": 0,
                            "next_attempt_at": now,
                            "created_at": now,
                        }
                    )
                for i in range(0, len(rows), 2000):
                    conn.execute(insert(deliveries), rows[i : i + 2000])
        return {"from_api_phases": real, "backlog": target, "mail_marked_sent": mail}
    finally:
        engine.dispose()


def start_workers(ex: Exchange, procs: Processes, count: int) -> list:
    return [
        procs.start(f"exchange-worker-{i + 1}", python_module("exchange", "worker"), ex.env())
        for i in range(count)
    ]


def drain_rate(receiver: Receiver, expected: int, workers: list, timeout: float) -> dict:
    """Wait until the receiver has ``expected`` messages; the rate counts from the first
    tenth (connections, imports and caches warm) to the last."""
    warm_at = max(1, expected // 10)
    started = time.monotonic()
    window = None
    t_warm = c_warm = None
    count = 0
    while time.monotonic() - started < timeout:
        count = receiver.count()
        now = time.monotonic()
        if t_warm is None and count >= warm_at:
            t_warm, c_warm = now, count
            window = METER.start()
        if count >= expected:
            break
        if any(w.poll() is not None for w in workers):
            raise RuntimeError("a delivery worker ended early")
        time.sleep(0.02)
    ended = time.monotonic()
    rate = None
    if t_warm is not None and ended > t_warm and count > c_warm:
        rate = (count - c_warm) / (ended - t_warm)
    return {
        "delivered": count,
        "expected": expected,
        "seconds": round(ended - started, 2),
        "per_second": round(rate, 1) if rate else None,
        "complete": count >= expected,
        "other_load": METER.foreign_share(window) if window else None,
    }


def bare_sender(ex: Exchange, receiver: Receiver, count: int) -> dict:
    """Post ``count`` of the exchange's own signed payloads with ``requests`` (one Session
    per thread, BARE_THREADS threads, signing each like the worker): the sender's ceiling."""
    from exchange.webhooks.signing import sign

    deliveries, _ = _tables()
    engine = _engine(ex)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(deliveries.c.endpoint_id, deliveries.c.message_id, deliveries.c.payload)
                .order_by(deliveries.c.id.desc())
                .limit(count)
            ).all()
    finally:
        engine.dispose()
    endpoints = {e["id"]: e for e in ex.endpoints}
    jobs = [(endpoints[r[0]]["url"], endpoints[r[0]]["secret"], r[1], r[2].encode()) for r in rows]
    while len(jobs) < count:
        jobs += jobs[: count - len(jobs)]
    local = threading.local()
    failures = 0

    def send(job):
        nonlocal failures
        url, secret, message_id, body = job
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        timestamp = int(time.time())
        headers = {
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, message_id, timestamp, body),
            "Content-Type": "application/json",
            "User-Agent": "bench-bare-sender",
        }
        response = session.post(url, data=body, headers=headers, timeout=15)
        if not 200 <= response.status_code < 300:
            failures += 1

    receiver.reset()
    warm = jobs[: max(1, count // 10)]
    with ThreadPoolExecutor(BARE_THREADS) as pool:
        list(pool.map(send, warm))  # sessions connected, like the worker's warm tenth
        window = METER.start()
        t0 = time.perf_counter()
        list(pool.map(send, jobs))
        elapsed = time.perf_counter() - t0
        other = METER.foreign_share(window)
    return {
        "sent": len(jobs),
        "failures": failures,
        "seconds": round(elapsed, 2),
        "per_second": round(len(jobs) / elapsed, 1),
        "threads": BARE_THREADS,
        "other_load": other,
    }


def worker_peak_rss(workers: list) -> float | None:
    figures = [peak_rss_mb(w.pid) for w in workers]
    figures = [f for f in figures if f is not None]
    return max(figures) if figures else None


def steady_latency(ex: Exchange, receiver: Receiver, *, rate: float, seconds: float) -> dict:
    """Events at a steady ``rate`` through the API (alternately a new case and a note on
    the case opened just before), each fanned out to both endpoints; latency is receipt
    time minus the event's envelope timestamp (taken in the service just before the
    commit, so it includes the commit itself)."""
    token = ex.token("acme")
    receiver.reset()
    _, messages = _tables()
    local = threading.local()
    outcomes = {"ok": 0, "failed": 0}
    lateness: list[float] = []
    begun: list[float] = []
    last_case = {"id": None}
    lock = threading.Lock()

    def session() -> requests.Session:
        s = getattr(local, "session", None)
        if s is None:
            s = local.session = requests.Session()
            s.headers["Authorization"] = f"Bearer {token}"
        return s

    def produce(i: int, due: float):
        began = time.monotonic()
        with lock:
            lateness.append(max(0.0, began - due) * 1000)
            begun.append(began)
        case_id = last_case["id"]
        if i % 2 == 0 or case_id is None:
            response = session().post(ex.base + "/api/v1/cases", json=case_body(i), timeout=30)
            if response.status_code == 201:
                last_case["id"] = response.json()["id"]
        else:
            response = session().post(
                f"{ex.base}/api/v1/cases/{case_id}/notes", json=NOTE_BODY, timeout=30
            )
        with lock:
            outcomes["ok" if response.status_code == 201 else "failed"] += 1

    total = int(rate * seconds)
    window = METER.start()
    wall_start = time.time()
    start = time.monotonic() + 0.2
    with ThreadPoolExecutor(16) as pool:
        for i in range(total):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(produce, i, due)
    produced_seconds = time.monotonic() - start
    other = METER.foreign_share(window)
    expected = 2 * outcomes["ok"]
    # Wait for the stragglers, but not for deliveries that will not come soon (a failed
    # round leaves its deliveries leased for WORKER_LEASE_SECONDS): 5 s without progress.
    last, progress_at = -1, time.monotonic()
    while time.monotonic() - progress_at < 5:
        count = receiver.count()
        if count >= expected:
            break
        if count != last:
            last, progress_at = count, time.monotonic()
        time.sleep(0.1)
    receipts = receiver.dump()
    latencies = []
    for received_at, prefix in receipts:
        match = _TIMESTAMP.search(prefix)
        if not match:
            continue
        stamped = datetime.fromisoformat(match.group(1)).timestamp()
        if stamped >= wall_start - 0.5:
            latencies.append((received_at - stamped) * 1000)
    engine = _engine(ex)
    try:
        with engine.connect() as conn:
            mail = conn.scalar(
                select(func.count())
                .select_from(messages)
                .where(messages.c.created_at >= datetime.fromtimestamp(wall_start, UTC))
            )
    finally:
        engine.dispose()
    return {
        "events_per_second": rate,
        "achieved_events_per_second": round((len(begun) - 1) / (max(begun) - min(begun)), 1),
        "seconds": round(produced_seconds, 1),
        "events_ok": outcomes["ok"],
        "events_failed": outcomes["failed"],
        "deliveries_expected": expected,
        "deliveries_received": len(latencies),
        "deliveries_missing": max(0, expected - len(latencies)),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1) if latencies else None,
        "producer_late_p99_ms": round(percentile(lateness, 99), 1),
        "mail_queued_meanwhile": mail,
        "other_load": other,
    }
