"""The bench's outputs: the printed table, ``bench/results/latest.json`` and the generated
part of ``docs/benchmarks.md`` (between its markers; the rest of that page is written
by hand and kept as it is)."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
from pathlib import Path

from bench.procs import REPO

RESULTS = REPO / "bench" / "results" / "latest.json"
DOC = REPO / "docs" / "benchmarks.md"
BEGIN = "<!-- bench:generated:begin (written by `python -m bench`; edits here are lost) -->"
END = "<!-- bench:generated:end -->"
DB_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


# -- machine ------------------------------------------------------------------------


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    try:
        load = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        load = []
    import gunicorn

    from bench.loadgen import wrk_version

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "gunicorn": gunicorn.__version__,
        "wrk": wrk_version(),
        "load_average_at_start": " ".join(load),
    }


# -- goals --------------------------------------------------------------------------


def _get(d, *path):
    for key in path:
        if d is None:
            return None
        d = d.get(key) if isinstance(d, dict) else None
    return d


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("met" if ok else "missed")


def goals(results: dict) -> list[dict]:
    """Each goal of issue 8, per database, with the figure and met / missed."""
    rows = []
    for db, r in results["databases"].items():
        name = DB_NAMES[db]

        def add(goal, target, value, ok, note="", name=name):
            rows.append(
                {
                    "database": name,
                    "goal": goal,
                    "target": target,
                    "value": value,
                    "verdict": _verdict(ok),
                    "note": note,
                }
            )

        ratio = _get(r, "http", "open_case", "ratio")
        add(
            "case open throughput",
            ">= 50 % of POST /insert",
            _pct(ratio),
            None if ratio is None else ratio >= 0.5,
            _errors_note(_get(r, "http", "open_case")),
        )
        ratio = _get(r, "http", "read_case", "ratio")
        add(
            "case read throughput",
            ">= 40 % of GET /ping",
            _pct(ratio),
            None if ratio is None else ratio >= 0.4,
        )
        one = _get(r, "webhooks", "one_worker", "per_second")
        ratio = _get(r, "webhooks", "ratio_one_worker")
        add(
            "deliveries/s, one worker",
            ">= 60 % of the bare sender and >= 500/s",
            f"{_num(one)}/s = {_pct(ratio)}" if one else "-",
            None if one is None or ratio is None else (ratio >= 0.6 and one >= 500),
        )
        p50 = _get(r, "webhooks", "latency", "p50_ms")
        p99 = _get(r, "webhooks", "latency", "p99_ms")
        add(
            "commit -> receipt at 100 events/s",
            "p50 <= 50 ms, p99 <= 250 ms",
            f"p50 {_num(p50)} ms, p99 {_num(p99)} ms" if p50 is not None else "-",
            None if p50 is None else (p50 <= 50 and p99 <= 250),
        )
        factors = _get(r, "growth", "factors") or {}
        largest = _get(r, "growth", "largest")
        for what, key in (("inbox page", "inbox_p95"), ("case read", "read_p95")):
            factor = factors.get(key)
            at_million = largest == 1_000_000
            add(
                f"{what} p95 at 1 M cases",
                "<= 1.5 x the figure at 10 k",
                f"{factor:.2f} x at {_size(largest)}" if factor else "-",
                (factor <= 1.5) if (factor and at_million) else None,
                "" if at_million else "quick mode stops at 100 k: the factor shown is 100 k / 10 k",
            )
        scan = _get(r, "growth", "scan_at_largest")
        add(
            "deadline scan, 100 due",
            "<= 50 ms at 1 M cases",
            f"{scan['ms']:.0f} ms at {_size(largest)} ({scan['fired']} fired)" if scan else "-",
            (scan["ms"] <= 50) if (scan and largest == 1_000_000) else None,
            "" if largest == 1_000_000 else "quick mode stops at 100 k",
        )
        web = _get(r, "memory", "web_worker_peak_mb")
        add(
            "peak RSS, web worker",
            "<= 150 MB",
            f"{_num(web)} MB" if web else "-",
            None if web is None else web <= 150,
        )
        worker = _get(r, "memory", "delivery_worker_peak_mb")
        add(
            "peak RSS, delivery worker",
            "<= 120 MB",
            f"{_num(worker)} MB" if worker else "-",
            None if worker is None else worker <= 120,
        )
    return rows


def _load_note(figure: dict | None) -> str:
    load = (figure or {}).get("other_load")
    return f" [others {load * 100:.0f} %]" if load is not None and load >= 0.1 else ""


def other_loads(node) -> list[float]:
    """Every ``other_load`` figure in the results."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "other_load" and isinstance(value, (int, float)):
                found.append(value)
            else:
                found += other_loads(value)
    elif isinstance(node, list):
        for value in node:
            found += other_loads(value)
    return found


