"""The demo data set: three members that each publish a realistic support process, with
contacts, products (one obsolete version at least) and a private community; loading it
twice changes nothing."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from exchange.auth.actor import actor_for_user
from exchange.db import db
from exchange.demo import load_demo
from exchange.members import service as members
from exchange.members.models import Community, CommunityMembership, Member, Product, User
from exchange.processes import service as processes
from exchange.processes.escalation import path_for
from exchange.processes.models import Contact, Process, ProcessVersion
from exchange.processes.service import load_content

SLUGS = ("acme", "globex", "initech")


@pytest.fixture()
def demo():
    load_demo()
    return {slug: members.get_member(slug=slug) for slug in SLUGS}


def admin_of(slug: str):
    return actor_for_user(members.find_user_by_email(email=f"admin@{slug}.example"))


def open_process(slug: str):
    """The member's process open to every member."""
    actor = admin_of(slug)
    [process] = [
        p
        for p in processes.list_processes(actor=actor, member=actor.member)
        if processes.current_version(p).content["visibility"] == "all"
    ]
    return process


def counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (
            Member,
            User,
            Contact,
            Product,
            Process,
            ProcessVersion,
            Community,
            CommunityMembership,
        )
    }


def test_each_member_publishes_a_process_with_an_escalation_path_per_severity(demo):
    for slug in SLUGS:
        process = open_process(slug)
        version = processes.current_version(process)
        assert version is not None, slug
        assert version.number == 1
        assert processes.draft_of(process) is None
        content = version.content
        # The published document is valid content (with its contact snapshots as ids).
        as_draft = copy.deepcopy(content)
        for tier in as_draft["escalation_path"]:
            tier["contacts"] = [c["id"] for c in tier["contacts"]]
        assert load_content(as_draft) == as_draft
        assert len(content["severities"]) == 4
        # Source 000 §3.5: severity 1 pages a manager, two hours later a VP-level tier.
        manager, vp = path_for(content, "1")
        assert vp["after_minutes"] - manager["after_minutes"] == 120
        assert manager["contacts"][0]["role"] == "escalation_manager"
        assert vp["contacts"][0]["role"] == "support_manager"
        # Lower severities escalate later, to the manager only.
        firsts = [path_for(content, s)[0]["after_minutes"] for s in ("1", "2", "3", "4")]
        assert firsts == sorted(firsts) and firsts[0] < firsts[1] < firsts[2], slug
        assert all(len(path_for(content, s)) == 1 for s in ("2", "3", "4"))
        for tier in content["escalation_path"]:
            [contact] = tier["contacts"]
            assert contact["name"] and contact["email"].endswith(f"@{slug}.example")
        assert content["intake_fields"], slug


def test_the_coverage_differs_between_members(demo):
    coverage = {
        slug: processes.current_version(open_process(slug)).content["coverage"] for slug in SLUGS
    }

    assert coverage["acme"]["mode"] == "24x7"
    assert coverage["acme"]["hours"] == []
    business = {slug: c for slug, c in coverage.items() if c["mode"] == "business_hours"}
    assert set(business) == {"globex", "initech"}
    assert len({c["time_zone"] for c in business.values()}) == 2
    assert all(c["hours"] for c in business.values())
    assert all(c["time_zone"] != "UTC" for c in business.values())


def test_the_intake_fields_differ_between_members(demo):
    keys = {
        slug: frozenset(
            f["key"] for f in processes.current_version(open_process(slug)).content["intake_fields"]
        )
        for slug in SLUGS
    }

    assert len(set(keys.values())) == 3


def test_each_member_has_contacts(demo):
    for slug, member in demo.items():
        contacts = processes.list_contacts(actor=admin_of(slug), member=member)
        assert len(contacts) >= 2, slug
        assert {c.role for c in contacts} >= {"escalation_manager"}


