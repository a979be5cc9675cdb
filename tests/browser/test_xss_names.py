"""HTML and script in member names, user names, intake values and case titles and
descriptions are shown as text, in a real browser, on both sides of a case: no script
runs and no element is injected (checked in the DOM, so the Content-Security-Policy,
which would block the script anyway, does not hide an escaping mistake)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from exchange.db import transaction
from exchange.members import service as members

ATTACK = "<img src=x onerror=window.__xss=1><script>window.__xss=1</script><b>bold</b>"
MEMBER = f"Evil {ATTACK} Corp"
PERSON = f"Mallory {ATTACK}"
# Intake fields are short (the contract number takes 30 characters at most).
INTAKE = "<img src=x onerror=alert(1)>"


def assert_inert(page, *texts):
    """Each text shows literally; nothing from it became an element or ran."""
    html = page.content()
    for text in texts:
        expect(page.locator("body")).to_contain_text(text)
    assert page.locator("img[src='x']").count() == 0, "an <img> was injected"
    assert page.locator("main b:text-is('bold')").count() == 0, "a <b> was injected"
    assert page.locator("script:not([src])").count() == 0, "an inline <script> was injected"
    assert page.evaluate("window.__xss") is None
    assert "<script>window.__xss" not in html


def test_html_in_names_intake_and_case_text_is_shown_as_text(live_app, sign_in, live_server):
    with live_app.app_context(), transaction():
        member = members.create_member(
            slug="evil-corp", name=MEMBER, email_domains=["evil.example"]
        )
        person = members.create_user(
            member=member,
            email="mallory@evil.example",
            name=PERSON,
            roles=["admin", "engineer"],
        )
        person.set_password("exchange-demo")

    dialogs = []
    evil = sign_in("mallory@evil.example")
    evil.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    assert_inert(evil, f"{PERSON} · {MEMBER}")

    evil.goto(f"{live_server}/cases/new?receiver=acme")
    evil.get_by_label("Severity").select_option("2")
    evil.get_by_label("Summary").fill(f"Crash {ATTACK}")
    evil.get_by_label("Description").fill(f"Details {ATTACK}")
    evil.get_by_label("Array serial number").fill("AC-123456")
    evil.get_by_label("Array OS version").fill("<b>bold</b>")
    evil.get_by_label("Customer's Acme contract number").fill(INTAKE)
    evil.get_by_label("Company").fill(f"Customer {ATTACK}")
    evil.get_by_label("Contact name").fill(f"Ann {ATTACK}")
    evil.get_by_label("Contact e-mail").fill("ann@umbrella.example")
    evil.get_by_role("button", name="Open the case").click()
    expect(evil.locator("h1")).to_contain_text("Crash")
    case_url = evil.url
    number = re.search(r"CX-\d{6}", evil.locator("h1").inner_text()).group(0)
    assert_inert(evil, f"Crash {ATTACK}", f"Details {ATTACK}", INTAKE, "<b>bold</b>")
    for path in ("/", "/cases", "/admin/users", "/admin/member", "/directory/evil-corp"):
        evil.goto(live_server + path)
        assert_inert(evil)

    receiver = sign_in("ed@acme.example")
    receiver.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    expect(receiver.locator("tr", has_text=number)).to_be_visible()
    assert_inert(receiver, f"Crash {ATTACK}")
    receiver.goto(case_url)
    assert_inert(receiver, MEMBER, f"Crash {ATTACK}", f"Details {ATTACK}", INTAKE, "<b>bold</b>")
    for path in ("/cases", "/directory", "/directory/evil-corp", "/reports"):
        receiver.goto(live_server + path)
        assert_inert(receiver)
    assert dialogs == []