def _errors_note(wrk: dict | None) -> str:
    if not wrk or not wrk.get("errors"):
        return ""
    share = wrk["errors"] / wrk["requests"] if wrk["requests"] else 0
    return f"{wrk['errors']} of {wrk['requests']} answers were errors ({share:.0%}); only 2xx count"


# -- formatting ---------------------------------------------------------------------


def _num(v, digits: int = 0) -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and digits:
        return f"{v:,.{digits}f}"
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.1f}"


def _pct(ratio) -> str:
    return "-" if ratio is None else f"{ratio * 100:.0f} %"


def _size(n) -> str:
    if not n:
        return "-"
    return f"{n // 1_000_000} M" if n >= 1_000_000 else f"{n // 1000} k"


def _wrk_cells(w: dict | None, ratio_to: str | None = None) -> list[str]:
    if not w:
        return ["-"] * 5
    errors = f"{w['errors']}" if w.get("errors") else "0"
    ratio = f"{_pct(w.get('ratio'))} of {ratio_to}" if ratio_to and w.get("ratio") else ""
    return [_num(w["ok_rps"]), _num(w["p50_ms"]), _num(w["p99_ms"]), errors, ratio]


def figure_rows(results: dict) -> tuple[list[str], list[list[str]]]:
    """One row per figure, one column group per database."""
    dbs = list(results["databases"])
    header = ["figure"]
    for db in dbs:
        header.append(DB_NAMES[db])
    rows: list[list[str]] = []

    def row(label, fn):
        rows.append([label] + [fn(results["databases"][db], db) for db in dbs])

    def wrk_text(w, ratio_to=None):
        if not w:
            return "-"
        rps, p50, p99, errors, ratio = _wrk_cells(w, ratio_to)
        text = f"{rps}/s, p50 {p50} ms, p99 {p99} ms"
        if errors != "0":
            text += f", {errors} errors"
        if ratio:
            text += f" = {ratio}"
        if w.get("runs_ok_rps"):
            text += " (mean of " + " and ".join(f"{_num(x)}/s" for x in w["runs_ok_rps"]) + ")"
        return text + _load_note(w)

    row("ceiling GET /ping", lambda r, db: wrk_text(_get(r, "ceiling", "ping")))
    row("ceiling POST /insert", lambda r, db: wrk_text(_get(r, "ceiling", "insert")))
    row("open a case (POST)", lambda r, db: wrk_text(_get(r, "http", "open_case"), "/insert"))
    row("read a case (GET)", lambda r, db: wrk_text(_get(r, "http", "read_case"), "/ping"))
    row("inbox page of 50 (GET)", lambda r, db: wrk_text(_get(r, "http", "inbox_page"), "/ping"))
    row("add a note (POST)", lambda r, db: wrk_text(_get(r, "http", "add_note"), "/insert"))

    def deliveries(r, db, key):
        d = _get(r, "webhooks", key)
        if not d:
            return "-" if key != "two_workers" or db == "postgres" else "n/a (one worker on SQLite)"
        text = f"{_num(d['per_second'])}/s"
        bare = _get(r, "webhooks", "bare_sender", "per_second")
        if bare:
            text += f" = {d['per_second'] / bare * 100:.0f} % of the bare sender"
        if not d.get("complete", True):
            text += f" (only {d['delivered']} of {d['expected']} arrived)"
        return text + _load_note(d)

    row("deliveries/s, one worker", lambda r, db: deliveries(r, db, "one_worker"))
    row("deliveries/s, two workers", lambda r, db: deliveries(r, db, "two_workers"))
    row(
        "bare requests sender",
        lambda r, db: (
            f"{_num(_get(r, 'webhooks', 'bare_sender', 'per_second'))}/s"
            f" ({_get(r, 'webhooks', 'bare_sender', 'threads')} threads)"
            if _get(r, "webhooks", "bare_sender")
            else "-"
        ),
    )

    def latency(r, db):
        lat = _get(r, "webhooks", "latency")
        if not lat:
            return "-"
        text = f"p50 {_num(lat['p50_ms'])} ms, p99 {_num(lat['p99_ms'])} ms"
        achieved = lat.get("achieved_events_per_second")
        if achieved and achieved < 0.95 * lat["events_per_second"]:
            text += f" (the API kept up with only {achieved:.0f} events/s; "
        else:
            text += " ("
        text += f"{lat['deliveries_received']} deliveries"
        if lat.get("deliveries_missing"):
            text += f", {lat['deliveries_missing']} missing after 5 s without progress"
        if lat.get("events_failed"):
            tried = lat["events_ok"] + lat["events_failed"]
            text += f"; {lat['events_failed']} of {tried} events refused"
        return text + ")" + _load_note(lat)

    row("commit -> receipt, 100 events/s", latency)
    sizes = []
    for r in results["databases"].values():
        for s in _get(r, "growth", "sizes") or []:
            if s["target"] not in sizes:
                sizes.append(s["target"])
    for size in sizes:

        def at(r, db, size=size, key="inbox"):
            for s in _get(r, "growth", "sizes") or []:
                if s["target"] == size:
                    m = s[key]
                    text = f"p50 {_num(m['p50_ms'])} ms, p95 {_num(m['p95_ms'])} ms"
                    text += f", {m['errors']} errors" if m.get("errors") else ""
                    return text + _load_note(m)
            return "-"

        def scan(r, db, size=size):
            for s in _get(r, "growth", "sizes") or []:
                if s["target"] == size:
                    sc = s["scan"]
                    runs = sc.get("runs_ms")
                    each = (
                        f"median of {', '.join(f'{t:.0f}' for t in runs)} ms; "
                        if runs and len(runs) > 1
                        else ""
                    )
                    return (
                        f"{sc['ms']:.0f} ms ({each}{sc['fired']} fired, {sc['statements']}"
                        f" statements; with nothing due {sc['idle_ms']:.0f} ms)"
                    )
            return "-"

        row(f"inbox page at {_size(size)} cases", at)
        row(f"case read at {_size(size)} cases", lambda r, db, at=at: at(r, db, key="read"))
        row(f"deadline scan at {_size(size)}, 100 due", scan)

    def growth(r, db, key):
        f = _get(r, "growth", "factors", key)
        return f"{f:.2f} x ({_size(_get(r, 'growth', 'largest'))} / 10 k)" if f else "-"

    row("inbox p95 growth", lambda r, db: growth(r, db, "inbox_p95"))
    row("case read p95 growth", lambda r, db: growth(r, db, "read_p95"))
    row(
        "peak RSS, web worker",
        lambda r, db: (
            f"{_num(_get(r, 'memory', 'web_worker_peak_mb'))} MB"
            f" (after growth: {_num(_get(r, 'memory', 'web_worker_peak_after_growth_mb'))} MB)"
        ),
    )
    row(
        "peak RSS, delivery worker",
        lambda r, db: f"{_num(_get(r, 'memory', 'delivery_worker_peak_mb'))} MB",
    )
    return header, rows