def test_products_include_an_obsolete_version_and_respect_the_lifecycle(demo):
    obsolete = {
        slug: [
            (p.name, v.version)
            for p, vs in members.products.list_products(member=member, status="obsolete")
            for v in vs
        ]
        for slug, member in demo.items()
    }

    assert any(obsolete.values())
    assert ("Acme Array OS", "5.4") in obsolete["acme"]
    for member in demo.values():
        listed = members.products.list_products(member=member)
        assert listed, member.slug
        for product, _ in listed:
            assert members.products.lifecycle_warnings(product) == [], product.name


def test_the_obsolete_list_over_the_api(demo, api):
    reader = api(demo["globex"], scopes=("directory:read",))

    response = reader.get("/api/v1/members/acme/products?status=obsolete")

    assert response.status_code == 200
    versions = [
        (p["name"], v["version"], v["status"]) for p in response.json for v in p["versions"]
    ]
    assert ("Acme Array OS", "5.4", "obsolete") in versions
    assert all(status == "obsolete" for _, _, status in versions)


def test_initechs_community_process_is_visible_to_globex_but_not_acme(demo, api):
    initech = admin_of("initech")
    [restricted] = [
        p
        for p in processes.list_processes(actor=initech, member=demo["initech"])
        if processes.current_version(p).content["visibility"] == "communities"
    ]
    globex = api(demo["globex"], scopes=("directory:read",))
    acme = api(demo["acme"], scopes=("directory:read",))

    assert globex.get(f"/api/v1/processes/{restricted.id}").status_code == 200
    assert acme.get(f"/api/v1/processes/{restricted.id}").status_code == 404
    assert acme.get(f"/api/v1/processes/{restricted.id}/intake-schema").status_code == 404
    seen_by_globex = {p["id"] for p in globex.get("/api/v1/members/initech/processes").json}
    seen_by_acme = {p["id"] for p in acme.get("/api/v1/members/initech/processes").json}
    assert restricted.id in seen_by_globex
    assert restricted.id not in seen_by_acme
    assert seen_by_acme == seen_by_globex - {restricted.id}
    assert len(seen_by_acme) == 1


def test_the_demo_process_serves_an_intake_schema(demo, api):
    reader = api(demo["globex"], scopes=("directory:read",))
    process = open_process("acme")

    schema = reader.get(f"/api/v1/processes/{process.id}/intake-schema").json

    assert schema["required"] == ["array_serial", "array_os_version"]
    assert schema["properties"]["array_serial"]["pattern"] == "^(?:AC-[0-9]{6})$"


def test_demo_users_can_sign_in_with_the_demo_password(demo, app):
    for slug in SLUGS:
        user = members.find_user_by_email(email=f"admin@{slug}.example")
        assert user.check_password(app.config["DEMO_PASSWORD"])


def test_loading_the_demo_twice_is_idempotent(demo):
    before = counts()
    versions = {
        slug: [(v.number, v.content) for v in processes.published_versions(open_process(slug))]
        for slug in SLUGS
    }

    summary = load_demo()

    assert summary == "nothing to do (all present)"
    assert counts() == before
    assert before["members"] == 3
    assert before["processes"] == 4
    assert before["communities"] == 1
    assert {
        slug: [(v.number, v.content) for v in processes.published_versions(open_process(slug))]
        for slug in SLUGS
    } == versions


def test_only_if_empty_skips_a_database_with_members(demo):
    before = counts()

    assert load_demo(only_if_empty=True).startswith("skipped")
    assert counts() == before


def test_a_fixed_day_lists_the_obsolete_versions_of_that_day(demo):
    [(_, versions)] = members.products.list_products(member=demo["globex"])
    last_day = next(v for v in versions if v.version == "7.0").end_of_support_date
    early = members.products.list_products(member=demo["globex"], status="obsolete", today=last_day)
    later = members.products.list_products(
        member=demo["globex"], status="obsolete", today=last_day + timedelta(days=1)
    )

    assert early == []
    assert [(p.name, [v.version for v in vs]) for p, vs in later] == [
        ("Globex Hypervisor", ["7.0"])
    ]
