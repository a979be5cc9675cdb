"""What an entry may keep: the service drops secrets and URL credentials whatever a
caller hands it, so a future receiver cannot leak one by passing a whole object."""

from exchange.audit import service
from exchange.audit.models import AuditEntry
from exchange.db import db


def test_secrets_and_url_credentials_never_reach_an_entry(make_member, db_session):
    member = make_member()
    entry = service.record(
        actor=None,
        member_id=member.id,
        action="endpoint.created",
        target_type="endpoint",
        target_id=7,
        changes={
            "url": "https://user:hunter2@hooks.example:8443/in?token=t0ken&x",
            "secret": "whsec_abc",
            "nested": {"client_secret": "s3cret", "password": "pw", "name": "kept"},
            "link": "https://exchange.example/set-password/abc",
        },
    )
    db.session.flush()
    stored = db.session.get(AuditEntry, entry.id)
    assert stored.changes == {
        "url": "https://hooks.example:8443/in?token=[redacted]&x",
        "secret": "[redacted]",
        "nested": {"client_secret": "[redacted]", "password": "[redacted]", "name": "kept"},
        "link": "[redacted]",
    }
    assert (stored.actor_kind, stored.actor_label, stored.origin) == (
        "operator",
        "operator",
        "operator",
    )
    assert service.safe_url("not a url at all") == "not a url at all"
    assert service.safe_url("https://[::1") == "[redacted]"
