"""The exchange: a cross-vendor collaborative case exchange.

``create_app(config=None)`` builds the Flask application: settings, extensions,
blueprints, error handlers, the version header and the CLI.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from exchange import clock
from exchange.version import SIGNATURE, VERSION

__all__ = ["VERSION", "create_app"]


def _instance_path() -> str:
    configured = os.environ.get("EXCHANGE_INSTANCE_PATH")
    if configured:
        return str(Path(configured).resolve())
    return str(Path(__file__).resolve().parent.parent / "instance")


def _load_config(app: Flask, config: dict | None) -> None:
    app.config.from_object("exchange.config")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("EXCHANGE")
    if config:
        app.config.update(config)
    if not app.config.get("BASE_URL"):
        app.config["BASE_URL"] = f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}"
    url = app.config.get("DATABASE_URL") or (
        "sqlite:///" + os.path.join(app.instance_path, "exchange.sqlite3")
    )
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    # hide_parameters: SQL logs and error messages never show bound values (customer
    # data, mail bodies with set-password links), whatever the log level.
    if url.startswith("sqlite"):
        timeout = app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000
        app.config.setdefault(
            "SQLALCHEMY_ENGINE_OPTIONS",
            {"connect_args": {"timeout": timeout}, "hide_parameters": True},
        )
    else:
        # A pooled connection is tested before use, so a restarted database costs no
        # failed request once it is back; a host that does not answer fails in seconds.
        app.config.setdefault(
            "SQLALCHEMY_ENGINE_OPTIONS",
            {
                "pool_pre_ping": True,
                "connect_args": {"connect_timeout": 10},
                "hide_parameters": True,
            },
        )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)


def _instance_secret(app: Flask) -> str:
    """A per-instance signing key made on first start, so `make run` needs no set-up.

    Several hosts must share one key: set EXCHANGE_SECRET_KEY for them instead.
    """
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        # Write aside, then link into place: link() fails if another process won the
        # race, and then everyone reads the winner's key.
        temp = path.with_name(f".secret_key.{os.getpid()}")
        temp.write_text(secrets.token_urlsafe(48))
        temp.chmod(0o600)
        try:
            os.link(temp, path)
        except FileExistsError:
            pass
        finally:
            temp.unlink()
    return path.read_text().strip()


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__, instance_path=_instance_path(), instance_relative_config=True, static_folder=None
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _load_config(app, config)

    from exchange.logs import configure_logging

    configure_logging(app)

    from exchange.db import configure_engine_events, immediate_write_requests
    from exchange.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        configure_engine_events(db.engine)
        if db.engine.dialect.name == "sqlite":
            immediate_write_requests(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)

    from exchange import models  # noqa: F401  (every model registered before use)
    from exchange.receivers import connect_receivers

    connect_receivers()
    from exchange.auth.oauth import init_oauth

    init_oauth(app)
    _register_blueprints(app)

    from exchange.errors import register_error_handlers

    register_error_handlers(app)

    from exchange.web.security import init_security

    init_security(app)

    from exchange.web.filters import register_filters

    register_filters(app)

    @app.context_processor
    def _globals():
        # The page's countdowns run on the server's clock, not the viewer's (a laptop
        # a few minutes off must not show a deadline as met or missed wrongly).
        return {"exchange_version": SIGNATURE, "server_now": clock.now()}

    @app.after_request
    def _version_header(response):
        response.headers["Exchange-Version"] = SIGNATURE
        return response

    from exchange.api_support import check_api_body

    app.before_request(check_api_body)

    from exchange.cli import register_commands

    register_commands(app)
    if app.config.get("WEBHOOKS_ALLOW_PRIVATE_NETWORKS"):
        app.logger.warning(
            "WEBHOOKS_ALLOW_PRIVATE_NETWORKS is on: webhooks may be sent over plain http and "
            "to private, loopback and link-local addresses. For development and tests only."
        )
    app.logger.debug("ready on %s", _redact(app.config["SQLALCHEMY_DATABASE_URI"]))
    return app


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _register_blueprints(app: Flask) -> None:
    from exchange.api import init_api
    from exchange.audit.views import bp as audit_bp
    from exchange.auth.views import bp as auth_bp
    from exchange.cases.views import bp as cases_bp
    from exchange.members.views import bp as members_bp
    from exchange.notifications.views import bp as notifications_bp
    from exchange.processes.views import bp as processes_bp
    from exchange.web.health import bp as health_bp
    from exchange.web.views import bp as web_bp
    from exchange.webhooks.views import bp as webhooks_bp

    init_api(app)
    for bp in (
        health_bp,
        auth_bp,
        web_bp,
        members_bp,
        notifications_bp,
        cases_bp,
        processes_bp,
        webhooks_bp,
        audit_bp,
    ):
        app.register_blueprint(bp)
