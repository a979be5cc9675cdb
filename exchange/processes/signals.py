"""Signals the processes package sends."""

from blinker import Namespace

_signals = Namespace()

process_published = _signals.signal("process-published")
"""A process version was published. Sent inside the publishing transaction with
``sender=ProcessVersion`` instance and ``actor``; receivers write rows only (webhook
deliveries, notices), never talk to the outside world before the commit."""

# Administrative changes, each sent inside the transaction of the change with
# ``actor``; the audit log records them.

process_created = _signals.signal(
    "process-created",
    doc="A member created a process (with its first draft); sender=Process.",
)

contact_created = _signals.signal(
    "contact-created", doc="A member added a contact; sender=Contact."
)

contact_updated = _signals.signal(
    "contact-updated",
    doc="A member changed a contact; sender=Contact, ``changes`` {field: {from, to}}.",
)

contact_removed = _signals.signal(
    "contact-removed",
    doc="A member retired a contact (published versions keep their copy); sender=Contact.",
)