def statement_rows(results: dict) -> tuple[list[str], list[list[str]]]:
    dbs = list(results["databases"])
    ops: list[str] = []
    for r in results["databases"].values():
        for op in r.get("statements") or {}:
            if op not in ops:
                ops.append(op)
    header = ["operation"] + [DB_NAMES[db] for db in dbs]
    rows = []
    for op in ops:
        cells = [op]
        for db in dbs:
            s = (results["databases"][db].get("statements") or {}).get(op)
            if not s:
                cells.append("-")
                continue
            text = f"{s['statements']} ({s['selects']} SELECT, {s['writes']} writes"
            if s.get("repeated_selects"):
                text += f"; one SELECT {s['most_repeated_times']}x"
                if s.get("most_repeated_from"):
                    text += f" from {s['most_repeated_from']}"
            cells.append(text + ")")
        rows.append(cells)
    return header, rows


def slow_rows(results: dict) -> list[str]:
    """The slowest statements of an inbox page and an idle scan at the largest size."""
    lines = []
    for db, r in results["databases"].items():
        sizes = _get(r, "growth", "sizes") or []
        if not sizes or "where_time_goes" not in sizes[-1]:
            continue
        last = sizes[-1]
        for op, found in last["where_time_goes"].items():
            lines.append(
                f"- {DB_NAMES[db]}, {op} at {_size(last['target'])} cases "
                f"({found['ms']:.0f} ms in-process):"
            )
            for s in found["slowest"]:
                lines.append(f"  - {s['ms']:.1f} ms: `{s['sql']}`")
    return lines


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def md_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)


def print_report(results: dict) -> None:
    header, rows = figure_rows(results)
    print()
    print(text_table(header, rows))
    print()
    g = goals(results)
    print(
        text_table(
            ["database", "goal", "target", "value", "verdict"],
            [[x["database"], x["goal"], x["target"], x["value"], x["verdict"]] for x in g],
        )
    )
    print()
    header, rows = statement_rows(results)
    if rows:
        print("SQL statements per operation")
        print(text_table(header, rows))
        print()
    slow = slow_rows(results)
    if slow:
        print("Slowest statements at the largest size")
        print("\n".join(slow))
        print()


# -- files --------------------------------------------------------------------------


