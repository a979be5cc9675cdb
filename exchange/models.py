"""Imports every model, so metadata (and Alembic autogenerate) sees the whole schema."""

from exchange.auth.models import OAuthClient, OAuthToken
from exchange.members.models import Member, User

__all__ = ["Member", "OAuthClient", "OAuthToken", "User"]
