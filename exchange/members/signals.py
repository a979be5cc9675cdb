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
