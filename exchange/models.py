"""Imports every model, so metadata (and Alembic autogenerate) sees the whole schema."""

from exchange.audit.models import AuditEntry
from exchange.auth.models import OAuthClient, OAuthToken
from exchange.cases.models import Attachment, Case, CaseEvent, Note
from exchange.idempotency import IdempotencyKey
from exchange.members.models import (
    Community,
    CommunityMembership,
    Member,
    Product,
    ProductVersion,
    User,
)
from exchange.notifications.models import Message
from exchange.processes.models import Contact, Process, ProcessVersion
from exchange.webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint

__all__ = [
    "Attachment",
    "AuditEntry",
    "Case",
    "CaseEvent",
    "Community",
    "CommunityMembership",
    "Contact",
    "Delivery",
    "DeliveryAttempt",
    "IdempotencyKey",
    "Member",
    "Message",
    "Note",
    "OAuthClient",
    "OAuthToken",
    "Process",
    "ProcessVersion",
    "Product",
    "ProductVersion",
    "User",
    "WebhookEndpoint",
]
