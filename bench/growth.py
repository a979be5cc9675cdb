"""Growth: synthetic cases bulk-loaded straight into the tables (executemany on SQLite,
COPY on PostgreSQL; never through the API), then the inbox page, the case read and one
deadline scan measured at each size.

The mix follows a working exchange: most cases closed long ago, a few open ones with
running clocks, accepted ones with update cadences and inactivity reminders, resolved
ones waiting for their automatic close; every pair of the three demo members, the
receiver's own process version, severities, intake fields and engineers. Each case gets
its ``case.opened`` event and, past ``open``, the event that brought it to its status.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench.instance import Exchange

PAIRS = [  # (submitter, receiver, weight): globex receives 40 %
    ("acme", "globex", 30),
    ("globex", "acme", 20),
    ("acme", "initech", 15),
    ("initech", "acme", 10),
    ("globex", "initech", 15),
    ("initech", "globex", 10),
]
STATUSES = [
    ("closed", 55),
    ("accepted", 20),
    ("resolved", 8),
    ("open", 8),
    ("rejected", 5),
    ("information_requested", 4),
]
SEVERITY_WEIGHTS = {"1": 5, "2": 25, "3": 50, "4": 20}
ENGINEERS = {
    "acme": ["ed", "erin"],
    "globex": ["gustav", "gina"],
    "initech": ["indira", "ivan"],
}
STATUS_EVENT = {
    "accepted": "case.accepted",
    "resolved": "case.resolved",
    "closed": "case.closed",
    "rejected": "case.rejected",
    "information_requested": "case.information_requested",
}
PRODUCTS = {
    "acme": ("Acme Array OS", "7.2"),
    "globex": ("Globex Hypervisor", "8.0"),
    "initech": ("Initech DB", "12"),
}
CASE_COLUMNS = [
    "id", "submitter_id", "receiver_id", "process_id", "process_version_id", "status",
    "severity", "summary", "description", "customer", "product", "product_obsolete",
    "product_version_id", "intake", "test", "submitter_reference", "receiver_reference",
    "submitter_engineer_id", "receiver_engineer_id", "submitter_escalation_manager",
    "receiver_escalation_manager", "escalation_level", "rejection_reason",
    "rejection_explanation", "next_steps", "resolution", "version", "created_at",
    "updated_at", "response_due_at", "response_clock_started_at", "response_used_seconds",
    "response_breached_at", "responded_at", "next_update_due_at", "update_breached_at",
    "escalation_tier", "next_escalation_at", "update_reminder_at", "autoclose_notice_at",
    "autoclose_at", "inactivity_reminder_at", "accepted_at", "resolved_at", "closed_at",
]  # fmt: skip
EVENT_COLUMNS = [
    "case_id", "sequence", "type", "side", "origin", "actor_user_id", "actor_client_id",
    "actor_label", "data", "created_at",
]  # fmt: skip
JSON_COLUMNS = {
    "customer", "product", "intake", "submitter_escalation_manager",
    "receiver_escalation_manager", "data",
}  # fmt: skip
BATCH = 20_000


@dataclass
class Context:
    members: dict[str, int]
    users: dict[str, list[tuple[int, str]]]  # slug -> [(id, email)]
    processes: dict[
        int, list[tuple[int, int, dict]]
    ]  # receiver id -> [(process, version, content)]
    acme_sample: list[int] = field(default_factory=list)
    open_ids: list[int] = field(default_factory=list)


def _intake(content: dict) -> dict:
    values = {}
    for f in content.get("intake_fields") or []:
        kind = f.get("type", "string")
        if kind in ("integer", "number"):
            values[f["key"]] = 8
        elif kind == "email" or "email" in f["key"]:
            values[f["key"]] = "ops@customer.example"
        elif kind == "boolean":
            values[f["key"]] = True
        elif f.get("choices") or f.get("options"):
            choices = f.get("choices") or f.get("options")
            first = choices[0]
            values[f["key"]] = first.get("value", first) if isinstance(first, dict) else first
        else:
            values[f["key"]] = "7.2"
    return values


def load_context(ex: Exchange) -> Context:
    from exchange.members.models import Member, User
    from exchange.processes.models import Process, ProcessVersion

    engine = create_engine(ex.sqlalchemy_url)
    try:
        with engine.connect() as conn:
            members = dict(conn.execute(select(Member.slug, Member.id)).all())
            users = {}
            for slug, locals_ in ENGINEERS.items():
                emails = [f"{n}@{slug}.example" for n in locals_]
                users[slug] = [
                    tuple(r)
                    for r in conn.execute(select(User.id, User.email).where(User.email.in_(emails)))
                ]
            processes: dict[int, list] = {}
            rows = conn.execute(
                select(Process.id, Process.member_id, ProcessVersion.id, ProcessVersion.content)
                .join(ProcessVersion, ProcessVersion.process_id == Process.id)
                .where(ProcessVersion.status == "published")
                .order_by(Process.id, ProcessVersion.number)
            ).all()
            for process_id, member_id, version_id, content in rows:
                if isinstance(content, str):
                    content = json.loads(content)
                processes.setdefault(member_id, []).append((process_id, version_id, content))
    finally:
        engine.dispose()
    return Context(members=members, users=users, processes=processes)


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return lambda: rng.choices(values, weights)[0]


def generate(ctx: Context, first_id: int, count: int, now: datetime, seed: int):
    """Yields (case row dict, [event row dicts]) for ids first_id .. first_id+count-1."""
    rng = random.Random(seed)
    pick_pair = _weighted(rng, [((s, r), w) for s, r, w in PAIRS])
    pick_status = _weighted(rng, STATUSES)
    hour, day = timedelta(hours=1), timedelta(days=1)

    def between(a: timedelta, b: timedelta) -> timedelta:
        return a + (b - a) * rng.random()

    for case_id in range(first_id, first_id + count):
        submitter, receiver = pick_pair()
        status = pick_status()
        process_id, version_id, content = rng.choice(ctx.processes[ctx.members[receiver]])
        keys = [s["key"] for s in content["severities"]]
        severity = rng.choices(keys, [SEVERITY_WEIGHTS.get(k, 10) for k in keys])[0]
        sub_engineer = rng.choice(ctx.users[submitter])
        rec_engineer = rng.choice(ctx.users[receiver])
        product = PRODUCTS[receiver]
        if status in ("open", "information_requested"):
            created = now - between(timedelta(minutes=5), 3 * day)
        elif status == "accepted":
            created = now - between(hour, 90 * day)
        elif status == "resolved":
            created = now - between(day, 60 * day)
        else:
            created = now - between(7 * day, 730 * day)
        row = dict.fromkeys(CASE_COLUMNS)
        row.update(
            id=case_id,
            submitter_id=ctx.members[submitter],
            receiver_id=ctx.members[receiver],
            process_id=process_id,
            process_version_id=version_id,
            status=status,
            severity=severity,
            summary=f"{product[0]} {product[1]}: synthetic case {case_id} for the growth bench",
            description="Synthetic case loaded by the bench. " * 8,
            customer={
                "company": f"Customer {case_id % 5000}",
                "contact_name": "Pat Operator",
                "contact_email": f"ops{case_id % 5000}@customer.example",
                "contact_phone": None,
            },
            product={"name": product[0], "version": product[1]},
            product_obsolete=False,
            intake=_intake(content),
            test=rng.random() < 0.01,
            submitter_reference=f"SR-{case_id:08d}",
            submitter_engineer_id=sub_engineer[0],
            escalation_level=0,
            escalation_tier=0,
            response_used_seconds=0,
            created_at=created,
            updated_at=created,
        )
        events = [
            {
                "case_id": case_id,
                "sequence": 1,
                "type": "case.opened",
                "side": "submitter",
                "origin": "web",
                "actor_user_id": sub_engineer[0],
                "actor_client_id": None,
                "actor_label": sub_engineer[1],
                "data": {"severity": severity, "process_version": 1, "test": row["test"]},
                "created_at": created,
            }
        ]
        if status == "open":
            row["response_clock_started_at"] = created
            row["response_due_at"] = now + between(hour, 2 * day)
            if rng.random() < 0.3:
                row["next_escalation_at"] = now + between(2 * hour, 3 * day)
            ctx.open_ids.append(case_id)
        else:
            responded = created + between(timedelta(minutes=10), 4 * hour)
            responded = min(responded, now - timedelta(minutes=1))
            row["responded_at"] = responded
            row["response_used_seconds"] = int((responded - created).total_seconds())
            if rng.random() < 0.1:
                row["response_breached_at"] = created + 2 * hour
            last = responded
            if status in ("accepted", "resolved", "closed"):
                row.update(
                    accepted_at=responded,
                    receiver_engineer_id=rec_engineer[0],
                    receiver_reference=f"RR-{case_id:08d}",
                    next_steps="Reproducing in the lab.",
                )
            if status == "accepted":
                if severity in ("1", "2"):
                    if rng.random() < 0.05:
                        due = now - between(hour, 5 * day)
                        row.update(
                            next_update_due_at=due,
                            update_breached_at=due,
                            update_reminder_at=now + between(timedelta(minutes=30), hour),
                        )
                    else:
                        row["next_update_due_at"] = now + between(timedelta(minutes=10), 4 * hour)
                row["inactivity_reminder_at"] = now + between(day, 30 * day)
            elif status == "resolved":
                resolved = now - between(timedelta(minutes=10), 4 * day)
                row.update(resolved_at=resolved, resolution="Fixed in 8.0.3.")
                row["autoclose_at"] = resolved + 7 * day
                notice = row["autoclose_at"] - 2 * day
                row["autoclose_notice_at"] = notice if notice > now else None
                last = resolved
            elif status == "closed":
                resolved = responded + between(hour, 20 * day)
                row.update(resolved_at=resolved, closed_at=resolved + between(hour, 7 * day))
                row["resolution"] = "Fixed in 8.0.3."
                last = row["closed_at"]
            elif status == "rejected":
                row.update(
                    rejection_reason="not_our_product",
                    rejection_explanation="The fault is in the guest's own driver.",
                )
            last = min(last, now - timedelta(seconds=1))
            row["updated_at"] = last
            events.append(
                {
                    "case_id": case_id,
                    "sequence": 2,
                    "type": STATUS_EVENT[status],
                    "side": "submitter" if status == "closed" else "receiver",
                    "origin": "web",
                    "actor_user_id": rec_engineer[0],
                    "actor_client_id": None,
                    "actor_label": rec_engineer[1],
                    "data": {"changes": {"status": {"from": "open", "to": status}}},
                    "created_at": last,
                }
            )
        row["version"] = len(events)
        if ctx.members["acme"] in (row["submitter_id"], row["receiver_id"]):
            if len(ctx.acme_sample) < 2000:
                ctx.acme_sample.append(case_id)
            elif rng.random() < 0.01:
                ctx.acme_sample[rng.randrange(2000)] = case_id
        yield row, events


def _sqlite_value(column: str, value):
    if value is None:
        return None
    if column in JSON_COLUMNS:
        return json.dumps(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


def _pg_value(column: str, value):
    if value is None:
        return None
    if column in JSON_COLUMNS:
        return json.dumps(value)
    return value


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def bulk_load(ex: Exchange, ctx: Context, count: int, seed: int) -> float:
    """Append ``count`` synthetic cases (and their events); returns seconds taken."""
    t0 = time.perf_counter()
    now = datetime.now(UTC)
    if ex.database_url:
        import psycopg

        case_sql = f"COPY cases ({', '.join(CASE_COLUMNS)}) FROM STDIN"
        event_sql = f"COPY case_events ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
        with psycopg.connect(_libpq(ex.database_url)) as conn:
            first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM cases").fetchone()[0]
            rows = generate(ctx, first, count, now, seed)
            done = False
            while not done:
                cases, events = [], []
                for row, evs in rows:
                    cases.append([_pg_value(c, row[c]) for c in CASE_COLUMNS])
                    events.extend([_pg_value(c, ev[c]) for c in EVENT_COLUMNS] for ev in evs)
                    if len(cases) >= 5 * BATCH:
                        break
                else:
                    done = True
                with conn.cursor() as cur:
                    with cur.copy(case_sql) as copy:
                        for values in cases:
                            copy.write_row(values)
                    with cur.copy(event_sql) as copy:
                        for values in events:
                            copy.write_row(values)
                conn.commit()
            conn.execute("SELECT setval('cases_id_seq', (SELECT max(id) FROM cases))")
            conn.commit()
        with psycopg.connect(_libpq(ex.database_url), autocommit=True) as conn:
            # What autovacuum would do after such a load, done now rather than whenever.
            conn.execute("ANALYZE cases")
            conn.execute("ANALYZE case_events")
    else:
        path = ex.instance_path / "exchange.sqlite3"
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous=OFF")
            first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM cases").fetchone()[0]
            case_sql = (
                f"INSERT INTO cases ({', '.join(CASE_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(CASE_COLUMNS))})"
            )
            event_sql = (
                f"INSERT INTO case_events ({', '.join(EVENT_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
            )
            cases, events = [], []

            def flush():
                conn.execute("BEGIN")
                conn.executemany(case_sql, cases)
                conn.executemany(event_sql, events)
                conn.execute("COMMIT")
                cases.clear()
                events.clear()

            for row, evs in generate(ctx, first, count, now, seed):
                cases.append([_sqlite_value(c, row[c]) for c in CASE_COLUMNS])
                events.extend([_sqlite_value(c, ev[c]) for c in EVENT_COLUMNS] for ev in evs)
                if len(cases) >= BATCH:
                    flush()
            if cases:
                flush()
        finally:
            conn.close()
    _recount(ex)
    return time.perf_counter() - t0


def _recount(ex: Exchange) -> None:
    """The cases went in around the application: rebuild its per-member tallies, as an
    operator would after such a load."""
    from sqlalchemy.orm import Session

    from exchange.cases import tallies

    engine = create_engine(ex.sqlalchemy_url)
    try:
        with Session(engine) as session:
            tallies.recount(session)
            session.commit()
    finally:
        engine.dispose()


def case_count(ex: Exchange) -> int:
    from exchange.cases.models import Case

    engine = create_engine(ex.sqlalchemy_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(Case.__table__))
    finally:
        engine.dispose()


def make_due(ex: Exchange, ctx: Context, count: int, seed: int) -> list[int]:
    """``count`` loaded open cases whose response is due a minute ago (not yet fired)."""
    rng = random.Random(seed)
    ids = rng.sample(ctx.open_ids, min(count, len(ctx.open_ids)))
    for case_id in ids:
        ctx.open_ids.remove(case_id)
    due = datetime.now(UTC) - timedelta(minutes=1)
    engine = create_engine(ex.sqlalchemy_url)
    try:
        with engine.begin() as conn:
            value = (
                due
                if ex.database_url
                else due.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
            )
            stmt = text(
                "UPDATE cases SET response_due_at = :due, response_breached_at = NULL "
                "WHERE id = :id"
            )
            conn.execute(stmt, [{"due": value, "id": i} for i in ids])
    finally:
        engine.dispose()
    return ids
