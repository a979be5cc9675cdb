"""The exchange inside the bench's own process, on the bench instance's database: for
counting the SQL statements each operation issues and for timing the deadline scan."""

from __future__ import annotations

import contextlib
import gc
import os
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator

from sqlalchemy import event

from bench.instance import NOTE_BODY, Exchange, case_body


@contextlib.contextmanager
def exchange_app(ex: Exchange, **config) -> Iterator:
    """``create_app`` for the bench instance, with an app context pushed."""
    saved = os.environ.get("EXCHANGE_INSTANCE_PATH")
    os.environ["EXCHANGE_INSTANCE_PATH"] = str(ex.instance_path)
    try:
        from exchange import create_app

        settings = {"WEBHOOKS_ALLOW_PRIVATE_NETWORKS": True, "LOG_LEVEL": "ERROR", **config}
        if ex.database_url:
            settings["DATABASE_URL"] = ex.database_url
        app = create_app(config=settings)
        with app.app_context():
            yield app
            from exchange.db import db

            db.session.remove()
            db.engine.dispose()
    finally:
        if saved is None:
            os.environ.pop("EXCHANGE_INSTANCE_PATH", None)
        else:
            os.environ["EXCHANGE_INSTANCE_PATH"] = saved


class Statements:
    """Every statement the engine sends while active."""

    def __init__(self, engine):
        self.engine = engine
        self.sql: list[str] = []
        self.origins: list[str] = []

    def _on(self, _conn, _cursor, statement, _params, _context, _many):
        self.sql.append(statement)
        self.origins.append(_origin())

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._on)

    def summary(self) -> dict:
        kinds = Counter(s.lstrip().split(None, 1)[0].upper() for s in self.sql)
        normalised = Counter(re.sub(r"\s+", " ", s).strip() for s in self.sql)
        repeated = {s: n for s, n in normalised.items() if n > 1 and s.upper().startswith("SELECT")}
        worst = max(repeated.items(), key=lambda kv: kv[1], default=(None, 0))
        where = Counter(
            origin
            for sql, origin in zip(self.sql, self.origins, strict=True)
            if worst[0] and re.sub(r"\s+", " ", sql).strip() == worst[0]
        )
        return {
            "statements": len(self.sql),
            "selects": kinds.get("SELECT", 0),
            "writes": sum(kinds.get(k, 0) for k in ("INSERT", "UPDATE", "DELETE")),
            "repeated_selects": sum(n for n in repeated.values()),
            "most_repeated": (worst[0][:160] + " ...") if worst[0] else None,
            "most_repeated_times": worst[1],
            "most_repeated_from": ", ".join(f"{o} ({n}x)" for o, n in where.most_common(3)),
        }


def _origin() -> str:
    """The innermost exchange function (outside the database plumbing) on the stack."""
    frame = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename.replace("\\", "/")
        if "/exchange/" in path and not path.endswith(("/exchange/db.py", "/pagination.py")):
            module = "exchange/" + path.rsplit("/exchange/", 1)[1]
            return f"{module}:{frame.f_code.co_name}:{frame.f_lineno}"
        frame = frame.f_back
    return "?"


def count_statements(
    ex: Exchange, *, acme_token: str, globex_token: str, case_id: int, batch: int
) -> dict:
    """SQL statements per API request and per worker step (the second of two calls)."""
    from exchange.db import db

    results = {}
    with exchange_app(ex, WORKER_BATCH=batch) as app:
        client = app.test_client()
        acme = {"Authorization": f"Bearer {acme_token}"}
        globex = {"Authorization": f"Bearer {globex_token}"}
        requests_ = {
            "open case": ("post", "/api/v1/cases", acme, case_body(0), 201),
            "read case": ("get", f"/api/v1/cases/{case_id}", acme, None, 200),
            "inbox page (50)": (
                "get",
                "/api/v1/cases?direction=inbound&limit=50",
                globex,
                None,
                200,
            ),
            "add note": ("post", f"/api/v1/cases/{case_id}/notes", acme, NOTE_BODY, 201),
        }
        for name, (method, path, headers, body, expect) in requests_.items():
            for _ in range(2):
                with Statements(db.engine) as seen:
                    response = getattr(client, method)(
                        path, headers=headers, json=body, base_url="http://127.0.0.1"
                    )
                if response.status_code != expect:
                    raise RuntimeError(f"{name}: {response.status_code} {response.text[:300]}")
            results[name] = seen.summary()

        from exchange import clock, worker
        from exchange.cases.service.clock import scan_deadlines
        from exchange.webhooks.dispatch import deliver_due

        with Statements(db.engine) as seen:
            sent = deliver_due()
        summary = seen.summary()
        summary["deliveries"] = sent
        summary["per_delivery"] = round(len(seen.sql) / sent, 1) if sent else None
        results[f"deliver_due ({sent} deliveries)"] = summary
        with Statements(db.engine) as seen:
            scan_deadlines(now=clock.now())
        results["deadline scan, nothing due"] = seen.summary()
        worker.run_once(app)  # drain, so the next round is an idle one
        with Statements(db.engine) as seen:
            worker.run_once(app)
        results["idle worker round"] = seen.summary()
    return results


