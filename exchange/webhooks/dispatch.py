"""The worker's webhook round: claim due deliveries, post them, record what happened.

Claims take a lease (``lease_until``) in their own short transaction, with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers on several machines share
the outbox; a worker that dies mid-delivery loses nothing: its lease runs out and
another worker sends the message again (receivers de-duplicate by ``webhook-id``).
Posting happens outside any transaction, in a small thread pool.
"""

from __future__ import annotations

import logging
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import and_, exists, func, or_, select, text
from sqlalchemy.orm import aliased, selectinload

from exchange import clock
from exchange.db import db, transaction
from exchange.members.models import Member, MemberStatus
from exchange.webhooks import service
from exchange.webhooks.models import (
    PENDING,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    WebhookEndpoint,
)
from exchange.webhooks.sender import Pool, Result, post
from exchange.webhooks.signals import endpoint_disabled, endpoint_failing
from exchange.webhooks.signing import signature_header

log = logging.getLogger(__name__)

# Waits after failed attempts 1..7 (then it has failed for good): at once, 5 s, 5 min,
# 30 min, 2 h, 5 h, 10 h, 10 h. WEBHOOK_RETRY_SCHEDULE replaces it (seconds).
RETRY_DELAYS = [timedelta(seconds=s) for s in (5, 300, 1800, 7200, 18000, 36000, 36000)]
MAX_RETRY_AFTER = timedelta(hours=10)
WARN_AFTER = timedelta(days=1)
DISABLE_AFTER = timedelta(days=5)

# Kept for the life of the worker process: its sending threads and the keep-alive
# connections they share (a new pool and new connections every round cost a fifth of
# the worker's time).
_CONNECTIONS = Pool()
_THREADS: dict[int, ThreadPoolExecutor] = {}


def _threads(count: int) -> ThreadPoolExecutor:
    if count not in _THREADS:
        _THREADS[count] = ThreadPoolExecutor(max_workers=count, thread_name_prefix="webhooks")
    return _THREADS[count]


def claim(*, now: datetime, limit: int, lease: timedelta) -> list[int]:
    """Lease up to ``limit`` due deliveries, each the oldest pending one of its case for
    its endpoint (so a failing event holds back later events of that case only)."""
    earlier = aliased(Delivery)
    blocked = exists().where(
        and_(
            earlier.endpoint_id == Delivery.endpoint_id,
            earlier.case_id == Delivery.case_id,
            earlier.sequence < Delivery.sequence,
            # Spelled so that PostgreSQL cannot read the earlier ones from the partial
            # index of pending deliveries: when its statistics lag behind a burst it
            # took that index for nearly empty and scanned all of it for every
            # candidate (150 ms a claim with 6,000 pending). Probing the order index
            # by endpoint, case and sequence costs the same with any backlog.
            func.coalesce(earlier.status, "") == DeliveryStatus.pending,
        )
    )
    stmt = (
        select(Delivery)
        .join(WebhookEndpoint)
        .join(Member, Member.id == WebhookEndpoint.member_id)
        .where(
            text(f"webhook_deliveries.{PENDING}"),
            Delivery.next_attempt_at <= now,
            or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
            WebhookEndpoint.enabled.is_(True),
            # A suspended member's deliveries are held (like a disabled endpoint's):
            # neither sent nor counted as attempts, they go out once it is reactivated.
            Member.status != MemberStatus.suspended,
            ~blocked,
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    # Idle rounds stay read-only: a cheap look through the due index first, so an idle
    # worker does not take SQLite's write lock many times a second.
    anything = (
        select(Delivery.id)
        .where(text(f"webhook_deliveries.{PENDING}"), Delivery.next_attempt_at <= now)
        .limit(1)
    )
    if db.session.scalar(anything) is None:
        return []
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=Delivery)
    with transaction():
        rows = list(db.session.scalars(stmt))
        for delivery in rows:
            delivery.lease_until = now + lease
        return [d.id for d in rows]


def _retry_after(value: str | None, now: datetime) -> timedelta | None:
    if not value:
        return None
    try:
        wait = timedelta(seconds=int(value))
    except ValueError:
        try:
            wait = parsedate_to_datetime(value) - now
        except (TypeError, ValueError):
            return None
    return max(timedelta(0), min(wait, MAX_RETRY_AFTER))


def retry_schedule() -> list[timedelta]:
    """The waits after each failed attempt: WEBHOOK_RETRY_SCHEDULE (seconds), if set."""
    configured = current_app.config.get("WEBHOOK_RETRY_SCHEDULE")
    if configured is None:
        return RETRY_DELAYS
    return [timedelta(seconds=float(s)) for s in configured]


def next_delay(
    attempts: int, retry_after: timedelta | None, rng=random, schedule=None
) -> timedelta | None:
    """The wait before the next attempt after ``attempts`` failures, or None when done."""
    schedule = RETRY_DELAYS if schedule is None else schedule
    if attempts > len(schedule):
        return None
    delay = schedule[attempts - 1] * rng.uniform(0.8, 1.2)
    return max(delay, retry_after) if retry_after else delay


def _disable(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    endpoint.enabled = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = reason
    log.warning("webhook endpoint %s of %s disabled: %s", endpoint.id, endpoint.member.slug, reason)
    for other in service.subscribed_endpoints([endpoint.member_id], "endpoint.disabled"):
        if other.id == endpoint.id:
            continue
        service.enqueue(
            endpoint=other,
            event_type="endpoint.disabled",
            now=now,
            data={"endpoint": {"id": endpoint.id, "url": endpoint.url, "reason": reason}},
        )
    endpoint_disabled.send(endpoint, reason=reason)


def record(delivery: Delivery, result: Result, now: datetime, rng=random) -> None:
    """Store the attempt and decide what comes next for the delivery and its endpoint."""
    endpoint = delivery.endpoint
    delivery.attempts += 1
    delivery.attempts_since_requeue += 1
    delivery.lease_until = None
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error_class
    next_at = None
    if endpoint.deleted_at is not None:
        # Deleted while this attempt was in flight: whatever it got, nothing follows.
        delivery.status = DeliveryStatus.failed
        delivery.next_attempt_at = None
        delivery.last_error = "endpoint deleted"
    elif result.ok:
        delivery.status = DeliveryStatus.succeeded
        delivery.next_attempt_at = None
        delivery.delivered_at = now
        endpoint.last_success_at = now
        endpoint.failing_since = endpoint.failure_warned_at = None
    elif result.status_code == 410:
        delivery.status = DeliveryStatus.failed
        delivery.next_attempt_at = None
        # A 410 is a failure too: the endpoint fails from now (or from earlier).
        endpoint.failing_since = endpoint.failing_since or now
        # Several deliveries of one round can meet the 410: disable (and tell) once.
        if endpoint.enabled:
            _disable(endpoint, "The receiver answered 410 Gone.", now)
    else:
        delay = next_delay(
            delivery.attempts_since_requeue,
            _retry_after(result.retry_after, now),
            rng,
            retry_schedule(),
        )
        if delay is None:
            delivery.status = DeliveryStatus.failed
            delivery.next_attempt_at = None
        else:
            next_at = delivery.next_attempt_at = now + delay
        endpoint.failing_since = endpoint.failing_since or now
        failing_for = now - endpoint.failing_since
        if failing_for >= DISABLE_AFTER and endpoint.enabled:
            _disable(endpoint, "No successful delivery for 5 days.", now)
        elif failing_for >= WARN_AFTER and endpoint.failure_warned_at is None:
            endpoint.failure_warned_at = now
            endpoint_failing.send(endpoint, since=endpoint.failing_since)
    db.session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            attempted_at=now,
            status_code=result.status_code,
            duration_ms=result.duration_ms,
            error_class=result.error_class,
            response_excerpt=result.excerpt,
            next_attempt_at=next_at,
        )
    )


