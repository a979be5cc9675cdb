"""Demo support processes, contacts, products and a private community.

Three realistic ways of engaging a vendor: Acme answers around the clock, Globex in
Berlin office hours with holidays and declares severity 1 itself (as source 003 asks),
Initech in Indian business hours with a second process only its partner community sees.

Dates are relative to the day the demo is loaded (``products(today)``,
``processes(today)``), so on any day one version of Acme's and of Globex's products is
obsolete, Initech's older version has months of support left, and the holidays lie ahead.
"""

from __future__ import annotations

from datetime import date, timedelta

from exchange.processes.defaults import STANDARD_SEVERITIES


def _severities(**overrides) -> list[dict]:
    levels = [dict(s) for s in STANDARD_SEVERITIES]
    for key, changes in overrides.items():
        next(s for s in levels if s["key"] == key).update(changes)
    return levels


def _paths(*, manager: str, vp: str, first: int = 60) -> list[dict]:
    """Escalation paths per severity (source 000 §3.5): severity 1 pages the escalation
    manager when its response is missed and a VP-level contact two hours later; severity
    2 reaches the manager after four hours; every other severity (the default path)
    after eight. Contacts are positions in the member's CONTACTS."""
    return [
        {"name": manager, "after_minutes": first, "contacts": [0], "severities": ["1"]},
        {"name": vp, "after_minutes": first + 120, "contacts": [1], "severities": ["1"]},
        {"name": manager, "after_minutes": 240, "contacts": [0], "severities": ["2"]},
        {"name": manager, "after_minutes": 480, "contacts": [0]},
    ]


CONTACTS = {
    "acme": [
        {
            "name": "Max Manager",
            "role": "escalation_manager",
            "email": "max@acme.example",
            "phone": "+1 555 0101",
            "time_zone": "America/New_York",
            "user": "max@acme.example",
            "availability": "24x7 via the escalation hotline",
        },
        {
            "name": "Vera VP Support",
            "role": "support_manager",
            "email": "vp-support@acme.example",
            "phone": "+1 555 0102",
            "time_zone": "America/New_York",
            "availability": "Paged for severity 1 after two hours",
        },
    ],
    "globex": [
        {
            "name": "Georg Manager",
            "role": "escalation_manager",
            "email": "georg@globex.example",
            "phone": "+49 30 555 0201",
            "time_zone": "Europe/Berlin",
            "user": "georg@globex.example",
            "availability": "Mon-Fri 08:00-18:00 CET",
        },
        {
            "name": "Globex Duty Manager",
            "role": "support_manager",
            "email": "duty@globex.example",
            "phone": "+49 30 555 0202",
            "time_zone": "Europe/Berlin",
            "availability": "On call outside office hours for sev 1",
        },
    ],
    "initech": [
        {
            "name": "Isha Manager",
            "role": "escalation_manager",
            "email": "isha@initech.example",
            "phone": "+91 80 5550 0301",
            "time_zone": "Asia/Kolkata",
            "user": "isha@initech.example",
            "availability": "Mon-Sat 09:00-21:00 IST",
        },
        {
            "name": "Initech Support Director",
            "role": "support_manager",
            "email": "director@initech.example",
            "phone": "+91 80 5550 0302",
            "time_zone": "Asia/Kolkata",
            "availability": "Escalations after four hours",
        },
    ],
}


def products(today: date) -> dict[str, list[dict]]:
    """Each member's products, with release and end-of-support dates around ``today``."""
    return {
        "acme": [
            {
                "name": "Acme Array OS",
                "description": "Operating system of Acme storage arrays.",
                "versions": [
                    {
                        "version": "5.4",
                        "release_date": today - timedelta(days=2105),
                        "end_of_support_date": today - timedelta(days=523),
                    },
                    {
                        "version": "6.2",
                        "release_date": today - timedelta(days=1038),
                        "end_of_support_date": None,
                    },
                ],
            },
            {
                "name": "Acme Replicator",
                "description": "Array-to-array replication.",
                "versions": [
                    {
                        "version": "2.1",
                        "release_date": today - timedelta(days=572),
                        "end_of_support_date": None,
                    }
                ],
            },
        ],
        "globex": [
            {
                "name": "Globex Hypervisor",
                "description": "Bare-metal hypervisor.",
                "versions": [
                    {
                        "version": "7.0",
                        "release_date": today - timedelta(days=1706),
                        "end_of_support_date": today - timedelta(days=249),
                    },
                    {
                        "version": "8.0",
                        "release_date": today - timedelta(days=460),
                        "end_of_support_date": None,
                    },
                ],
            },
        ],
        "initech": [
            {
                "name": "Initech DB",
                "description": "Relational database server.",
                "versions": [
                    {
                        "version": "12",
                        "release_date": today - timedelta(days=1419),
                        "end_of_support_date": today + timedelta(days=238),
                    },
                    {
                        "version": "13",
                        "release_date": today - timedelta(days=324),
                        "end_of_support_date": None,
                    },
                ],
            },
        ],
    }


def _ahead(today: date, *days: tuple[int, int]) -> list[str]:
    """The next occurrence of each (month, day) from ``today`` on, in date order."""
    dates = []
    for month, day in days:
        this_year = date(today.year, month, day)
        dates.append(this_year if this_year >= today else date(today.year + 1, month, day))
    return [d.isoformat() for d in sorted(dates)]


