"""Services of the members package.

``members`` (members, users and the directory) is re-exported here, so callers write
``from exchange.members import service`` and ``service.get_member(...)``; communities
and products are reached as ``service.communities`` and ``service.products``.
"""

from exchange.members.service import communities, products
from exchange.members.service.members import (
    SLUG_RE,
    create_member,
    create_user,
    find_user_by_email,
    get_member,
    get_user,
    list_users,
    require_admin_of,
    search_members,
    set_member_status,
    set_password,
    update_member,
    update_user,
)

__all__ = [
    "SLUG_RE",
    "communities",
    "create_member",
    "create_user",
    "find_user_by_email",
    "get_member",
    "get_user",
    "list_users",
    "products",
    "require_admin_of",
    "search_members",
    "set_member_status",
    "set_password",
    "update_member",
    "update_user",
]
