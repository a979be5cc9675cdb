"""``python -m bench [--quick] [--db sqlite|postgres|both] [--profile]``.

For each database: the ceiling app, then a throwaway exchange (HTTP figures, SQL
statement counts, webhook delivery, commit -> receipt latency, growth to a million
cases, peak memory). Prints the table, writes ``bench/results/latest.json`` and the
generated part of ``docs/benchmarks.md``. PostgreSQL runs on the cluster that
``scripts/with-postgres`` starts; without one the bench re-runs itself under it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from bench import growth, inproc, loadgen, profile, report, webhooks
from bench.ceiling_app import init_db
from bench.instance import (
    NOTE_BODY,
    RECEIVER,
    SUBMITTER,
    Exchange,
    case_body,
    clean_env,
    open_cases,
)
from bench.procs import (
    METER,
    REPO,
    Processes,
    free_port,
    peak_rss_mb,
    postmaster_pid,
    python_module,
    wait_http,
)

PG_ENV = "EXCHANGE_TEST_POSTGRES_URL"


@dataclass
class Settings:
    wrk_seconds: float
    ceiling_seconds: float
    warm_seconds: float
    backlog: int
    latency_seconds: float
    events_per_second: float
    sizes: tuple[int, ...]
    series_requests: int
    series_seconds: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


QUICK = Settings(3, 3, 1, 1200, 6, 100, (10_000, 100_000), 40, 8)
FULL = Settings(15, 10, 2, 6000, 30, 100, (10_000, 100_000, 1_000_000), 200, 40)


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def gunicorn_conf() -> str:
    import exchange

    return str(Path(exchange.__file__).with_name("gunicorn_conf.py"))


def pg_database(admin_url: str, name: str) -> str:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def pg_version(admin_url: str) -> str:
    engine = create_engine(admin_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SHOW server_version")).split()[0]
    finally:
        engine.dispose()


def check(response: requests.Response, expect: int, what: str) -> None:
    if response.status_code != expect:
        raise RuntimeError(
            f"{what}: expected {expect}, got {response.status_code}: {response.text[:500]}"
        )


class Bench:
    def __init__(self, settings: Settings, work: Path, procs: Processes, profiling: bool):
        self.s = settings
        self.work = work
        self.procs = procs
        self.profiling = profiling

    # -- ceiling ----------------------------------------------------------------------

    def start_ceiling(self, url: str) -> tuple:
        init_db(url)
        port = free_port()
        env = clean_env()
        env.update(
            PORT=str(port),
            WEB_CONCURRENCY="2",
            EXCHANGE_SERVE_WORKER="0",
            BENCH_CEILING_DATABASE_URL=url,
        )
        proc = self.procs.start(
            "ceiling",
            python_module("gunicorn", "-c", gunicorn_conf(), "bench.ceiling_app:create_app()"),
            env,
        )
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/ping", proc)
        check(requests.post(base + "/insert", json=case_body(), timeout=10), 201, "ceiling insert")
        return proc, base

    def measure_ceiling(self, base: str, tag: str, runs: dict) -> None:
        """GET /ping and POST /insert of the ceiling app, appended to ``runs``."""
        ping = loadgen.lua_script(path="/ping", token="ceiling")
        insert = loadgen.lua_script(
            method="POST", path="/insert", body=json.dumps(case_body()), token="ceiling"
        )
        for name, script in (("ping", ping), ("insert", insert)):
            if tag == "before":  # afterwards the ceiling's workers are warm already
                loadgen.run_wrk(base + f"/{name}", script, 1, self.work, f"warm-{name}")
            result = loadgen.run_wrk(
                base + f"/{name}", script, self.s.ceiling_seconds, self.work, f"{name}-{tag}"
            )
            runs.setdefault(name, []).append(result)
            say(f"  ceiling {name} ({tag}): {result.ok_rps:.0f}/s")

    # -- the exchange over HTTP ---------------------------------------------------------

    def _profiled(self, ex: Exchange, name: str, url: str, script: str, profiles: dict) -> None:
        workers = ex.web_workers()
        if not workers:
            return
        raw = self.work / f"profile-{name}.txt"
        spy = profile.start(workers[0], self.s.wrk_seconds - 1, raw)
        if spy is None:
            return
        loadgen.run_wrk(url, script, self.s.wrk_seconds, self.work, f"profiled-{name}")
        spy.wait(60)
        profiles[name] = profile.summarise(raw)

    def _phase(self, ex, name, url, script, ratio_to: str, profiles) -> dict:
        loadgen.run_wrk(url, script, self.s.warm_seconds, self.work, f"warm-{name}")
        result = loadgen.run_wrk(url, script, self.s.wrk_seconds, self.work, name).to_dict()
        result["ratio_to"] = ratio_to
        say(f"  {name}: {result['ok_rps']:.0f}/s ({result['errors']} errors)")
        if self.profiling:
            self._profiled(ex, name, url, script, profiles)
        return result

    def http(self, ex: Exchange, out: dict, profiles: dict) -> list[int]:
        acme, globex = ex.token(SUBMITTER), ex.token(RECEIVER)
        auth_a = {"Authorization": f"Bearer {acme}"}
        auth_g = {"Authorization": f"Bearer {globex}"}
        ids = open_cases(ex, acme, 60)
        inbox_path = "/api/v1/cases?direction=inbound&limit=50"
        check(requests.get(ex.base + inbox_path, headers=auth_g, timeout=30), 200, "inbox page")
        check(
            requests.post(
                f"{ex.base}/api/v1/cases/{ids[0]}/notes", json=NOTE_BODY, headers=auth_a, timeout=30
            ),
            201,
            "add a note",
        )

        phases = {}
        phases["open_case"] = (
            ex.base + "/api/v1/cases",
            loadgen.lua_script(
                method="POST", path="/api/v1/cases", body=json.dumps(case_body(1)), token=acme
            ),
            "insert",
        )
        for name, (url, script, ratio_to) in phases.items():
            out[name] = self._phase(ex, name, url, script, ratio_to, profiles)

        # Cases acme opened, for reads and notes: the seeds and what the open phase made.
        from exchange.cases.models import Case
        from exchange.members.models import Member

        engine = create_engine(ex.sqlalchemy_url)
        try:
            with engine.connect() as conn:
                acme_id = conn.scalar(select(Member.id).where(Member.slug == SUBMITTER))
                case_ids = list(
                    conn.scalars(
                        select(Case.id)
                        .where(Case.submitter_id == acme_id)
                        .order_by(Case.id.desc())
                        .limit(500)
                    )
                )
        finally:
            engine.dispose()
        phases = {
            "read_case": (
                ex.base + "/api/v1/cases",
                loadgen.lua_script(paths=[f"/api/v1/cases/{i}" for i in case_ids], token=acme),
                "ping",
            ),
            "inbox_page": (
                ex.base + inbox_path,
                loadgen.lua_script(path=inbox_path, token=globex),
                "ping",
            ),
            "add_note": (
                ex.base + "/api/v1/cases",
                loadgen.lua_script(
                    method="POST",
                    paths=[f"/api/v1/cases/{i}/notes" for i in case_ids],
                    body=json.dumps(NOTE_BODY),
                    token=acme,
                ),
                "insert",
            ),
        }
        for name, (url, script, ratio_to) in phases.items():
            out[name] = self._phase(ex, name, url, script, ratio_to, profiles)
        return ids

    # -- webhooks -------------------------------------------------------------------------

    def deliveries(
        self,
        ex: Exchange,
        receiver: webhooks.Receiver,
        kind: str,
        out: dict,
        memory: dict,
        profiles: dict,
    ) -> None:
        target = self.s.backlog
        out["backlog"] = webhooks.prepare_backlog(ex, target)
        receiver.reset()
        workers = webhooks.start_workers(ex, self.procs, 1)
        try:
            out["one_worker"] = webhooks.drain_rate(
                receiver, target, workers, timeout=target / 20 + 60
            )
            say(
                f"  one worker: {out['one_worker']['per_second']}/s "
                f"({out['one_worker']['delivered']} delivered)"
            )
            time.sleep(1)  # the last round records its attempts
            out["latency"] = webhooks.steady_latency(
                ex, receiver, rate=self.s.events_per_second, seconds=self.s.latency_seconds
            )
            lat = out["latency"]
            say(
                f"  commit -> receipt at {lat['events_per_second']:.0f} events/s: "
                f"p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms"
            )
            memory["delivery_worker_peak_mb"] = webhooks.worker_peak_rss(workers)
        finally:
            for w in workers:
                self.procs.stop(w)
        out["bare_sender"] = webhooks.bare_sender(ex, receiver, target)
        bare = out["bare_sender"]["per_second"]
        say(f"  bare requests sender: {bare}/s")
        if out["one_worker"]["per_second"]:
            out["ratio_one_worker"] = round(out["one_worker"]["per_second"] / bare, 3)
        if kind == "postgres":
            webhooks.prepare_backlog(ex, target)
            receiver.reset()
            workers = webhooks.start_workers(ex, self.procs, 2)
            try:
                out["two_workers"] = webhooks.drain_rate(
                    receiver, target, workers, timeout=target / 20 + 60
                )
                say(f"  two workers: {out['two_workers']['per_second']}/s")
            finally:
                for w in workers:
                    self.procs.stop(w)
        if self.profiling:
            webhooks.prepare_backlog(ex, target)
            receiver.reset()
            workers = webhooks.start_workers(ex, self.procs, 1)
            try:
                time.sleep(1.5)  # imported and connected
                raw = self.work / "profile-worker.txt"
                spy = profile.start(workers[0].pid, max(2, target / 400), raw)
                webhooks.drain_rate(receiver, target, workers, timeout=target / 20 + 60)
                if spy:
                    spy.wait(120)
                    profiles["delivery worker"] = profile.summarise(raw)
            finally:
                for w in workers:
                    self.procs.stop(w)

    # -- growth ---------------------------------------------------------------------------

    def growth(self, ex: Exchange, out: dict) -> None:
        ctx = growth.load_context(ex)
        sizes = []
        out["sizes"] = sizes
        for size in self.s.sizes:
            have = growth.case_count(ex)
            loaded = 0.0
            if size > have:
                loaded = growth.bulk_load(ex, ctx, size - have, seed=size)
            entry = {
                "target": size,
                "cases": growth.case_count(ex),
                "load_seconds": round(loaded, 1),
            }
            acme, globex = ex.token(SUBMITTER), ex.token(RECEIVER)
            with requests.Session() as session:
                inbox = [ex.base + "/api/v1/cases?direction=inbound&limit=50"]
                entry["inbox"] = loadgen.latency_series(
                    session,
                    inbox,
                    headers={"Authorization": f"Bearer {globex}"},
                    count=self.s.series_requests,
                    max_seconds=self.s.series_seconds,
                )
                reads = [
                    f"{ex.base}/api/v1/cases/{i}" for i in ctx.acme_sample[: self.s.series_requests]
                ]
                entry["read"] = loadgen.latency_series(
                    session,
                    reads,
                    headers={"Authorization": f"Bearer {acme}"},
                    count=self.s.series_requests,
                    max_seconds=self.s.series_seconds,
                )
            entry["where_time_goes"] = inproc.slow_statements(ex, globex_token=globex)
            entry["scan"] = inproc.timed_scan(
                ex,
                lambda size=size: growth.make_due(ex, ctx, 100, seed=size),
                profile=self.profiling and size == self.s.sizes[-1],
            )
            sizes.append(entry)
            say(
                f"  {entry['cases']:,} cases (loaded in {loaded:.0f} s): "
                f"inbox p95 {entry['inbox']['p95_ms']} ms, read p95 {entry['read']['p95_ms']} ms, "
                f"scan {entry['scan']['ms']} ms ({entry['scan']['fired']} fired)"
            )
        if sizes:
            first, last = sizes[0], sizes[-1]
            out["largest"] = last["target"]
            out["scan_at_largest"] = last["scan"]
            out["factors"] = {
                "inbox_p95": round(last["inbox"]["p95_ms"] / first["inbox"]["p95_ms"], 2),
                "read_p95": round(last["read"]["p95_ms"] / first["read"]["p95_ms"], 2),
                "scan": round(last["scan"]["ms"] / first["scan"]["ms"], 2)
                if first["scan"]["ms"]
                else None,
            }

    # -- one database ---------------------------------------------------------------------

    def database(self, kind: str, admin_url: str | None) -> dict:
        started = time.monotonic()
        result: dict = {"ceiling": {}, "http": {}, "webhooks": {}, "growth": {}, "memory": {}}
        profiles: dict = {}
        timings = {}
        if kind == "postgres":
            ceiling_url = pg_database(admin_url, "bench_ceiling")
            exchange_url = pg_database(admin_url, "bench_exchange")
        else:
            ceiling_url = f"sqlite:///{self.work / 'ceiling.sqlite3'}"
            exchange_url = None
        say(f"{report.DB_NAMES[kind]}: ceiling app and exchange instance")
        t = time.monotonic()
        ex = Exchange(self.work / f"exchange-{kind}", exchange_url, self.procs)
        ex.prepare()
        receiver = webhooks.Receiver(self.procs, free_port())
        wait_http(receiver.base + "/stats", receiver.proc)
        ex.serve()
        ceiling, ceiling_base = self.start_ceiling(ceiling_url)
        try:
            ex.register_endpoints(receiver.port)
            timings["setup"] = round(time.monotonic() - t, 1)
            # The ceiling just before and just after the exchange's HTTP figures, and
            # their mean as the denominator: a shared machine's load drifts.
            t = time.monotonic()
            runs: dict = {}
            self.measure_ceiling(ceiling_base, "before", runs)
            say(f"{report.DB_NAMES[kind]}: exchange over HTTP")
            ids = self.http(ex, result["http"], profiles)
            self.measure_ceiling(ceiling_base, "after", runs)
            self.procs.stop(ceiling)
            result["ceiling"] = {name: loadgen.combine(r) for name, r in runs.items()}
            for name, figure in result["http"].items():
                figure["ratio"] = round(
                    figure["ok_rps"] / result["ceiling"][figure["ratio_to"]]["ok_rps"], 3
                )
                say(f"  {name}: {figure['ratio']:.0%} of {figure['ratio_to']}")
            result["memory"]["web_worker_peak_mb"] = max(
                (peak_rss_mb(p) or 0 for p in ex.web_workers()), default=None
            )
            timings["http"] = round(time.monotonic() - t, 1)

            t = time.monotonic()
            result["statements"] = inproc.count_statements(
                ex,
                acme_token=ex.token(SUBMITTER),
                globex_token=ex.token(RECEIVER),
                case_id=ids[0],
                batch=20,
            )
            timings["statements"] = round(time.monotonic() - t, 1)

            say(f"{report.DB_NAMES[kind]}: webhook delivery")
            t = time.monotonic()
            self.deliveries(ex, receiver, kind, result["webhooks"], result["memory"], profiles)
            timings["webhooks"] = round(time.monotonic() - t, 1)

            say(f"{report.DB_NAMES[kind]}: growth")
            t = time.monotonic()
            self.growth(ex, result["growth"])
            scan_profile = (result["growth"].get("scan_at_largest") or {}).pop("profile", None)
            if scan_profile:
                profiles["deadline scan, 100 due (pyinstrument)"] = scan_profile
            result["memory"]["web_worker_peak_after_growth_mb"] = max(
                (peak_rss_mb(p) or 0 for p in ex.web_workers()), default=None
            )
            timings["growth"] = round(time.monotonic() - t, 1)
        except Exception:
            tail = self.procs.log_tail("exchange-serve")
            if tail:
                print("--- exchange serve log (last lines) ---\n" + tail, file=sys.stderr)
            raise
        finally:
            ex.stop()
            self.procs.stop(ceiling)
            self.procs.stop(receiver.proc)
        if profiles:
            result["profiles"] = profiles
        timings["total"] = round(time.monotonic() - started, 1)
        result["seconds"] = timings
        return result


def _commit() -> str | None:
    """The commit measured, with "+changes" when the application's files differ from it."""
    import subprocess

    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "exchange", "migrations"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return None
    return (head + ("+changes" if dirty else "")) or None


