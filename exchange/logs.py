"""Logging: every line the exchange writes carries its dated version signature."""

from __future__ import annotations

import logging

from flask import Flask

from exchange.version import SIGNATURE

LOG_FORMAT = f"%(asctime)s %(levelname)s [exchange {SIGNATURE}] %(name)s: %(message)s"


def configure_logging(app: Flask) -> None:
    level = app.config.get("LOG_LEVEL", "INFO")
    logger = logging.getLogger("exchange")
    logger.setLevel(level)
    if not any(getattr(h, "_exchange", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler._exchange = True
        logger.addHandler(handler)
        # Our handler writes the lines; passing them on would print them twice.
        logger.propagate = False
    # Flask's own app.logger is named after the package ("exchange"), so it shares this.
