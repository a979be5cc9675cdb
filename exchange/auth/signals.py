"""Signals the auth package sends: administrative changes of a member's programs and
invitations, each inside the transaction of the change with ``actor`` (None for the
operator at the command line). The audit log records them; none carries a secret."""

from blinker import Namespace

_signals = Namespace()

client_created = _signals.signal(
    "client-created",
    doc="An API client (program) was registered; sender=OAuthClient. Its one-time "
    "secret is not sent.",
)

client_revoked = _signals.signal(
    "client-revoked",
    doc="An API client was revoked, with every token it held; sender=OAuthClient.",
)

invitation_resent = _signals.signal(
    "invitation-resent",
    doc="A member admin sent a person a new set-password link; sender=User (the link is not sent).",
)