def _reexec_under_postgres(argv: list[str]) -> None:
    script = REPO / "scripts" / "with-postgres"
    say("no PostgreSQL cluster given: re-running under scripts/with-postgres")
    os.execv(str(script), [str(script), sys.executable, "-m", "bench", *argv])


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, growth to 100 k only")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--profile", action="store_true", help="py-spy profiles of each phase")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--render",
        action="store_true",
        help="measure nothing: print and write docs/benchmarks.md from bench/results/latest.json",
    )
    args = parser.parse_args(argv)
    if args.render:
        results = json.loads(report.RESULTS.read_text())
        report.print_report(results)
        report.write_doc(results)
        return 0

    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    admin_url = os.environ.get(PG_ENV)
    if "postgres" in kinds and not admin_url:
        _reexec_under_postgres(argv)
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk (or run `make bench`)", file=sys.stderr)
        return 2
    # The caller's EXCHANGE_* settings must not leak into the throwaway instances.
    for key in [k for k in os.environ if k.startswith("EXCHANGE_")]:
        del os.environ[key]

    settings = QUICK if args.quick else FULL
    signal.signal(signal.SIGTERM, _terminate)
    work = Path(tempfile.mkdtemp(prefix="exchange-bench-"))
    procs = Processes(work)
    started = time.monotonic()
    machine = report.machine()
    results: dict = {
        "command": "python -m bench " + " ".join(argv),
        "mode": "quick" if args.quick else "full",
        "started_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "settings": settings.to_dict(),
        "machine": machine,
        "databases": {},
    }
    try:
        from exchange.version import SIGNATURE

        results["exchange_version"] = SIGNATURE
    except ImportError:
        pass
    results["exchange_commit"] = _commit()
    try:
        if "postgres" in kinds:
            results["postgres_version"] = pg_version(admin_url)
            postmaster = postmaster_pid(make_url(admin_url).port)
            if postmaster:
                METER.add_root(postmaster)
        bench = Bench(settings, work, procs, args.profile)
        for kind in kinds:
            results["databases"][kind] = bench.database(kind, admin_url)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping what the bench started", file=sys.stderr)
        return 130
    finally:
        procs.stop_all()
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    results["finished_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    results["seconds"] = round(time.monotonic() - started, 1)
    report.print_report(results)
    report.write_json(results)
    report.write_doc(results)
    say(
        f"done in {results['seconds'] / 60:.1f} min: wrote "
        f"{report.RESULTS.relative_to(REPO)} and {report.DOC.relative_to(REPO)}"
    )
    return 0