def write_json(results: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2, sort_keys=False, default=str) + "\n")
    tmp.replace(RESULTS)


def _plumbing(function: str, path: str) -> bool:
    """Frames every sample passes through (decorators, entry points): not informative."""
    return (
        "<locals>.decorator" in function
        or path in ("exchange/__main__.py", "exchange/cli.py")
        or (path == "exchange/worker.py" and function == "run")
    )


def _noise_sentence(results: dict) -> str:
    loads = other_loads(results["databases"])
    if not loads:
        return ""
    return (
        f" In this run other processes used up to {max(loads) * 100:.0f} % of the CPU time "
        f"during a measurement (median {sorted(loads)[len(loads) // 2] * 100:.0f} %)."
    )


def _generated(results: dict) -> str:
    m = results["machine"]
    dbs = ", ".join(DB_NAMES[d] for d in results["databases"])
    lines = [
        BEGIN,
        "",
        f"Last run: {results['finished_at']} UTC, `{results['command']}` "
        f"({results['mode']} mode, {dbs}), {results['seconds'] / 60:.1f} minutes"
        + (f"; exchange {results['exchange_version']}" if results.get("exchange_version") else "")
        + (f", commit {results['exchange_commit']}" if results.get("exchange_commit") else "")
        + ".",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB memory, Linux "
        f"{m['kernel']}, load average {m['load_average_at_start']} at the start; Python "
        f"{m['python']}, SQLite {m['sqlite']}"
        + (f", PostgreSQL {results['postgres_version']}" if results.get("postgres_version") else "")
        + f", gunicorn {m['gunicorn']}, {m['wrk']}.",
        "",
        "### Figures",
        "",
        "Throughput counts 2xx answers only (wrk, 2 threads, 16 connections, "
        f"{results['settings']['wrk_seconds']} s per figure); ratios are to the mean of the "
        "ceiling app's runs just before and just after the exchange's HTTP figures, on the "
        "same database. `[others N %]` marks a figure during which processes outside the "
        "bench used N % of the machine's CPU time." + _noise_sentence(results),
        "",
    ]
    header, rows = figure_rows(results)
    lines += [md_table(header, rows), "", "### Goals of issue 8", ""]
    g = goals(results)
    lines.append(
        md_table(
            ["database", "goal", "target", "this run", "verdict", "note"],
            [
                [x["database"], x["goal"], x["target"], x["value"], x["verdict"], x["note"]]
                for x in g
            ],
        )
    )
    header, rows = statement_rows(results)
    if rows:
        lines += [
            "",
            "### SQL statements per operation",
            "",
            "Counted in-process on the bench instance (second of two identical calls; the "
            "deliveries row is one `deliver_due` round).",
            "",
            md_table(header, rows),
        ]
    slow = slow_rows(results)
    if slow:
        lines += ["", "### Where the time goes at the largest size", "", *slow]
    profiles = {
        db: r.get("profiles") for db, r in results["databases"].items() if r.get("profiles")
    }
    if profiles:
        lines += [
            "",
            "### Profiles",
            "",
            "Share of the sampled time spent in (inclusive) each exchange function: py-spy "
            "on one web worker or the delivery worker under the same load, pyinstrument "
            "around the deadline scan.",
            "",
        ]
        for db, phases in profiles.items():
            for phase, p in phases.items():
                if not (p.get("samples") or p.get("ms")):
                    continue
                size = f"{p['samples']} samples" if p.get("samples") else f"{p['ms']:.0f} ms"
                rows = [x for x in p["exchange"] if not _plumbing(x[0], x[1])]
                top = "; ".join(f"`{f}` ({path}) {s} %" for f, path, s in rows[:8])
                lines.append(f"- {DB_NAMES[db]}, {phase} ({size}): {top}")
    lines += [
        "",
        "### Reproduce",
        "",
        "```",
        "make bench                               # both databases, full run",
        "python -m bench --quick --db sqlite      # smoke check, under 3 minutes",
        "python -m bench --db postgres --profile  # adds py-spy profiles of each phase",
        "```",
        "",
        END,
    ]
    return "\n".join(lines)


TEMPLATE_HEAD = """# Benchmarks

How fast the exchange is on the machine it runs on, always as a ratio to a ceiling
measured in the same run on the same machine (see issue 8). Produced by `make bench`
(`python -m bench`); the section between the markers below is regenerated by every run,
the rest of this page is written by hand.

"""


def write_doc(results: dict) -> None:
    generated = _generated(results)
    if DOC.exists():
        text = DOC.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            DOC.write_text(head + generated + tail)
            return
    DOC.write_text(TEMPLATE_HEAD + "## Latest results\n\n" + generated + "\n")
