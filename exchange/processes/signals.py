"""Signals the processes package sends."""

from blinker import Namespace

_signals = Namespace()

process_published = _signals.signal("process-published")
"""A process version was published. Sent inside the publishing transaction with
``sender=ProcessVersion`` instance and ``actor``; receivers write rows only (webhook
deliveries, notices), never talk to the outside world before the commit."""
