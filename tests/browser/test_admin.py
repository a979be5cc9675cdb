"""An admin at work in a real browser: a new process version published and compared,
a webhook endpoint added and its secret rotated, and the report's charts."""

import re

from playwright.sync_api import expect


def test_admin_publishes_a_new_process_version_and_sees_the_diff(sign_in, live_server):
    admin = sign_in("admin@globex.example")
    admin.goto(f"{live_server}/admin/processes")
    admin.get_by_role("link", name="Globex hypervisor engagement").first.click()
    admin.get_by_role("link", name=re.compile("Start a new version|Edit the draft")).click()
    response = admin.locator('[name="severities.1.response_minutes"]')
    response.fill("90")
    admin.get_by_role("button", name="Save and publish").click()
    expect(admin.locator("body")).to_contain_text("2")
    admin.goto(admin.url.split("/draft")[0])
    history = admin.locator("body")
    expect(history).to_contain_text("in force")
    admin.get_by_label("From").select_option("1")
    admin.get_by_label("to").select_option("2")
    admin.get_by_role("button", name="Show changes").click()
    expect(admin.locator(".diff-from").first).to_contain_text("120")
    expect(admin.locator(".diff-to").first).to_contain_text("90")


def test_admin_adds_a_webhook_endpoint_and_rotates_its_secret(sign_in, live_server):
    admin = sign_in("admin@acme.example")
    admin.goto(f"{live_server}/admin/webhooks")
    admin.get_by_label("URL").fill("http://127.0.0.1:9/acme-tracker")
    admin.get_by_role("button", name="Add endpoint").click()
    first = admin.locator("#one-time-secret").inner_text()
    assert first.startswith("whsec_")
    admin.get_by_role("link", name=re.compile("acme-tracker")).first.click()
    assert "whsec_" not in admin.content()  # shown once only
    admin.get_by_label(re.compile("Old secret keeps signing")).fill("3600")
    admin.get_by_role("button", name="Rotate secret").click()
    second = admin.locator("#one-time-secret").inner_text()
    assert second.startswith("whsec_") and second != first
    expect(admin.locator("body")).to_contain_text("the previous secret signs too until")


def test_the_report_page_draws_its_charts(sign_in, live_server):
    engineer = sign_in("ed@acme.example")
    engineer.get_by_role("link", name="Reports").click()
    charts = engineer.locator("svg.chart")
    expect(charts).to_have_count(3)
    expect(charts.first).to_be_visible()
    box = charts.first.bounding_box()
    assert box["width"] > 300 and box["height"] > 100
