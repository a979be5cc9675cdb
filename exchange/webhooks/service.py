"""Webhook endpoints, the outbox of deliveries, and replay.

A member's admins (scope ``webhooks:manage``) register endpoints; receivers of the case
and process signals call ``enqueue`` inside the transaction of the change, so a
delivery exists exactly when the change was committed. ``exchange worker`` sends them.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from exchange import clock
from exchange.cases.signals import EVENT_TYPES as CASE_EVENT_TYPES
from exchange.db import db, get_by_id
from exchange.errors import Conflict, NotFound, ValidationFailed
from exchange.members import service as members
from exchange.pagination import Page, paginate
from exchange.webhooks import signing, ssrf, wakeup
from exchange.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, WebhookEndpoint
from exchange.webhooks.signals import (
    endpoint_created,
    endpoint_deleted,
    endpoint_secret_rotated,
    endpoint_updated,
)

EVENT_TYPES: dict[str, str] = {
    **CASE_EVENT_TYPES,
    "process.published": "A member published a process version you may use.",
    "product.end_of_support_approaching": "One of your product versions reaches its end of "
    "support soon (90 days ahead by default).",
    "endpoint.disabled": "One of your member's endpoints was disabled after failing.",
    "ping": "A test message you asked for.",
}
RECOVER_CAP = 10_000


def matches(patterns: list[str], event_type: str) -> bool:
    """Exact types, ``prefix.*`` wildcards, or ``*``."""
    for pattern in patterns:
        if pattern in ("*", event_type):
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def _allow_private() -> bool:
    return bool(current_app.config.get("WEBHOOKS_ALLOW_PRIVATE_NETWORKS"))


def _check(data: dict) -> None:
    errors: dict[str, list[str]] = {}
    if "url" in data:
        try:
            ssrf.resolve(data["url"], allow_private=_allow_private())
        except ssrf.RefusedURL as exc:
            errors["url"] = [str(exc)]
    for i, pattern in enumerate(data.get("event_types") or []):
        if not any(matches([pattern], t) for t in EVENT_TYPES):
            errors[f"event_types.{i}"] = [f"No event type matches {pattern!r}."]
    if "event_types" in data and not data["event_types"]:
        errors["event_types"] = ["Subscribe to at least one event type (or '*')."]
    for i, slug in enumerate(data.get("partners") or []):
        try:
            members.get_member(slug=slug)
        except NotFound:
            errors[f"partners.{i}"] = [f"No member {slug!r}."]
    if errors:
        raise ValidationFailed("The endpoint has invalid fields.", errors=errors)


def _require_manager(actor) -> None:
    actor.require("webhooks:manage")


def create_endpoint(
    *,
    actor,
    url: str,
    event_types: list[str],
    description: str = "",
    partners: list[str] | None = None,
    enabled: bool = True,
    exclude_own_changes: bool = True,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its secret (shown this once)."""
    _require_manager(actor)
    data = {"url": url, "event_types": event_types, "partners": partners or []}
    _check(data)
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(
        member=actor.member,
        url=url,
        description=description,
        event_types=event_types,
        partners=partners or [],
        enabled=enabled,
        exclude_own_changes=exclude_own_changes,
        secret_encrypted=signing.encrypt(secret),
    )
    db.session.add(endpoint)
    db.session.flush()
    endpoint_created.send(endpoint, actor=actor)
    return endpoint, secret


def list_endpoints(*, actor) -> list[WebhookEndpoint]:
    _require_manager(actor)
    return list(
        db.session.scalars(
            select(WebhookEndpoint)
            .where(
                WebhookEndpoint.member_id == actor.member.id, WebhookEndpoint.deleted_at.is_(None)
            )
            .order_by(WebhookEndpoint.id)
        )
    )


