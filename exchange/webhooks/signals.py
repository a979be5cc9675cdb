"""Signals the webhooks package sends."""

from blinker import Namespace

_signals = Namespace()

endpoint_failing = _signals.signal(
    "endpoint-failing",
    doc=(
        "An endpoint has had no successful delivery for a day. Sent once per failing spell "
        "with sender=WebhookEndpoint and ``since``; notices to its member's admins."
    ),
)

endpoint_disabled = _signals.signal(
    "endpoint-disabled",
    doc=(
        "An endpoint was disabled (410 Gone, or five days without success). Sent with "
        "sender=WebhookEndpoint and ``reason``."
    ),
)

# Administrative changes of a member's endpoints, each sent inside the transaction of
# the change with sender=WebhookEndpoint and ``actor``; the audit log records them.
# None of them carries a secret.

endpoint_created = _signals.signal("endpoint-created", doc="An endpoint was registered.")

endpoint_updated = _signals.signal(
    "endpoint-updated",
    doc="An endpoint was changed (also enabled or disabled by its admins); "
    "``changes`` {field: {from, to}}.",
)

endpoint_secret_rotated = _signals.signal(
    "endpoint-secret-rotated",
    doc="An endpoint's signing secret was replaced; ``grace_seconds`` the old one keeps signing.",
)

endpoint_deleted = _signals.signal(
    "endpoint-deleted", doc="An endpoint was deleted; its pending deliveries are given up."
)
