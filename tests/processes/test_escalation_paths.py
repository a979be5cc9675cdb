"""An escalation path per severity (source 000 §3.5: severity 1 pages a manager, after two
hours a VP; lower severities escalate later): the content that says it, the rule that
picks a severity's path, the editor that writes it, the diff and the API's JSON schema."""

from __future__ import annotations

import pytest

from exchange.auth.actor import actor_for_user
from exchange.db import transaction
from exchange.demo import load_demo
from exchange.members import service as members
from exchange.processes import service as processes
from exchange.processes.diff import diff_content
from exchange.processes.escalation import path_for
from exchange.processes.service import load_content
from tests.processes.test_content import errors_of, sample_content
from tests.web.test_admin_pages import form_fields

PER_SEVERITY = [
    {"name": "Manager", "after_minutes": 60, "contacts": [1], "severities": ["1"]},
    {"name": "VP", "after_minutes": 180, "contacts": [2], "severities": ["1"]},
    {"name": "Lower", "after_minutes": 30, "contacts": [1], "severities": ["2", "3"]},
    {"name": "Default", "after_minutes": 0, "contacts": [1]},
]


def test_tiers_name_the_severities_whose_path_they_belong_to():
    content = load_content(sample_content(escalation_path=PER_SEVERITY))
    assert content["escalation_path"] == PER_SEVERITY

    def names(severity):
        return [t["name"] for t in path_for(content, severity)]

    assert names("1") == ["Manager", "VP"]
    assert names("2") == names("3") == ["Lower"]
    assert names("4") == ["Default"]  # no path of its own: the default path


def test_a_single_path_keeps_applying_to_every_severity():
    # A process written before paths per severity: loaded unchanged, one path for all.
    single = [
        {"name": "Manager", "after_minutes": 60, "contacts": [1]},
        {"name": "Director", "after_minutes": 120, "contacts": [2]},
    ]
    content = load_content(sample_content(escalation_path=single))
    assert content["escalation_path"] == single
    for severity in ("1", "2", "3", "4"):
        assert path_for(content, severity) == single
    # An empty list is the default path too, spelled the same way.
    listed = load_content(
        sample_content(escalation_path=[dict(single[0], severities=[]), single[1]])
    )
    assert listed["escalation_path"] == single


@pytest.mark.parametrize(
    ("tiers", "path"),
    [
        (
            [{"after_minutes": 60, "contacts": [1], "severities": ["9"]}],
            "escalation_path.0.severities.0",
        ),
        (
            [{"after_minutes": 60, "contacts": [1], "severities": ["1", "1"]}],
            "escalation_path.0.severities.1",
        ),
        (
            [{"after_minutes": 60, "contacts": [1], "severities": ["Not a key"]}],
            "escalation_path.0.severities.0",
        ),
        (
            # Severity 1's own path runs backwards (tiers of other paths between).
            [
                {"after_minutes": 180, "contacts": [1], "severities": ["1"]},
                {"after_minutes": 30, "contacts": [1], "severities": ["3"]},
                {"after_minutes": 60, "contacts": [1], "severities": ["1", "2"]},
            ],
            "escalation_path.2.after_minutes",
        ),
    ],
)
def test_bad_severity_paths_are_refused_naming_the_tier(tiers, path):
    errors = errors_of(sample_content(escalation_path=tiers))
    assert path in errors, errors


def test_paths_are_ordered_each_on_its_own():
    # Severity 3's tier at 30 minutes after severity 1's at 180 is in order: other paths.
    load_content(sample_content(escalation_path=PER_SEVERITY))


def test_the_diff_shows_a_tier_moving_to_another_severity():
    old = load_content(sample_content(escalation_path=PER_SEVERITY))
    new = load_content(sample_content(escalation_path=PER_SEVERITY))
    new["escalation_path"][2]["severities"] = ["3", "4"]
    [change] = diff_content(old, new)
    assert change["path"] == "escalation_path"
    assert change["to"][2]["severities"] == ["3", "4"]


def test_the_api_schema_documents_the_tier_severities(client):
    spec = client.get("/api/v1/openapi.json").json
    tier = spec["components"]["schemas"]["TierIn"]
    assert tier["properties"]["severities"]["type"] == "array"
    assert "default path" in tier["properties"]["severities"]["description"]


def test_the_editor_writes_a_path_per_severity(client, login, make_user, db_session):
    admin = make_user(roles=["admin"], name="Ada Admin")
    actor = actor_for_user(admin)
    with transaction():
        manager = processes.create_contact(
            actor=actor, member=admin.member, data={"name": "Max", "role": "escalation_manager"}
        )
        vp = processes.create_contact(
            actor=actor, member=admin.member, data={"name": "Vera", "role": "support_manager"}
        )
        process = processes.create_process(
            actor=actor,
            member=admin.member,
            content=sample_content(
                escalation_path=[{"name": "Manager", "after_minutes": 60, "contacts": [manager.id]}]
            ),
        )
    login(admin)
    url = f"/admin/processes/{process.id}/draft"
    page = client.get(url).get_data(as_text=True)
    fields = form_fields(page, "draft-form")
    # Every tier offers the process's severities; none ticked is the default path.
    assert 'name="escalation_path.0.severities" value="1"' in page
    assert "escalation_path.0.severities" not in fields
    fields.update(
        {
            "escalation_path.0.severities": ["1"],
            "escalation_path.1.name": ["VP"],
            "escalation_path.1.after_minutes": ["180"],
            "escalation_path.1.contacts": [str(vp.id)],
            "escalation_path.1.severities": ["1"],
            "escalation_path.2.name": ["Later"],
            "escalation_path.2.after_minutes": ["600"],
            "escalation_path.2.contacts": [str(manager.id)],
        }
    )
    saved = client.post(url, data={**fields, "action": "save"})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    draft = processes.draft_of(process)
    db_session.refresh(draft)
    assert draft.content["escalation_path"] == [
        {"name": "Manager", "after_minutes": 60, "contacts": [manager.id], "severities": ["1"]},
        {"name": "VP", "after_minutes": 180, "contacts": [vp.id], "severities": ["1"]},
        {"name": "Later", "after_minutes": 600, "contacts": [manager.id]},
    ]
    # The saved ticks come back checked; a bad one is shown at its tier.
    page = client.get(url).get_data(as_text=True)
    fields = form_fields(page, "draft-form")
    assert fields["escalation_path.1.severities"] == ["1"]
    fields["escalation_path.1.after_minutes"] = ["30"]
    bad = client.post(url, data={**fields, "action": "save"})
    assert bad.status_code == 422
    assert 'id="f-escalation_path-1-after_minutes-error"' in bad.get_data(as_text=True)


def test_the_directory_profile_shows_which_severities_a_tier_serves(app, client, login):
    load_demo()
    login(members.find_user_by_email(email="ed@acme.example"), app.config["DEMO_PASSWORD"])
    page = client.get("/directory/globex").get_data(as_text=True)
    assert "severity 1: after 60 min · Escalation manager" in page
    assert "severity 1: after 180 min · Duty manager" in page
    assert "severity 2: after 240 min" in page
    assert "<li>after 480 min · Escalation manager" in page
