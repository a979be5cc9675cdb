"""The engineers' case pages through real forms: dashboard, opening a case from the
receiver's intake form, the case page with its actions, notes and attachments."""

import io
import re

import pytest

from exchange.cases.models import Case
from exchange.demo import load_demo
from exchange.members import service as members
from tests.conftest import browser_sign_in, csrf_token_from


@pytest.fixture()
def demo(app, tmp_path):
    load_demo()
    saved = app.config["ATTACHMENTS_PATH"]
    app.config["ATTACHMENTS_PATH"] = str(tmp_path)
    yield
    app.config["ATTACHMENTS_PATH"] = saved


def sign_in(app, email):
    return browser_sign_in(app, email, "exchange-demo").http


def form_of(browser, url):
    html = browser.get(url).get_data(as_text=True)
    return html, csrf_token_from(html)


def open_form(browser, **overrides):
    html, token = form_of(browser, "/cases/new?receiver=globex")
    data = {
        "csrf_token": token,
        "receiver": "globex",
        "process": re.search(r'name="process" value="(\d+)"', html).group(1),
        "form_key": re.search(r'name="form_key" value="(\w+)"', html).group(1),
        "severity": "2",
        "summary": "Paths lost",
        "description": "Hosts lose paths.",
        "customer.company": "Umbrella",
        "customer.contact_name": "Ann",
        "customer.contact_email": "ann@umbrella.example",
        "intake.hypervisor_version": "8.0",
        "intake.cluster_hosts": "4",
        "intake.admin_email": "ops@umbrella.example",
    }
    data.update(overrides)
    return html, data


def version_of(html):
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def test_the_intake_form_follows_the_receivers_process(app, demo):
    browser = sign_in(app, "ed@acme.example")
    html, _ = open_form(browser)
    assert 'name="intake.cluster_hosts" type="number"' in html
    assert 'name="intake.admin_email" type="email"' in html
    assert "<option>8.0</option>" in html  # select options from the process
    assert "declared by Globex" in html  # severity 1 is the receiver's to declare
    assert 'value="1"' not in re.search(r'<select id="severity".*?</select>', html, re.S)[0]
    assert "(obsolete)" in html  # version 7.0 of the hypervisor


def test_server_messages_appear_at_the_fields_and_keep_what_was_typed(app, demo):
    browser = sign_in(app, "ed@acme.example")
    _, data = open_form(
        browser,
        **{
            "intake.cluster_hosts": "many",
            "customer.contact_email": "not-an-address",
            "summary": "Keep me",
        },
    )
    response = browser.post("/cases/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="err-intake-cluster_hosts">Must be a whole number.' in html
    assert 'id="err-customer-contact_email"' in html
    assert 'value="Keep me"' in html and 'value="many"' in html
    assert Case.query.count() == 0


def test_a_double_submitted_form_opens_one_case(app, demo):
    browser = sign_in(app, "ed@acme.example")
    _, data = open_form(browser)
    first = browser.post("/cases/new", data=data)
    second = browser.post("/cases/new", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert Case.query.count() == 1


def test_two_engineers_work_a_case_through_the_pages(app, demo):
    acme = sign_in(app, "ed@acme.example")
    globex = sign_in(app, "gustav@globex.example")
    _, data = open_form(acme)
    url = acme.post("/cases/new", data=data).headers["Location"]

    inbox = globex.get("/").get_data(as_text=True)
    assert "Paths lost" in inbox and "left" in inbox  # the response countdown

    html, token = form_of(globex, url)
    assert (
        'action="/cases/1/act/accept"' in html.replace(url + "/act", "/cases/1/act")
        or "/act/accept" in html
    )
    assert "/act/withdraw" not in html  # only what the receiver may do
    response = globex.post(
        f"{url}/act/accept",
        data={
            "csrf_token": token,
            "version": version_of(html),
            "receiver_reference": "GLX-9",
            "engineer": "gustav@globex.example",
            "next_steps": "Collect logs",
        },
    )
    assert response.status_code == 303

    html, token = form_of(acme, url)
    assert "GLX-9" in html and "Gustav Engineer" in html
    acme.post(
        f"{url}/notes",
        data={
            "csrf_token": token,
            "version": version_of(html),
            "body": "<script>alert('x')</script> logs attached",
        },
    )
    html, token = form_of(acme, url)
    assert "<script>alert('x')</script>" not in html
    assert "&lt;script&gt;" in html
    acme.post(
        f"{url}/attachments",
        data={"csrf_token": token, "file": (io.BytesIO(b"log line\n"), "vm.log")},
        content_type="multipart/form-data",
    )
    html, token = form_of(globex, url)
    link = re.search(r'href="(/cases/\d+/attachments/\d+)"', html).group(1)
    download = globex.get(link)
    assert download.data == b"log line\n"
    assert download.headers["Content-Disposition"].startswith("attachment")
    download.close()

    globex.post(
        f"{url}/act/escalate",
        data={"csrf_token": token, "version": version_of(html), "reason": "Customer is down"},
    )
    html, token = form_of(acme, url)
    assert "Max Manager" in html and "Georg Manager" in html
    html, token = form_of(globex, url)
    globex.post(
        f"{url}/act/resolve",
        data={
            "csrf_token": token,
            "version": version_of(html),
            "resolution": "Multipath policy fixed",
        },
    )
    html, token = form_of(acme, url)
    response = acme.post(
        f"{url}/act/close", data={"csrf_token": token, "version": version_of(html)}
    )
    assert response.status_code == 303
    assert Case.query.one().status == "closed"


def test_a_stale_page_does_not_overwrite_a_newer_change(app, demo):
    acme = sign_in(app, "ed@acme.example")
    globex = sign_in(app, "gustav@globex.example")
    _, data = open_form(acme)
    url = acme.post("/cases/new", data=data).headers["Location"]
    html, token = form_of(globex, url)
    stale = version_of(html)
    globex.post(
        f"{url}/act/request-information",
        data={"csrf_token": token, "version": stale, "question": "Which multipath policy?"},
    )
    response = globex.post(
        f"{url}/act/request-information",
        data={"csrf_token": token, "version": stale, "question": "Again?"},
        follow_redirects=True,
    )
    assert "Someone changed the case" in response.get_data(as_text=True)


def test_action_errors_are_shown_with_the_form(app, demo):
    acme = sign_in(app, "ed@acme.example")
    globex = sign_in(app, "gustav@globex.example")
    _, data = open_form(acme)
    url = acme.post("/cases/new", data=data).headers["Location"]
    html, token = form_of(globex, url)
    response = globex.post(
        f"{url}/act/reject",
        data={"csrf_token": token, "version": version_of(html), "reason": "no_entitlement"},
    )
    assert response.status_code == 422
    assert "explanation" in response.get_data(as_text=True)


def test_outsiders_get_404_on_case_pages(app, demo):
    acme = sign_in(app, "ed@acme.example")
    _, data = open_form(acme)
    url = acme.post("/cases/new", data=data).headers["Location"]
    initech = sign_in(app, "indira@initech.example")
    assert initech.get(url).status_code == 404
    assert initech.get(url + "/attachments/1").status_code == 404
    assert "Paths lost" not in initech.get("/cases").get_data(as_text=True)
    assert members.find_user_by_email(email="indira@initech.example")
