"""Screenshots of the main pages for docs/screenshots/, from a throwaway instance.

    .venv/bin/python scripts/screenshots.py

Starts the exchange in-process on a free loopback port with its own temporary instance
folder and demo data, walks a case through its first steps as two engineers, and saves
each page at 1280 px and at 390 px wide. Needs Debian's chromium (make test installs it).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"


def main() -> None:
    instance = tempfile.mkdtemp(prefix="exchange-shots-")
    os.environ["EXCHANGE_INSTANCE_PATH"] = instance
    sys.path.insert(0, str(ROOT))
    import flask_migrate
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from exchange import create_app
    from exchange.db import transaction
    from exchange.demo import load_demo

    app = create_app({"SECRET_KEY": "screenshots"})
    with app.app_context():
        flask_migrate.upgrade()
        with transaction():
            load_demo()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                ],
            )
            shoot(browser, base)
            browser.close()
    finally:
        server.shutdown()
        shutil.rmtree(instance, ignore_errors=True)


def sign_in(browser, base, email, width):
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("exchange-demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    return page


def snap(page, name):
    path = OUT / f"{name}-{page.viewport_size['width']}.png"
    page.screenshot(path=str(path), full_page=True)
    print(path.relative_to(ROOT))


def shoot(browser, base):
    acme = sign_in(browser, base, "ed@acme.example", 1280)
    acme.goto(f"{base}/cases/new?receiver=globex")
    snap(acme, "open-case")
    acme.get_by_label("Severity").select_option("2")
    acme.get_by_label("Summary").fill("VMs freeze on Acme LUNs")
    acme.get_by_label("Description").fill("Since the firmware upgrade, hosts lose paths.")
    acme.get_by_label("Hypervisor version").select_option("8.0")
    acme.get_by_label("Hosts in the cluster").fill("12")
    acme.get_by_label("Company").fill("Umbrella Corp")
    acme.get_by_label("Contact name").fill("Ann Operator")
    acme.get_by_label("Contact e-mail").fill("ann@umbrella.example")
    acme.get_by_label("Customer's virtualization admin").fill("ops@umbrella.example")
    acme.get_by_role("button", name="Open the case").click()
    case_url = acme.url
    globex = sign_in(browser, base, "gustav@globex.example", 1280)
    snap(globex, "dashboard")
    globex.goto(case_url)
    globex.locator("summary", has_text="Accept").click()
    globex.get_by_label("Your reference").fill("GLX-4711")
    globex.get_by_role("button", name="Accept").click()
    acme.goto(case_url)
    acme.get_by_label("Note (plain text, seen by both sides)").fill("Logs are attached.")
    acme.get_by_role("button", name="Add note").click()
    snap(acme, "case")
    acme.goto(f"{base}/reports?partner=globex")
    snap(acme, "report")
    acme.goto(f"{base}/directory/globex")
    snap(acme, "directory-profile")
    phone = sign_in(browser, base, "gustav@globex.example", 390)
    snap(phone, "dashboard")
    phone.goto(case_url)
    snap(phone, "case")


if __name__ == "__main__":
    main()
