"""Browser tests: Playwright driving Debian's Chromium (no browser download) against a
live exchange on 127.0.0.1 with its own database, with real commits.

These tests do not use the suite's rolled-back savepoint: a live server answers from
other threads, so it gets a database of its own, migrated and loaded with demo data.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.live_server import build_live_app, dispose, serve

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Under scripts/with-faketime (the shifted-clock pass of `make test`) the exchange and
# these tests run on a shifted clock, but Chromium does not start under libfaketime (it
# spins at 100 % CPU and never loads a page), so it runs on the real clock. The pages'
# countdowns follow the server's clock, not the browser's, so they still agree.
FAKETIME_VARIABLES = ("LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC")


def browser_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in FAKETIME_VARIABLES}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
        "env": browser_environment(),
    }


@pytest.fixture()
def db_session():
    """Browser tests commit for real, in the live server's own database."""
    yield None


@pytest.fixture(scope="session")
def live_app(fresh_database_url, tmp_path_factory):
    app = build_live_app(
        fresh_database_url("browser"), tmp_path_factory, SECRET_KEY="browser-tests"
    )
    yield app
    dispose(app)


@pytest.fixture(scope="session")
def live_server(live_app):
    with serve(live_app) as url:
        yield url


@pytest.fixture()
def sign_in(browser, live_server):
    """``sign_in(email)`` -> a page in a fresh browser context signed in as that person."""
    contexts = []

    def open_as(email: str, password: str = "exchange-demo"):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server}/login")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server}/")
        return page

    yield open_as
    for context in contexts:
        context.close()
