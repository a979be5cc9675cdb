"""Every case action, once: used by the API now and by the web pages and trackers alike.

``opening`` opens cases; ``actions`` holds the state changes and pairing; ``notes``
notes and attachments; ``queries`` lists and history; ``common`` what they share.
"""

from exchange.cases.service.actions import (
    accept,
    assign,
    assign_escalation_manager,
    change_severity,
    close,
    escalate,
    provide_information,
    reject,
    reopen,
    request_information,
    resolve,
    set_reference,
    withdraw,
)
from exchange.cases.service.common import etag, get_case, side_of
from exchange.cases.service.notes import (
    add_attachment,
    add_note,
    get_attachment,
    get_note,
    list_attachments,
    list_notes,
    open_attachment,
    redact_note,
)
from exchange.cases.service.opening import open_case
from exchange.cases.service.queries import (
    counts_by_status,
    dashboard,
    list_cases,
    list_events,
)

__all__ = [
    "accept",
    "add_attachment",
    "add_note",
    "assign",
    "assign_escalation_manager",
    "change_severity",
    "close",
    "counts_by_status",
    "dashboard",
    "escalate",
    "etag",
    "get_attachment",
    "get_case",
    "get_note",
    "list_attachments",
    "list_cases",
    "list_events",
    "list_notes",
    "open_attachment",
    "open_case",
    "provide_information",
    "redact_note",
    "reject",
    "reopen",
    "request_information",
    "resolve",
    "set_reference",
    "side_of",
    "withdraw",
]
