"""Who is told by e-mail when something happens elsewhere (rows only, sent later)."""

from __future__ import annotations

from exchange.notifications import service
from exchange.webhooks.signals import endpoint_disabled, endpoint_failing


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


def connect() -> None:
    endpoint_failing.connect(on_endpoint_failing)
    endpoint_disabled.connect(on_endpoint_disabled)
