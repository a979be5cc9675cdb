"""OAuth2 scopes a program may hold, and the scopes a signed-in person's roles imply."""

from exchange.members.models import Role

SCOPES: dict[str, str] = {
    "directory:read": "Read the member directory, processes, contacts and products.",
    "processes:write": "Maintain the member's own processes, contacts and products.",
    "cases:read": "Read cases the member is party to.",
    "cases:write": "Open and work cases the member is party to.",
    "webhooks:manage": "Manage the member's webhook endpoints and deliveries.",
    "members:admin": "Administer the member's profile, users and API clients.",
}

# A person in the web UI (or calling the API with a session cookie) holds the scopes of
# their roles, so the API and the pages enforce one set of rules.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.engineer: frozenset({"directory:read", "cases:read", "cases:write"}),
    Role.escalation_manager: frozenset({"directory:read", "cases:read", "cases:write"}),
    Role.admin: frozenset(SCOPES),
}


def scopes_for_roles(roles) -> frozenset[str]:
    granted: set[str] = {"directory:read"}
    for role in roles:
        granted |= ROLE_SCOPES.get(role, frozenset())
    return frozenset(granted)


def parse_scopes(value: str | list[str] | None) -> list[str]:
    """Split a space-separated (or list) scope value, keeping order and dropping repeats."""
    items = value.split() if isinstance(value, str) else list(value or [])
    return list(dict.fromkeys(items))