# Escalation tiers name contacts by their position in CONTACTS[member].
def processes(today: date) -> dict[str, list[dict]]:
    """Each member's published processes; holidays are the next ones after ``today``."""
    return {
        "acme": [
            {
                "name": "Acme storage collaborative support",
                "products": ["Acme Array OS", "Acme Replicator"],
                "engagement_instructions": (
                    "Open a case for any problem where an Acme array or replication may be "
                    "involved.\n\n"
                    "* Include the **array serial number** and the array OS version.\n"
                    "* Upload the support bundle (`Settings > Support > Collect bundle`).\n"
                    "* For severity 1, also call the hotline after opening the case: +1 555 0100."
                ),
                "coverage": {"mode": "24x7"},
                "severities": _severities(),
                "intake_fields": [
                    {
                        "key": "array_serial",
                        "label": "Array serial number",
                        "type": "string",
                        "required": True,
                        "pattern": "AC-[0-9]{6}",
                        "max_length": 9,
                        "section": "problem",
                        "help": "Printed on the front bezel, e.g. AC-123456.",
                    },
                    {
                        "key": "array_os_version",
                        "label": "Array OS version",
                        "type": "string",
                        "required": True,
                        "max_length": 20,
                        "section": "problem",
                    },
                    {
                        "key": "acme_contract",
                        "label": "Customer's Acme contract number",
                        "type": "string",
                        "required": False,
                        "max_length": 30,
                        "section": "customer",
                    },
                    {
                        "key": "problem_started",
                        "label": "Problem started on",
                        "type": "date",
                        "required": False,
                        "section": "problem",
                    },
                ],
                "escalation_path": _paths(manager="Escalation manager", vp="VP of support"),
                "scope": [
                    "Acme arrays and replication in production or test",
                    "Interoperability with hypervisors and databases",
                ],
                "out_of_scope": ["Arrays past end of support", "Third-party disk shelves"],
            }
        ],
        "globex": [
            {
                "name": "Globex hypervisor engagement",
                "products": ["Globex Hypervisor"],
                "engagement_instructions": (
                    "We work cases in Berlin office hours. Severity 1 is declared by Globex after "
                    "triage: open as severity 2 and say why you believe it is a down situation."
                ),
                "coverage": {
                    "mode": "business_hours",
                    "time_zone": "Europe/Berlin",
                    "hours": [
                        {"day": d, "start": "08:00", "end": "18:00"}
                        for d in ("mon", "tue", "wed", "thu", "fri")
                    ],
                    "holidays": _ahead(today, (12, 24), (12, 25), (12, 26), (12, 31), (1, 1)),
                },
                "severities": _severities(**{"1": {"declarable_by": "receiver"}}),
                "intake_fields": [
                    {
                        "key": "hypervisor_version",
                        "label": "Hypervisor version",
                        "type": "select",
                        "required": True,
                        "options": ["7.0", "8.0"],
                        "section": "problem",
                    },
                    {
                        "key": "cluster_hosts",
                        "label": "Hosts in the cluster",
                        "type": "integer",
                        "required": True,
                        "section": "problem",
                    },
                    {
                        "key": "log_bundle_url",
                        "label": "Link to the log bundle",
                        "type": "url",
                        "required": False,
                        "section": "problem",
                        "help": "A link both teams can open.",
                    },
                    {
                        "key": "admin_email",
                        "label": "Customer's virtualization admin",
                        "type": "email",
                        "required": True,
                        "section": "contact",
                    },
                ],
                "escalation_path": _paths(manager="Escalation manager", vp="Duty manager"),
                "scope": ["Globex Hypervisor 8.x and 7.x under support"],
                "out_of_scope": ["Guest operating system problems", "Unsupported hardware"],
            }
        ],
        "initech": [
            {
                "name": "Initech database support",
                "products": ["Initech DB"],
                "engagement_instructions": "Quote the INI error code from the server log.",
                "coverage": {
                    "mode": "business_hours",
                    "time_zone": "Asia/Kolkata",
                    "hours": [
                        {"day": d, "start": "09:00", "end": "21:00"}
                        for d in ("mon", "tue", "wed", "thu", "fri", "sat")
                    ],
                    "holidays": _ahead(today, (1, 26)),
                },
                "severities": _severities(**{"2": {"response_minutes": 180}}),
                "intake_fields": [
                    {
                        "key": "db_version",
                        "label": "Initech DB version",
                        "type": "string",
                        "required": True,
                        "max_length": 10,
                        "section": "problem",
                    },
                    {
                        "key": "error_code",
                        "label": "INI error code",
                        "type": "string",
                        "required": True,
                        "pattern": "INI-[0-9]{5}",
                        "section": "problem",
                        "help": "For example INI-00600.",
                    },
                    {
                        "key": "dba_phone",
                        "label": "Customer DBA phone",
                        "type": "phone",
                        "required": False,
                        "section": "contact",
                    },
                ],
                "escalation_path": _paths(manager="Escalation manager", vp="Support director"),
                "scope": ["Initech DB server and client drivers"],
                "out_of_scope": ["Custom stored procedures"],
            },
            {
                "name": "Initech partner fast lane",
                "products": ["Initech DB"],
                "engagement_instructions": "For members of the Initech partner community only: "
                "cases reach a senior engineer directly.",
                "coverage": {"mode": "24x7"},
                "severities": _severities(**{"1": {"response_minutes": 30}}),
                "intake_fields": [
                    {
                        "key": "db_version",
                        "label": "Initech DB version",
                        "type": "string",
                        "required": True,
                        "max_length": 10,
                        "section": "problem",
                    },
                ],
                "escalation_path": _paths(
                    manager="Escalation manager", vp="Support director", first=30
                ),
                "visibility": "communities",
                "communities": ["initech-partners"],
            },
        ],
    }


COMMUNITIES = [
    {
        "owner": "initech",
        "slug": "initech-partners",
        "name": "Initech partner community",
        "description": "Vendors with a joint support agreement with Initech.",
        "members": ["globex"],
    },
]
