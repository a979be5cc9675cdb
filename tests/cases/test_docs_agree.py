"""What docs/webhooks.md and docs/api.md promise about notes in webhooks and about
Idempotency-Key, held against what the exchange does."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from exchange import clock
from exchange.idempotency import forget_old_keys
from tests.cases.conftest import case_count, globex_case

DOCS = Path(__file__).resolve().parents[2] / "docs"


def doc_row(name: str, first_cell: str) -> str:
    """The table row of ``docs/<name>`` whose first cell is ``first_cell``."""
    for line in (DOCS / name).read_text().splitlines():
        if line.startswith(f"| {first_cell} |"):
            return line
    raise AssertionError(f"no row {first_cell} in {name}")


def test_the_note_added_event_is_documented_with_the_note_object(case_world, config_value):
    config_value("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", True)
    hooks = case_world.program(case_world.globex, ("cases:read", "webhooks:manage"))
    endpoint = hooks.post(
        "/api/v1/webhooks/endpoints",
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["case.note_added"]},
    )
    assert endpoint.status_code == 201, endpoint.get_data(as_text=True)
    case_id = case_world.open_case()["id"]
    case_world.acme.api.post(f"/api/v1/cases/{case_id}/notes", json={"body": "Logs attached."})
    (delivery,) = hooks.get(f"/api/v1/webhooks/endpoints/{endpoint.json['id']}/deliveries").json[
        "items"
    ]
    detail = hooks.get(f"/api/v1/webhooks/deliveries/{delivery['id']}").json

    note = json.loads(detail["payload"])["data"]["event"]["data"]["note"]

    row = doc_row("webhooks.md", "`case.note_added`")
    assert isinstance(note, dict) and note["body"] == "Logs attached."
    documented = re.search(r"`data\.event\.data\.note` is the note itself, `(\{[^`]*\})`", row)
    assert documented, row
    assert set(json.loads(documented[1].replace("{", "[").replace("}", "]"))) == set(note)


def test_idempotency_keys_are_documented_to_expire_after_the_setting(app):
    section = (DOCS / "api.md").read_text().split("#### `Idempotency-Key`", 1)[1]
    section = section.split("\n#", 1)[0]

    assert "no expiry" not in section
    assert "`IDEMPOTENCY_KEY_HOURS`" in section
    assert f"{app.config['IDEMPOTENCY_KEY_HOURS']} by\ndefault" in section


def test_an_idempotency_key_older_than_the_setting_is_forgotten(case_world, app):
    """What the docs say: after IDEMPOTENCY_KEY_HOURS the same key opens a new case."""
    headers = {"Idempotency-Key": "acme-SR-1"}
    first = case_world.acme.api.post("/api/v1/cases", json=globex_case(), headers=headers)
    assert first.status_code == 201
    hours = app.config["IDEMPOTENCY_KEY_HOURS"]

    assert forget_old_keys(now=clock.now() + timedelta(hours=hours - 1)) == 0
    replay = case_world.acme.api.post("/api/v1/cases", json=globex_case(), headers=headers)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert forget_old_keys(now=clock.now() + timedelta(hours=hours, minutes=1)) == 1
    before = case_count()
    again = case_world.acme.api.post("/api/v1/cases", json=globex_case(), headers=headers)

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert again.json["id"] != first.json["id"]
    assert case_count() == before + 1
