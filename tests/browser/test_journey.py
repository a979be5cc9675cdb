"""The cases journey in a real browser: two engineers of two members, each in their own
browser context, work a case from the form to closing without touching the API."""

import re

from playwright.sync_api import expect


def test_two_engineers_work_a_case_end_to_end(sign_in, live_server):
    acme = sign_in("ed@acme.example")
    acme.get_by_role("link", name="Open a case").first.click()
    # The partner list submits itself from exchange.js (deferred): let the page finish
    # loading first, as a person would, or a busy machine can choose before it listens.
    acme.wait_for_load_state()
    acme.get_by_label("Partner (the member you need)").select_option("globex")
    acme.wait_for_url(re.compile(r".*receiver=globex.*"))
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
    expect(acme.locator("h1")).to_contain_text("VMs freeze on Acme LUNs")
    number = re.search(r"CX-\d{6}", acme.locator("h1").inner_text()).group(0)
    case_url = acme.url

    globex = sign_in("gustav@globex.example")
    row = globex.locator("tr", has_text=number)
    expect(row).to_be_visible()
    expect(row.locator("[data-due]")).to_contain_text("left")  # the live countdown
    row.get_by_role("link", name=number).click()
    globex.locator("summary", has_text="Accept").click()
    globex.get_by_label("Your reference").fill("GLX-4711")
    globex.get_by_label("Next steps").fill("Collect the vmkernel logs")
    globex.get_by_role("button", name="Accept").click()
    expect(globex.locator(".status")).to_have_text("accepted")

    acme.goto(case_url)
    expect(acme.locator(".parties")).to_contain_text("GLX-4711")
    acme.get_by_label("Note (plain text, seen by both sides)").fill("Logs are attached.")
    acme.get_by_role("button", name="Add note").click()
    acme.get_by_label("File (visible to both parties only)").set_input_files(
        files=[{"name": "vmkernel.log", "mimeType": "text/plain", "buffer": b"path down\n"}]
    )
    acme.get_by_role("button", name="Attach").click()
    acme.locator("summary", has_text="Escalate").click()
    acme.get_by_label("Reason").fill("Production is down for three hours")
    acme.get_by_role("button", name="Escalate").click()
    expect(acme.locator(".parties")).to_contain_text("Georg Manager")

    globex.goto(case_url)
    expect(globex.locator(".timeline")).to_contain_text("Logs are attached.")
    with globex.expect_download() as download:
        globex.get_by_role("link", name="vmkernel.log").click()
    assert download.value.suggested_filename == "vmkernel.log"
    globex.locator("summary", has_text="Resolve").click()
    globex.get_by_label("Resolution").fill("Path selection policy corrected")
    globex.get_by_role("button", name="Resolve").click()
    expect(globex.locator(".status")).to_have_text("resolved")

    acme.goto(case_url)
    acme.locator("summary", has_text="Close").click()
    acme.get_by_role("button", name="Close").click()
    expect(acme.locator(".status")).to_have_text("closed")

    # The month's report counts it (opened and closed with Globex this month).
    acme.get_by_role("link", name="Reports").click()
    acme.get_by_label("Partner").select_option("globex")
    acme.get_by_role("button", name="Show").click()
    # The server's month (the browser may run on another clock: see conftest.py).
    month = acme.evaluate("document.body.dataset.serverNow.slice(0, 7)")
    row = acme.locator("table.report tr", has_text=month)
    cells = row.locator("td").all_inner_texts()
    assert int(cells[1]) >= 1 and int(cells[2]) >= 1, cells


def test_script_in_a_note_is_shown_as_text(sign_in, live_server):
    acme = sign_in("erin@acme.example")
    acme.goto(f"{live_server}/cases/new?receiver=initech")
    acme.get_by_label("Severity").select_option("3")
    acme.get_by_label("Summary").fill("Driver crash")
    acme.get_by_label("Description").fill("The client driver crashes.")
    acme.get_by_label("Initech DB version").fill("13")
    acme.get_by_label("INI error code").fill("INI-00600")
    acme.get_by_label("Company").fill("Umbrella Corp")
    acme.get_by_label("Contact name").fill("Ann Operator")
    acme.get_by_label("Contact e-mail").fill("ann@umbrella.example")
    acme.get_by_role("button", name="Open the case").click()
    dialogs = []
    acme.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    attack = "<img src=x onerror=alert('xss')><script>alert('xss')</script>"
    acme.get_by_label("Note (plain text, seen by both sides)").fill(attack)
    acme.get_by_role("button", name="Add note").click()
    expect(acme.locator(".timeline .note").last).to_have_text(attack)
    acme.reload()
    assert dialogs == []
