"""Signals the members package sends."""

from blinker import Namespace

_signals = Namespace()

end_of_support_approaching = _signals.signal(
    "end-of-support-approaching",
    doc=(
        "A product version's end of support is END_OF_SUPPORT_NOTICE_DAYS away (source 000 "
        "§4.2). Sent once per version, inside the scan's transaction, with "
        "sender=ProductVersion and ``days_left``; receivers mail the member's admins and "
        "record a ``product.end_of_support_approaching`` webhook event."
    ),
)

# Administrative changes, each sent inside the transaction of the change with the
# changed object as sender and ``actor`` (None for the operator: command line, demo
# data). The audit log records them; they never carry a password.

member_updated = _signals.signal(
    "member-updated",
    doc="A member admin changed the member's profile; sender=Member, ``changes`` "
    "{field: {from, to}} of what actually changed.",
)

user_created = _signals.signal(
    "user-created",
    doc="A person was added to a member; sender=User, ``invited`` True when an admin "
    "invited them by e-mail (they choose their own password).",
)

user_updated = _signals.signal(
    "user-updated",
    doc="A user was changed (roles, active, profile); sender=User, ``changes`` "
    "{field: {from, to}}, ``by_self`` True when the person changed their own settings.",
)

# Changes of a member's products and communities, named like the audit log's actions;
# each sent inside the transaction of the change as
# ``CATALOGUE_SIGNALS[name].send(obj, actor=actor, changes={...})``.
CATALOGUE_CHANGES = {
    "product.created": "A member added a product (sender=Product).",
    "product.updated": "A member renamed or re-described a product (sender=Product).",
    "product.deleted": "A member deleted a product (sender=Product, before the delete).",
    "product.version_added": "A product got a version (sender=ProductVersion).",
    "product.version_updated": "A product version's dates or name changed (sender=ProductVersion).",
    "product.version_deleted": "A product version was deleted (sender=ProductVersion).",
    "community.created": "A member created a community it owns (sender=Community).",
    "community.member_invited": "The owner invited a member (sender=Community).",
    "community.joined": "A member accepted its invitation (sender=Community).",
    "community.left": "A member left or declined (sender=Community).",
    "community.member_removed": "The owner removed a member or an invitation (sender=Community).",
}
CATALOGUE_SIGNALS = {
    name: _signals.signal(name, doc=text) for name, text in CATALOGUE_CHANGES.items()
}
