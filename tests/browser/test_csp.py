"""The Content-Security-Policy (no inline scripts, styles or handlers) breaks nothing:
a browser visits the main pages, uses their scripts, and no violation is reported."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import expect

RECORD_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  (window.__csp = window.__csp || []).push(e.violatedDirective + " " + e.blockedURI);
});
"""


def watch(page) -> list[str]:
    """Collects every CSP violation: console errors and securitypolicyviolation events."""
    seen: list[str] = []
    page.context.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return seen


def visit(page, url, seen):
    response = page.goto(url)
    assert response.status < 400, (url, response.status)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    seen.extend(page.evaluate("window.__csp || []"))


def test_main_pages_report_no_csp_violation(sign_in, live_server):
    admin = sign_in("admin@acme.example")
    seen = watch(admin)
    # Opening a case: choosing the partner submits the form by script (no inline handler).
    visit(admin, f"{live_server}/cases/new", seen)
    admin.get_by_label("Partner (the member you need)").select_option("globex")
    admin.wait_for_url(re.compile(r".*receiver=globex.*"))
    seen.extend(admin.evaluate("window.__csp || []"))
    pages = [
        "/",
        "/cases",
        "/reports",
        f"/reports/review?partner=globex&month={date.today():%Y-%m}",
        "/directory",
        "/directory/globex",
        "/settings/notifications",
        "/api/docs",
        "/admin",
    ]
    for path in pages:
        visit(admin, live_server + path, seen)
    # Every admin page the hub links to, and the pages they link to (process editor...).
    admin.goto(f"{live_server}/admin")
    links = {
        href
        for href in admin.eval_on_selector_all(
            "main a[href^='/admin']", "els => els.map(e => e.getAttribute('href'))"
        )
    }
    assert len(links) >= 6, links
    for path in sorted(links):
        visit(admin, live_server + path, seen)
    admin.goto(f"{live_server}/admin/processes")
    for href in admin.eval_on_selector_all(
        "main a[href^='/admin/processes/']", "els => els.map(e => e.getAttribute('href'))"
    )[:4]:
        visit(admin, live_server + href, seen)
    # The printable review's Print button is wired by script now.
    visit(admin, f"{live_server}/reports/review?partner=globex&month={date.today():%Y-%m}", seen)
    expect(admin.locator("button[data-print]")).to_be_visible()
    assert admin.locator("[onclick], [onchange], [onload], [style]").count() == 0
    assert seen == [], seen


def test_the_login_page_reports_no_csp_violation(browser, live_server):
    context = browser.new_context()
    page = context.new_page()
    seen = watch(page)
    visit(page, f"{live_server}/login", seen)
    assert seen == []
    context.close()
