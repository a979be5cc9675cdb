"""Who is told by e-mail when something happens elsewhere (rows only, sent later)."""

from __future__ import annotations

from exchange.cases.models import Note
from exchange.cases.signals import SIGNALS, case_event
from exchange.db import db
from exchange.members.signals import end_of_support_approaching
from exchange.notifications import rules, service
from exchange.webhooks.signals import endpoint_disabled, endpoint_failing


def on_case_event(case, *, event, **_) -> None:
    rules.notify(case, event)


def on_note_redacted(case, *, event, **_) -> None:
    note = db.session.get(Note, event.data["note"])
    service.redact_note(member_ids=[case.submitter_id, case.receiver_id], note=note)


def on_endpoint_failing(endpoint, *, since, **_) -> None:
    for address in service.admin_addresses(endpoint.member):
        service.queue(
            to=address,
            template="endpoint_failing",
            kind="endpoint_failing",
            member=endpoint.member,
            endpoint=endpoint,
            since=since,
            subject=f"Webhook endpoint failing since {since:%Y-%m-%d %H:%M} UTC",
        )


def on_endpoint_disabled(endpoint, *, reason, **_) -> None:
    for address in service.admin_addresses(endpoint.member):
        service.queue(
            to=address,
            template="endpoint_disabled",
            kind="endpoint_disabled",
            member=endpoint.member,
            endpoint=endpoint,
            reason=reason,
            subject="Webhook endpoint disabled",
        )


def on_end_of_support_approaching(version, *, days_left, **_) -> None:
    member = version.product.member
    for address in service.admin_addresses(member):
        service.queue(
            to=address,
            template="end_of_support",
            kind="end_of_support",
            member=member,
            version=version,
            days_left=days_left,
            subject=f"{version.product.name} {version.version}: end of support on "
            f"{version.end_of_support_date.isoformat()}",
        )


def connect() -> None:
    case_event.connect(on_case_event)
    SIGNALS["case.note_redacted"].connect(on_note_redacted)
    end_of_support_approaching.connect(on_end_of_support_approaching)
    endpoint_failing.connect(on_endpoint_failing)
    endpoint_disabled.connect(on_endpoint_disabled)
