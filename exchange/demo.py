"""Demo data: three members with an admin, two engineers and an escalation manager each,
and their contacts, products, published support processes and a private community.

Idempotent: what exists is left alone, what is missing is created. Every demo user's
password is the ``DEMO_PASSWORD`` setting (``exchange-demo`` unless changed).
"""

from __future__ import annotations

import copy

from flask import current_app
from sqlalchemy import select

from exchange import clock, demo_processes
from exchange.auth.actor import actor_for_user
from exchange.db import db
from exchange.members import service as members
from exchange.members.models import Member
from exchange.processes import service as processes
from exchange.processes.models import Contact

DEMO_MEMBERS = [
    {
        "slug": "acme",
        "name": "Acme Storage",
        "tier": "premier",
        "description": "Enterprise storage arrays and replication software.",
        "website": "https://acme.example",
        "email_domains": ["acme.example"],
        "time_zone": "America/New_York",
        "people": [
            ("Alice Admin", "admin", ["admin"]),
            ("Ed Engineer", "ed", ["engineer"]),
            ("Erin Engineer", "erin", ["engineer"]),
            ("Max Manager", "max", ["escalation_manager"]),
        ],
    },
    {
        "slug": "globex",
        "name": "Globex Virtualization",
        "tier": "standard",
        "description": "Hypervisor and virtual infrastructure management.",
        "website": "https://globex.example",
        "email_domains": ["globex.example"],
        "time_zone": "Europe/Berlin",
        "people": [
            ("Greta Admin", "admin", ["admin"]),
            ("Gustav Engineer", "gustav", ["engineer"]),
            ("Gina Engineer", "gina", ["engineer"]),
            ("Georg Manager", "georg", ["escalation_manager"]),
        ],
    },
    {
        "slug": "initech",
        "name": "Initech Database",
        "tier": "basic",
        "description": "Relational database server and tooling.",
        "website": "https://initech.example",
        "email_domains": ["initech.example"],
        "time_zone": "Asia/Kolkata",
        "people": [
            ("Ian Admin", "admin", ["admin"]),
            ("Indira Engineer", "indira", ["engineer"]),
            ("Ivan Engineer", "ivan", ["engineer"]),
            ("Isha Manager", "isha", ["escalation_manager"]),
        ],
    },
]


def load_demo(*, only_if_empty: bool = False) -> str:
    """Create the demo data that is missing; returns a short summary."""
    if only_if_empty and db.session.scalar(select(Member.id).limit(1)) is not None:
        return "skipped (the database already has members)"
    made = _load_people()
    made += _load_support_data()
    return ", ".join(made) + " created" if made else "nothing to do (all present)"


def _load_people() -> list[str]:
    password = current_app.config["DEMO_PASSWORD"]
    made = []
    for spec in DEMO_MEMBERS:
        spec = dict(spec)
        people, time_zone = spec.pop("people"), spec.pop("time_zone")
        member = db.session.scalar(select(Member).where(Member.slug == spec["slug"]))
        if member is None:
            domain = spec["email_domains"][0]
            member = members.create_member(
                **spec,
                support_contact_name=people[0][0],
                support_contact_email=f"support@{domain}",
                support_contact_phone="+1 555 0100",
            )
            made.append(member.slug)
        for name, local, roles in people:
            email = f"{local}@{member.email_domains[0]}"
            if members.find_user_by_email(email=email) is None:
                user = members.create_user(
                    member=member, email=email, name=name, roles=roles, time_zone=time_zone
                )
                user.set_password(password)
                made.append(email)
    return made


def _admin(slug: str):
    return actor_for_user(members.find_user_by_email(email=f"admin@{slug}.example"))


def _load_support_data() -> list[str]:
    # Lifecycle dates and holidays are laid around the day of loading (demo_processes).
    today = clock.today()
    made = []
    contacts: dict[str, list[Contact]] = {}
    for slug, specs in demo_processes.CONTACTS.items():
        actor = _admin(slug)
        existing = {c.email: c for c in processes.list_contacts(actor=actor, member=actor.member)}
        contacts[slug] = []
        for spec in specs:
            contact = existing.get(spec["email"])
            if contact is None:
                contact = processes.create_contact(actor=actor, member=actor.member, data=spec)
                made.append(f"contact {spec['email']}")
            contacts[slug].append(contact)
    for slug, specs in demo_processes.products(today).items():
        actor = _admin(slug)
        names = {p.name for p, _ in members.products.list_products(member=actor.member)}
        for spec in specs:
            if spec["name"] not in names:
                members.products.create_product(actor=actor, member=actor.member, **spec)
                made.append(f"product {spec['name']}")
    for spec in demo_processes.COMMUNITIES:
        owner = _admin(spec["owner"])
        known = {c.slug for c in members.communities.list_communities(actor=owner)}
        if spec["slug"] in known:
            continue
        community = members.communities.create_community(
            actor=owner, slug=spec["slug"], name=spec["name"], description=spec["description"]
        )
        for slug in spec["members"]:
            members.communities.invite(actor=owner, community=community, member_slug=slug)
            members.communities.accept(actor=_admin(slug), community=community)
        made.append(f"community {spec['slug']}")
    for slug, specs in demo_processes.processes(today).items():
        actor = _admin(slug)
        names = {p.name for p in processes.list_processes(actor=actor, member=actor.member)}
        for spec in specs:
            if spec["name"] in names:
                continue
            content = copy.deepcopy(spec)
            for tier in content["escalation_path"]:
                tier["contacts"] = [contacts[slug][i].id for i in tier["contacts"]]
            process = processes.create_process(actor=actor, member=actor.member, content=content)
            processes.publish(actor=actor, process=process)
            made.append(f"process {spec['name']!r}")
    return made
