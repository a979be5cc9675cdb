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