def get_endpoint(*, actor, endpoint_id: int) -> WebhookEndpoint:
    _require_manager(actor)
    endpoint = get_by_id(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.member_id != actor.member.id or endpoint.deleted_at:
        raise NotFound(f"No webhook endpoint {endpoint_id}.")
    return endpoint


def update_endpoint(*, actor, endpoint: WebhookEndpoint, changes: dict) -> WebhookEndpoint:
    _require_manager(actor)
    _check(changes)
    before = {key: getattr(endpoint, key) for key in changes}
    for key, value in changes.items():
        setattr(endpoint, key, value)
    if changes.get("enabled"):
        # Re-enabled: what is pending goes out again, from the oldest.
        endpoint.disabled_at = endpoint.disabled_reason = None
        endpoint.failing_since = endpoint.failure_warned_at = None
    db.session.flush()
    changed = {
        key: {"from": before[key], "to": value}
        for key, value in changes.items()
        if before[key] != value
    }
    if changed:
        endpoint_updated.send(endpoint, actor=actor, changes=changed)
    return endpoint


def delete_endpoint(*, actor, endpoint: WebhookEndpoint, now: datetime | None = None) -> None:
    """Remove an endpoint; its pending deliveries are given up (the log stays)."""
    _require_manager(actor)
    now = now or clock.now()
    endpoint.deleted_at = now
    endpoint.enabled = False
    db.session.execute(
        update(Delivery)
        .where(Delivery.endpoint_id == endpoint.id, Delivery.status == DeliveryStatus.pending)
        .values(status=DeliveryStatus.failed, last_error="endpoint deleted", lease_until=None)
    )
    db.session.flush()
    endpoint_deleted.send(endpoint, actor=actor)


def rotate_secret(
    *,
    actor,
    endpoint: WebhookEndpoint,
    grace_seconds: int | None = None,
    now: datetime | None = None,
) -> str:
    """A new secret (returned once). The old one keeps signing too for the grace period
    (WEBHOOK_ROTATION_GRACE_SECONDS by default; 0 retires it at once, for a leak)."""
    _require_manager(actor)
    now = now or clock.now()
    if grace_seconds is None:
        grace_seconds = current_app.config["WEBHOOK_ROTATION_GRACE_SECONDS"]
    secret = signing.new_secret()
    if grace_seconds > 0:
        endpoint.previous_secret_encrypted = endpoint.secret_encrypted
        endpoint.previous_secret_expires_at = now + timedelta(seconds=grace_seconds)
    else:
        endpoint.previous_secret_encrypted = endpoint.previous_secret_expires_at = None
    endpoint.secret_encrypted = signing.encrypt(secret)
    db.session.flush()
    endpoint_secret_rotated.send(endpoint, actor=actor, grace_seconds=grace_seconds)
    return secret


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    found = [signing.decrypt(endpoint.secret_encrypted)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_encrypted and expires and expires > now:
        found.append(signing.decrypt(endpoint.previous_secret_encrypted))
    return found


# -- the outbox ---------------------------------------------------------------------


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def enqueue(
    *,
    endpoint: WebhookEndpoint,
    event_type: str,
    data: dict,
    now: datetime,
    case_id: int | None = None,
    sequence: int | None = None,
) -> Delivery:
    """Write one delivery: the envelope's bytes are fixed now and sent as they are."""
    message_id = new_message_id()
    envelope = {"id": message_id, "type": event_type, "timestamp": now.isoformat(), "data": data}
    delivery = Delivery(
        endpoint=endpoint,
        message_id=message_id,
        event_type=event_type,
        case_id=case_id,
        sequence=sequence,
        payload=json.dumps(envelope, separators=(",", ":"), default=str),
        status=DeliveryStatus.pending,
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(delivery)
    wakeup.announce()
    return delivery


def redact_note(*, case_id: int, note) -> int:
    """Take a redacted note's text out of every delivery that carries it, whatever its
    status: the delivery log shows the tombstone, and a pending retry, a manual retry or
    a recovery sends it (same ``webhook-id``; the signature is made at each attempt).
    Returns how many deliveries were rewritten. What was delivered before cannot be
    called back: the ``case.note_redacted`` message asks trackers to drop their copy."""
    tombstone = {"body": note.body, "redacted_at": note.redacted_at.isoformat()}
    with db.session.no_autoflush:  # the redaction's own event is written at commit
        carrying = db.session.scalars(
            select(Delivery).where(
                Delivery.case_id == case_id, Delivery.event_type == "case.note_added"
            )
        )
        count = 0
        for delivery in carrying:
            envelope = json.loads(delivery.payload)
            copy = envelope["data"]["event"]["data"].get("note")
            if not isinstance(copy, dict) or copy.get("id") != note.id:
                continue
            original = copy.get("body") or ""
            copy.update(tombstone)
            delivery.payload = json.dumps(envelope, separators=(",", ":"), default=str)
            _redact_excerpts(delivery, original, note.body)
            count += 1
    return count


def _redact_excerpts(delivery: Delivery, original: str, tombstone: str) -> None:
    """A receiver that echoed the message (an error page quoting the request) put the
    text into the attempt log too."""
    quoted = json.dumps(original)[1:-1]  # as it stood in the JSON body
    for attempt in db.session.scalars(
        select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id)
    ):
        excerpt = attempt.response_excerpt or ""
        for form in {original, quoted} - {""}:
            excerpt = excerpt.replace(form, tombstone)
        attempt.response_excerpt = excerpt


def subscribed_endpoints(member_ids: list[int] | None, event_type: str) -> list[WebhookEndpoint]:
    """Endpoints of these members (None: of every member) whose filter takes
    ``event_type``. Disabled endpoints are included: their deliveries wait, and go out
    when the endpoint is enabled again, so a disabled spell loses nothing."""
    # Looked up once per transaction and set of members: a deadline scan announces a
    # hundred events of the same few members in one transaction.
    cache = db.session.info.setdefault(_ENDPOINTS, {})
    key = tuple(sorted(member_ids)) if member_ids is not None else None
    if key not in cache:
        stmt = select(WebhookEndpoint).where(WebhookEndpoint.deleted_at.is_(None))
        if member_ids is not None:
            stmt = stmt.where(WebhookEndpoint.member_id.in_(member_ids))
        with db.session.no_autoflush:  # the event being announced is written at commit
            cache[key] = list(db.session.scalars(stmt.order_by(WebhookEndpoint.id)))
    return [e for e in cache[key] if e.deleted_at is None and matches(e.event_types, event_type)]


_ENDPOINTS = "exchange.subscribed_endpoints"


@event.listens_for(Session, "after_transaction_end")
def _forget_endpoints(session, transaction) -> None:
    # Endpoints created, changed or deleted meanwhile are read again by the next one
    # (only at the end of the whole transaction: each flush ends one of its own).
    if transaction.parent is None:
        session.info.pop(_ENDPOINTS, None)
        session.info.pop(wakeup.SENT, None)


@event.listens_for(WebhookEndpoint, "init")
def _new_endpoint(target, args, kwargs) -> None:
    # An endpoint registered in the middle of a transaction takes its events at once.
    if db.session.registry.has():
        db.session.info.pop(_ENDPOINTS, None)


def ping(*, actor, endpoint: WebhookEndpoint, now: datetime | None = None) -> Delivery:
    _require_manager(actor)
    now = now or clock.now()
    delivery = enqueue(
        endpoint=endpoint,
        event_type="ping",
        now=now,
        data={"member": actor.member.slug, "endpoint": endpoint.id},
    )
    db.session.flush()
    return delivery


def list_deliveries(
    *,
    actor,
    endpoint: WebhookEndpoint,
    status: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page:
    """The endpoint's delivery log, newest first."""
    _require_manager(actor)
    if endpoint.member_id != actor.member.id:
        raise NotFound(f"No webhook endpoint {endpoint.id}.")
    stmt = select(Delivery).where(Delivery.endpoint_id == endpoint.id)
    if status:
        stmt = stmt.where(Delivery.status == status)
    return paginate(
        stmt, [Delivery.id], limit=limit, cursor=cursor, key_of=lambda d: [d.id], descending=True
    )


def get_delivery(*, actor, delivery_id: int) -> Delivery:
    _require_manager(actor)
    delivery = get_by_id(Delivery, delivery_id)
    if delivery is None or delivery.endpoint.member_id != actor.member.id:
        raise NotFound(f"No delivery {delivery_id}.")
    return delivery


def attempts_of(delivery: Delivery) -> list[DeliveryAttempt]:
    return list(
        db.session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id == delivery.id)
            .order_by(DeliveryAttempt.id)
        )
    )


def _requeue(delivery: Delivery, now: datetime) -> None:
    """Due now on a fresh retry schedule; ``attempts`` keeps counting every attempt."""
    delivery.status = DeliveryStatus.pending
    delivery.attempts_since_requeue = 0
    delivery.next_attempt_at = now
    delivery.lease_until = None


def retry_delivery(*, actor, delivery: Delivery, now: datetime | None = None) -> Delivery:
    """Send a delivery again (same ``webhook-id``), with a fresh retry schedule."""
    _require_manager(actor)
    if delivery.endpoint.deleted_at is not None:
        raise Conflict("The endpoint of this delivery was deleted; nothing can be sent to it.")
    _requeue(delivery, now or clock.now())
    db.session.flush()
    return delivery


def recover(
    *, actor, endpoint: WebhookEndpoint, since: datetime, now: datetime | None = None
) -> int:
    """Re-queue every failed delivery created since ``since`` (at most RECOVER_CAP,
    oldest first); returns how many."""
    _require_manager(actor)
    now = now or clock.now()
    failed = db.session.scalars(
        select(Delivery)
        .where(
            Delivery.endpoint_id == endpoint.id,
            Delivery.status == DeliveryStatus.failed,
            Delivery.created_at >= since,
        )
        .order_by(Delivery.id)
        .limit(RECOVER_CAP)
    )
    count = 0
    for delivery in failed:
        _requeue(delivery, now)
        count += 1
    db.session.flush()
    return count
