"""Demo data: three members with an admin, two engineers and an escalation manager each.

Idempotent: what exists is left alone, what is missing is created. Every demo user's
password is the ``DEMO_PASSWORD`` setting (``exchange-demo`` unless changed).
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from exchange.db import db
from exchange.members import service as members
from exchange.members.models import Member

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
    """Create the demo members and people that are missing; returns a short summary."""
    if only_if_empty and db.session.scalar(select(Member.id).limit(1)) is not None:
        return "skipped (the database already has members)"
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
    return ", ".join(made) + " created" if made else "nothing to do (all present)"
