"""Connects every package's signal receivers once, at application start."""

_connected = False


def connect_receivers() -> None:
    global _connected
    if _connected:
        return
    from exchange.audit import receivers as audit
    from exchange.cases import tallies
    from exchange.notifications import receivers as notifications
    from exchange.webhooks import receivers as webhooks

    webhooks.connect()
    notifications.connect()
    tallies.connect()
    audit.connect()
    _connected = True
