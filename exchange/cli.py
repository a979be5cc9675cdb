"""The ``exchange`` command: serve, demo data, and operator commands for members,
users and API clients. Flask's and Flask-Migrate's commands (``exchange db upgrade``)
are available too."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from exchange.db import transaction
from exchange.errors import Problem


def _fail(problem: Problem) -> None:
    messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in problem.errors.items())
    raise click.ClickException(f"{problem.detail}" + (f" ({messages})" if messages else ""))


@click.command("serve")
def serve_command():
    """Serve the web pages and the API with gunicorn (PORT, default 8000)."""
    conf = Path(__file__).with_name("gunicorn_conf.py")
    args = [sys.executable, "-m", "gunicorn", "-c", str(conf), "exchange.wsgi:app"]
    # exec: gunicorn takes over this process, so Ctrl-C reaches it directly.
    os.execv(sys.executable, args)


@click.command("worker")
@click.option("--once", is_flag=True, help="Run one round and exit.")
@with_appcontext
def worker_command(once):
    """Send webhook deliveries (and other due work) until stopped."""
    import threading

    from flask import current_app

    from exchange import worker

    app = current_app._get_current_object()
    if once:
        click.echo(f"worker: {worker.run_once(app)} done", err=True)
        return
    stop = threading.Event()
    worker.install_signal_handlers(stop)
    worker.settle()
    worker.run(app, stop)


@click.command("demo")
@click.option(
    "--first-start",
    is_flag=True,
    help="Only load the demo data into a database with no members yet.",
)
@with_appcontext
def demo_command(first_start):
    """Load the demo members, users and processes (idempotent)."""
    from exchange.demo import load_demo

    try:
        with transaction():
            created = load_demo(only_if_empty=first_start)
    except Problem as problem:
        _fail(problem)
    click.echo(f"demo data: {created}", err=True)


@click.command("create-member")
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--tier", default="standard", show_default=True)
@with_appcontext
def create_member_command(slug, name, tier):
    """Admit a vendor to the exchange."""
    from exchange.members import service

    try:
        with transaction():
            member = service.create_member(slug=slug, name=name, tier=tier)
    except Problem as problem:
        _fail(problem)
    click.echo(json.dumps({"slug": member.slug, "name": member.name, "tier": member.tier}))


@click.command("create-user")
@click.option("--member", "member_slug", required=True)
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", required=True, help="At least 12 characters, not a common one.")
@click.option(
    "--roles",
    default="engineer",
    show_default=True,
    help="Comma- or space-separated: admin, engineer, escalation_manager.",
)
@click.option("--time-zone", default="UTC", show_default=True)
@with_appcontext
def create_user_command(member_slug, email, name, password, roles, time_zone):
    """Add a person to a member."""
    from exchange.members import service

    role_list = [r for r in roles.replace(",", " ").split() if r]
    try:
        with transaction():
            member = service.get_member(slug=member_slug)
            user = service.create_user(
                member=member, email=email, name=name, roles=role_list, time_zone=time_zone
            )
            service.set_password(user=user, password=password)
    except Problem as problem:
        _fail(problem)
    click.echo(json.dumps({"id": user.id, "email": user.email, "roles": user.roles}))


@click.command("create-client")
@click.option("--member", "member_slug", required=True)
@click.option("--name", required=True)
@click.option("--scopes", required=True, help='Space-separated, e.g. "cases:read cases:write".')
@with_appcontext
def create_client_command(member_slug, name, scopes):
    """Register an API client (program) and print its one-time secret as JSON."""
    from exchange.auth import service as auth_service
    from exchange.members import service

    try:
        with transaction():
            member = service.get_member(slug=member_slug)
            client, secret = auth_service.create_client(
                member=member, name=name, scopes=scopes.replace(",", " ")
            )
            body = {"client_id": client.client_id, "client_secret": secret, "scopes": client.scopes}
    except Problem as problem:
        _fail(problem)
    click.echo(json.dumps(body))


@click.command("set-member-status")
@click.option("--member", "member_slug", required=True)
@click.argument("status", type=click.Choice(["active", "suspended"]))
@with_appcontext
def set_member_status_command(member_slug, status):
    """Suspend or reinstate a member."""
    from exchange.members import service

    try:
        with transaction():
            member = service.set_member_status(
                member=service.get_member(slug=member_slug), status=status
            )
    except Problem as problem:
        _fail(problem)
    click.echo(json.dumps({"slug": member.slug, "status": member.status}))


@click.command("recount-cases")
@with_appcontext
def recount_cases_command():
    """Rebuild the per-member case counts from the cases (after loading cases directly
    into the database, or to check them: it prints the totals)."""
    from exchange.cases import tallies
    from exchange.db import db

    with transaction():
        tallies.recount(db.session)
    click.echo(json.dumps({"cases_counted": tallies.total(db.session)}))


COMMANDS = [
    serve_command,
    worker_command,
    demo_command,
    create_member_command,
    create_user_command,
    create_client_command,
    set_member_status_command,
    recount_cases_command,
]


def register_commands(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app():
    from exchange import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False, load_dotenv=False)
def main():
    """The exchange: serve it, migrate it (db upgrade), and administer members."""
