"""WSGI entry point for gunicorn: ``gunicorn exchange.wsgi:app``."""

from exchange import create_app

app = create_app()