def _prepare(delivery: Delivery, now: datetime) -> tuple[str, bytes, dict] | Result:
    """What to post, or (when the endpoint's secret cannot be read, e.g. after the
    encryption key changed) a failed ``Result`` for this delivery alone."""
    body = delivery.payload.encode()
    timestamp = int(now.timestamp())
    try:
        secrets_ = service.signing_secrets(delivery.endpoint, now)
    except InvalidToken:
        log.error(
            "webhook endpoint %s: its secret cannot be decrypted; rotate it", delivery.endpoint_id
        )
        return Result(
            None,
            0,
            "secret_unreadable",
            "The endpoint's secret cannot be decrypted with this instance's key; "
            "rotate the secret.",
        )
    headers = {
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_, delivery.message_id, timestamp, body),
    }
    return delivery.endpoint.url, body, headers


def deliver_due(*, now: datetime | None = None) -> int:
    """One round: claim, post in parallel, record. Returns how many were attempted."""
    config = current_app.config
    started = now or clock.now()
    ids = claim(
        now=started,
        limit=config["WORKER_BATCH"],
        lease=timedelta(seconds=config["WORKER_LEASE_SECONDS"]),
    )
    if not ids:
        return 0
    with transaction():
        deliveries = _load(ids)
        order = [d.id for d in deliveries]
        requests = [_prepare(d, started) for d in deliveries]
    timeout = config["WEBHOOK_TIMEOUT_SECONDS"]
    allow_private = bool(config.get("WEBHOOKS_ALLOW_PRIVATE_NETWORKS"))

    def send(request):
        if isinstance(request, Result):
            return request
        url, body, headers = request
        return post(
            url,
            body,
            headers,
            timeout=timeout,
            allow_private=allow_private,
            pool=_CONNECTIONS,
        )

    results = list(_threads(config["WORKER_THREADS"]).map(send, requests))
    finished = now or clock.now()
    with transaction():
        # One query for the round (the rows from before the posts are expired by now).
        loaded = {d.id: d for d in _load(ids)}
        for delivery_id, result in zip(order, results, strict=True):
            record(loaded[delivery_id], result, finished)
    return len(results)


def _load(ids: list[int]) -> list[Delivery]:
    """The round's deliveries with their endpoints (and members), in id order."""
    stmt = (
        select(Delivery)
        .where(Delivery.id.in_(ids))
        .options(selectinload(Delivery.endpoint).selectinload(WebhookEndpoint.member))
        .order_by(Delivery.id)
    )
    return list(db.session.scalars(stmt))