def timed_scan(ex: Exchange, make_due, profile: bool = False, runs: int = 3) -> dict:
    """``scan_deadlines`` in an app context after ``make_due()`` made cases due, ``runs``
    times: the median wall time (each run listed), how many alarms fired and the
    statements of the first (after a warm-up scan). With ``profile``, one more batch of
    due cases is scanned under pyinstrument."""
    from exchange import clock
    from exchange.cases.service.clock import scan_deadlines
    from exchange.db import db

    def scan() -> int:
        # Each worker round runs in an app context of its own, which ends the session
        # (and the read transaction a scan may leave open): the same here, or the next
        # scan would read the snapshot of the one before.
        try:
            return scan_deadlines(now=clock.now())
        finally:
            db.session.remove()

    with exchange_app(ex):
        warm_fired = scan()  # imports, connection, caches; stragglers
        # As `exchange worker` does once started: what is loaded stays out of the
        # collector's sight (a full collection walked it for 60 ms in one scan).
        gc.collect()
        gc.freeze()
        try:
            t0 = time.perf_counter()
            scan()
            idle_ms = (time.perf_counter() - t0) * 1000
            timings, fired, statements = [], [], None
            for _ in range(runs):
                make_due()
                with Statements(db.engine) as seen:
                    t0 = time.perf_counter()
                    fired.append(scan())
                    timings.append((time.perf_counter() - t0) * 1000)
                statements = len(seen.sql) if statements is None else statements
            found = {
                "ms": round(statistics.median(timings), 1),
                "runs_ms": [round(t, 1) for t in timings],
                "fired": min(fired),
                "statements": statements,
                "idle_ms": round(idle_ms, 1),
                "warm_up_fired": warm_fired,
            }
            if profile:
                from pyinstrument import Profiler

                make_due()
                profiler = Profiler(interval=0.0005)
                profiler.start()
                scan()
                profiler.stop()
                found["profile"] = summarise_pyinstrument(profiler.last_session)
        finally:
            gc.unfreeze()
    return found


def summarise_pyinstrument(session, top: int = 12) -> dict:
    """Inclusive share of time per exchange function (each counted once per stack)."""
    from bench.profile import _short

    root = session.root_frame()
    total = root.time if root else 0
    shares: Counter = Counter()

    def walk(frame, on_path: frozenset):
        key = (frame.function, _short(frame.file_path_short or frame.file_path or ""))
        if key not in on_path:
            shares[key] += frame.time
            on_path = on_path | {key}
        for child in frame.children:
            walk(child, on_path)

    if root:
        walk(root, frozenset())
    rows = [
        (f, path, round(100 * t / total, 1))
        for (f, path), t in shares.most_common()
        if path.startswith("exchange/")
    ]
    return {"ms": round(total * 1000, 1), "exchange": rows[:top]}


class TimedStatements(Statements):
    """Statements with their time, to name the slow ones."""

    def __init__(self, engine):
        super().__init__(engine)
        self.timed: list[tuple[float, str]] = []

    def _before(self, conn, _cursor, _statement, _params, _context, _many):
        conn.info["bench_t0"] = time.perf_counter()

    def _after(self, conn, _cursor, statement, _params, _context, _many):
        elapsed = (time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())) * 1000
        self.timed.append((elapsed, statement))

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def slowest(self, n: int = 3) -> list[dict]:
        return [
            {"ms": round(ms, 2), "sql": short_sql(sql)}
            for ms, sql in sorted(self.timed, key=lambda t: -t[0])[:n]
        ]


def short_sql(sql: str) -> str:
    """A statement without its column list, on one line."""
    flat = re.sub(r"\s+", " ", sql).strip()
    flat = re.sub(r"^SELECT (?!count).*? FROM ", "SELECT ... FROM ", flat, count=1)
    return flat[:300]


def slow_statements(ex: Exchange, *, globex_token: str) -> dict:
    """Where the time of an inbox page and of an idle deadline scan goes, by statement."""
    from exchange import clock
    from exchange.cases.service.clock import scan_deadlines
    from exchange.db import db

    found = {}
    with exchange_app(ex) as app:
        client = app.test_client()
        headers = {"Authorization": f"Bearer {globex_token}"}
        path = "/api/v1/cases?direction=inbound&limit=50"
        client.get(path, headers=headers, base_url="http://127.0.0.1")
        with TimedStatements(db.engine) as seen:
            t0 = time.perf_counter()
            client.get(path, headers=headers, base_url="http://127.0.0.1")
            total = (time.perf_counter() - t0) * 1000
        found["inbox page"] = {"ms": round(total, 1), "slowest": seen.slowest()}
        db.session.remove()
        scan_deadlines(now=clock.now())
        db.session.remove()
        with TimedStatements(db.engine) as seen:
            t0 = time.perf_counter()
            scan_deadlines(now=clock.now())
            total = (time.perf_counter() - t0) * 1000
        db.session.remove()
        found["idle deadline scan"] = {"ms": round(total, 1), "slowest": seen.slowest()}
    return found
