"""Standard Webhooks signatures: the specification's test vector, real deliveries checked
with the standardwebhooks and svix libraries, secrets (format, encryption at rest, shown
once) and rotation with its grace period."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet, InvalidToken
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from svix.webhooks import Webhook as SvixWebhook
from svix.webhooks import WebhookVerificationError as SvixVerificationError

from exchange.webhooks import signing
from tests.webhooks.conftest import deliver, deliveries, endpoint_row, now, verify_both

pytestmark = pytest.mark.usefixtures("private_networks")

SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_specifications_test_vector():
    assert signing.sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_one_byte_more_or_another_id_or_time_changes_the_signature():
    assert signing.sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY + b" ") != SPEC_SIGNATURE
    assert signing.sign(SPEC_SECRET, SPEC_ID + "x", SPEC_TIMESTAMP, SPEC_BODY) != SPEC_SIGNATURE
    assert signing.sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP + 1, SPEC_BODY) != SPEC_SIGNATURE


def test_the_header_holds_one_signature_per_secret():
    other = signing.new_secret()
    header = signing.signature_header([SPEC_SECRET, other], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    assert header.split(" ") == [
        SPEC_SIGNATURE,
        signing.sign(other, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY),
    ]


def test_new_secrets_are_whsec_and_32_random_bytes():
    made = {signing.new_secret() for _ in range(20)}
    assert len(made) == 20
    for secret in made:
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
        Webhook(secret)  # the libraries accept it
        SvixWebhook(secret)


def test_secrets_are_encrypted_at_rest_and_shown_only_once(hooks, receivers):
    receiver = receivers()
    created = hooks.endpoint(hooks.acme, receiver)
    secret = created["secret"]
    assert secret.startswith("whsec_")
    row = endpoint_row(created["id"])
    assert row.secret_encrypted != secret
    assert secret not in row.secret_encrypted
    assert secret.removeprefix("whsec_") not in row.secret_encrypted
    assert signing.decrypt(row.secret_encrypted) == secret

    api = hooks.acme.api
    url = f"/api/v1/webhooks/endpoints/{created['id']}"
    shown = [
        api.get(url).json,
        api.get("/api/v1/webhooks/endpoints").json[0],
        api.patch(url, json={"description": "Our ServiceNow"}).json,
        api.post(f"{url}/ping").json,
    ]
    for body in shown:
        assert "secret" not in body
        assert secret not in json.dumps(body)
        assert row.secret_encrypted not in json.dumps(body)


def test_the_encryption_key_comes_from_the_configuration(app, hooks, receivers, config_value):
    receiver = receivers()
    derived = hooks.endpoint(hooks.acme, receiver)
    key = Fernet.generate_key().decode()
    config_value("WEBHOOK_ENCRYPTION_KEY", key)
    configured = hooks.endpoint(hooks.acme, receiver)
    token = endpoint_row(configured["id"]).secret_encrypted
    assert Fernet(key).decrypt(token.encode()).decode() == configured["secret"]
    assert signing.decrypt(token) == configured["secret"]
    with pytest.raises(InvalidToken):  # a secret under the other key does not open
        signing.decrypt(endpoint_row(derived["id"]).secret_encrypted)


def test_a_real_delivery_verifies_with_standardwebhooks_and_svix(hooks, receivers):
    receiver = receivers()
    created = hooks.endpoint(hooks.acme, receiver, exclude_own_changes=False)
    case = hooks.open_case()
    ping = hooks.acme.api.post(f"/api/v1/webhooks/endpoints/{created['id']}/ping").json
    assert deliver() == 2

    assert len(receiver.captured) == 2
    stored = {d.message_id: d for d in deliveries(created["id"])}
    for request in receiver.captured:
        message = verify_both(created["secret"], request)
        delivery = stored[request.id]
        assert request.body == delivery.payload.encode()  # the exact bytes signed and sent
        assert message["id"] == request.id == delivery.message_id
        assert request.headers["content-type"] == "application/json"
        assert request.signatures == [
            signing.sign(created["secret"], request.id, request.timestamp, request.body)
        ]
        assert abs(request.timestamp - now().timestamp()) < 60
        detail = hooks.acme.api.get(f"/api/v1/webhooks/deliveries/{delivery.id}").json
        assert detail["payload"].encode() == request.body
        assert detail["status"] == "succeeded"
    by_type = {json.loads(r.body)["type"]: json.loads(r.body) for r in receiver.captured}
    assert by_type["ping"]["id"] == ping["message_id"]
    assert by_type["ping"]["data"] == {"member": "acme", "endpoint": created["id"]}
    assert by_type["case.opened"]["data"]["case"]["id"] == case["id"]
    # The example tracker verified them too (with standardwebhooks) and kept both.
    assert {m["id"] for m in receiver.store.messages} == set(stored)


def test_a_tampered_body_or_wrong_secret_fails_verification(hooks, receivers):
    receiver = receivers()
    created = hooks.endpoint(hooks.acme, receiver)
    hooks.acme.api.post(f"/api/v1/webhooks/endpoints/{created['id']}/ping")
    deliver()
    (request,) = receiver.captured
    tampered = request.body.replace(b'"ping"', b'"pong"')
    with pytest.raises(WebhookVerificationError):
        Webhook(created["secret"]).verify(tampered, request.headers)
    with pytest.raises(SvixVerificationError):
        SvixWebhook(created["secret"]).verify(tampered, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(request.body, request.headers)


def test_webhook_id_is_stable_and_timestamp_fresh_across_retries(hooks, faults):
    server = faults()
    server.answer(503)
    created = hooks.endpoint(hooks.acme, url=server.url)
    ping = hooks.acme.api.post(f"/api/v1/webhooks/endpoints/{created['id']}/ping").json
    first = now()
    assert deliver(first) == 1
    (delivery,) = deliveries(created["id"])
    second = delivery.next_attempt_at + timedelta(seconds=1)
    assert deliver(second) == 1
    # A person asks for it again by hand: same id, new time.
    retried = hooks.acme.api.post(f"/api/v1/webhooks/deliveries/{ping['id']}/retry")
    assert retried.status_code == 202, retried.get_data(as_text=True)
    server.answer(204)
    third = now() + timedelta(seconds=20)
    assert deliver(third) == 1

    assert [r.id for r in server.captured] == [ping["message_id"]] * 3
    assert [r.timestamp for r in server.captured] == [
        int(first.timestamp()),
        int(second.timestamp()),
        int(third.timestamp()),
    ]
    assert len({r.timestamp for r in server.captured}) == 3
    assert len({r.body for r in server.captured}) == 1  # the same bytes every time
    for request in server.captured:
        verify_both(created["secret"], request)
    assert deliveries(created["id"])[0].status == "succeeded"


# -- rotation -------------------------------------------------------------------------


def _rotate(hooks, endpoint_id: int, **body):
    response = hooks.acme.api.post(
        f"/api/v1/webhooks/endpoints/{endpoint_id}/rotate-secret", json=body
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def _verifies(secret: str, request) -> bool:
    try:
        verify_both(secret, request)
    except (WebhookVerificationError, SvixVerificationError):
        return False
    return True


def test_during_the_grace_period_both_secrets_verify_then_only_the_new(hooks, receivers, app):
    receiver = receivers()
    created = hooks.endpoint(hooks.acme, receiver)
    old = created["secret"]
    before = now()
    rotated = _rotate(hooks, created["id"])
    new = rotated["secret"]
    assert new != old and new.startswith("whsec_")
    grace = app.config["WEBHOOK_ROTATION_GRACE_SECONDS"]
    assert grace == 24 * 3600  # the default grace period is a day
    expires = endpoint_row(created["id"]).previous_secret_expires_at
    assert before + timedelta(seconds=grace) <= expires <= now() + timedelta(seconds=grace)
    assert "secret" not in hooks.acme.api.get(f"/api/v1/webhooks/endpoints/{created['id']}").json

    # The tracker still verifies with the old secret: nothing is dropped.
    hooks.acme.api.post(f"/api/v1/webhooks/endpoints/{created['id']}/ping")
    deliver()
    during = receiver.captured[-1]
    assert len(during.signatures) == 2
    assert _verifies(old, during) and _verifies(new, during)
    assert len(receiver.store.messages) == 1

    # Past the grace period (a short one here, so signatures stay within the
    # libraries' five-minute tolerance) only the new secret signs.
    _rotate(hooks, created["id"], grace_seconds=60)
    newest = endpoint_row(created["id"])
    newest_secret = signing.decrypt(newest.secret_encrypted)
    assert signing.decrypt(newest.previous_secret_encrypted) == new
    receiver.use_secret(newest_secret)
    hooks.acme.api.post(f"/api/v1/webhooks/endpoints/{created['id']}/ping")
    deliver(now() + timedelta(seconds=30))
    within = receiver.captured[-1]
    assert _verifies(new, within) and _verifies(newest_secret, within)
    hooks.acme.api.post(f"/api/v1/webhooks/endpoints/{created['id']}/ping")
    deliver(now() + timedelta(seconds=90))
    after = receiver.captured[-1]
    assert len(after.signatures) == 1
    assert _verifies(newest_secret, after)
    assert not _verifies(new, after)
    assert not _verifies(old, after)


def test_grace_seconds_zero_retires_the_old_secret_at_once(hooks, receivers):
    receiver = receivers()
    created = hooks.endpoint(hooks.acme, receiver)
    rotated = _rotate(hooks, created["id"], grace_seconds=0)
    assert rotated["previous_secret_expires_at"] is None
    hooks.acme.api.post(f"/api/v1/webhooks/endpoints/{created['id']}/ping")
    deliver()
    (request,) = receiver.captured
    assert len(request.signatures) == 1
    assert _verifies(rotated["secret"], request)
    assert not _verifies(created["secret"], request)
    # The tracker that still holds the leaked secret refuses it: the delivery retries.
    (delivery,) = deliveries(created["id"])
    assert (delivery.status, delivery.last_status_code) == ("pending", 401)
    receiver.use_secret(rotated["secret"])
    deliver(delivery.next_attempt_at)
    assert deliveries(created["id"])[0].status == "succeeded"


def test_rotate_refuses_a_negative_grace_period(hooks, receivers):
    created = hooks.endpoint(hooks.acme, receivers())
    response = hooks.acme.api.post(
        f"/api/v1/webhooks/endpoints/{created['id']}/rotate-secret", json={"grace_seconds": -1}
    )
    assert response.status_code == 422
    assert "grace_seconds" in json.dumps(response.json["errors"])
