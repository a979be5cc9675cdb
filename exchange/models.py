"""Imports every model, so metadata (and Alembic autogenerate) sees the whole schema."""

from exchange.auth.models import OAuthClient, OAuthToken
from exchange.members.models import (
    Community,
    CommunityMembership,
    Member,
    Product,
    ProductVersion,
    User,
)
from exchange.processes.models import Contact, Process, ProcessVersion

__all__ = [
    "Community",
    "CommunityMembership",
    "Contact",
    "Member",
    "OAuthClient",
    "OAuthToken",
    "Process",
    "ProcessVersion",
    "Product",
    "ProductVersion",
    "User",
]
