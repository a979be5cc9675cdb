"""Standard pieces a member can start a process from, taken from the source documents."""

# Source 003's severity table and 000 §3.3: 1 h / 2 h / 4 h / as negotiated; severity 1 is
# updated hourly until closed and (003) declared by the receiving vendor.
STANDARD_SEVERITIES = [
    {
        "key": "1",
        "name": "Severity 1: down situation",
        "definition": "Production is down or severely impacted with no workaround; business "
        "operations have stopped.",
        "response_minutes": 60,
        "update_minutes": 60,
        "declarable_by": "both",
    },
    {
        "key": "2",
        "name": "Severity 2: loss of primary function",
        "definition": "A primary function is lost or badly degraded; a workaround may exist but "
        "business is impacted.",
        "response_minutes": 120,
        "update_minutes": 240,
        "declarable_by": "both",
    },
    {
        "key": "3",
        "name": "Severity 3: loss of secondary function",
        "definition": "A secondary function is impaired; the product remains usable.",
        "response_minutes": 240,
        "update_minutes": None,
        "declarable_by": "both",
    },
    {
        "key": "4",
        "name": "Severity 4: cosmetic or request",
        "definition": "Cosmetic issues, documentation, questions and enhancement requests.",
        "response_minutes": None,
        "update_minutes": None,
        "declarable_by": "both",
    },
]

DEFAULT_REJECTION_REASONS = [
    {"code": "no_entitlement", "label": "The customer has no support entitlement with us"},
    {"code": "out_of_scope", "label": "The problem is outside this process's scope"},
    {"code": "wrong_vendor", "label": "The problem is not in our product"},
    {"code": "duplicate", "label": "A case for this problem exists already"},
    {"code": "insufficient_information", "label": "Not enough information to engage"},
    {"code": "other", "label": "Other (see the explanation)"},
]

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
