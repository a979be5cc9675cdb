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
