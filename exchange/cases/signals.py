"""Signals the cases package sends: one per event type, named like the event.

Each is sent inside the transaction that changed the case, after the event row was
flushed, as ``signal.send(case, event=event, actor=actor)``. Receivers write rows only
(webhook deliveries, notices, deadline bookkeeping); nothing leaves the process before
the commit.
"""

from blinker import Namespace

_signals = Namespace()

EVENT_TYPES = {
    "case.opened": "A case was opened (the receiver's acknowledgement carries its number).",
    "case.information_requested": "The receiver asked the submitter for information.",
    "case.information_provided": "The submitter answered an information request.",
    "case.accepted": "The receiver accepted the case with its reference and engineer.",
    "case.rejected": "The receiver rejected the case with a reason code.",
    "case.withdrawn": "The submitter withdrew the case before it was accepted.",
    "case.engineer_assigned": "A side named another engineer for the case.",
    "case.escalated": "A side escalated; the escalation managers are paired.",
    "case.escalation_manager_assigned": "A side named or replaced its own escalation "
    "manager for the case.",
    "case.severity_changed": "The severity changed, with a business-impact statement.",
    "case.note_added": "A note was added.",
    "case.note_redacted": "A note's text was redacted, leaving a tombstone.",
    "case.attachment_added": "A file was attached.",
    "case.resolved": "The receiver resolved the case.",
    "case.closed": "The submitter closed the case.",
    "case.reopened": "The submitter reopened a resolved or closed case.",
    "case.reference_set": "A side set its own tracker's reference for the case.",
    "case.response_overdue": "The receiver's response commitment passed without a response.",
    "case.update_overdue": "An update the severity's cadence asks for is overdue.",
    "case.product_obsolete": "The product version the case names reached its end of support.",
}

SIGNALS = {name: _signals.signal(name, doc=text) for name, text in EVENT_TYPES.items()}

case_event = _signals.signal(
    "case.event",
    doc="Any case event (sent after the type's own signal), for receivers that "
    "handle every type alike, such as webhook deliveries.",
)
