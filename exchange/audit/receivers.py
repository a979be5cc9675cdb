"""How the audit log hears of administrative changes: one receiver per signal of the
members (also products and communities), auth, processes and webhooks packages, each
writing one entry in the transaction of the change (rows only). What an entry keeps is
chosen here, field by field: names, roles, scopes, URLs without credentials, never a
secret or a link."""

from __future__ import annotations

from exchange.audit import service
from exchange.auth import signals as auth
from exchange.members import signals as members
from exchange.processes import signals as processes
from exchange.webhooks import signals as webhooks

# A person's own settings (name, phone, time zone, notices) are not administration.
ADMIN_USER_FIELDS = frozenset({"roles", "active"})


# What an entry names for each kind of target: (member id, target id, label).
TARGETS = {
    "user": lambda user: (user.member_id, user.id, user.email),
    "client": lambda client: (client.member_id, client.client_id, client.name),
    "endpoint": lambda endpoint: (
        endpoint.member_id,
        endpoint.id,
        service.safe_url(endpoint.url) or "",
    ),
    "contact": lambda contact: (contact.member_id, contact.id, contact.name),
}


def _entry(kind: str, target, action: str, actor, changes: dict) -> None:
    member_id, target_id, label = TARGETS[kind](target)
    service.record(
        actor=actor,
        member_id=member_id,
        action=action,
        target_type=kind,
        target_id=target_id,
        target_label=label,
        changes=changes,
    )


def on_user_created(user, *, actor, invited: bool = False, **_) -> None:
    details = {"email": user.email, "name": user.name, "roles": list(user.roles)}
    _entry("user", user, "user.invited" if invited else "user.created", actor, details)


def on_user_updated(user, *, actor, changes: dict, by_self: bool = False, **_) -> None:
    if by_self and not ADMIN_USER_FIELDS & set(changes):
        return
    if "active" in changes:
        action = "user.reactivated" if changes["active"]["to"] else "user.deactivated"
    elif "roles" in changes:
        action = "user.role_changed"
    else:
        action = "user.updated"
    _entry("user", user, action, actor, changes)


def on_invitation_resent(user, *, actor, **_) -> None:
    _entry("user", user, "user.invitation_resent", actor, {})


def on_member_updated(member, *, actor, changes: dict, **_) -> None:
    service.record(
        actor=actor,
        member_id=member.id,
        action="member.updated",
        target_type="member",
        target_id=member.slug,
        target_label=member.name,
        changes=changes,
    )


def on_client_created(client, *, actor, **_) -> None:
    _entry(
        "client", client, "client.created", actor, {"name": client.name, "scopes": client.scopes}
    )


def on_client_revoked(client, *, actor, **_) -> None:
    _entry("client", client, "client.revoked", actor, {"name": client.name})


def on_endpoint_created(endpoint, *, actor, **_) -> None:
    details = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "partners": list(endpoint.partners),
        "enabled": endpoint.enabled,
        "exclude_own_changes": endpoint.exclude_own_changes,
    }
    _entry("endpoint", endpoint, "endpoint.created", actor, details)


def on_endpoint_updated(endpoint, *, actor, changes: dict, **_) -> None:
    _entry("endpoint", endpoint, "endpoint.updated", actor, changes)


def on_endpoint_secret_rotated(endpoint, *, actor, grace_seconds: int, **_) -> None:
    _entry("endpoint", endpoint, "endpoint.secret_rotated", actor, {"grace_seconds": grace_seconds})


def on_endpoint_deleted(endpoint, *, actor, **_) -> None:
    _entry("endpoint", endpoint, "endpoint.deleted", actor, {"url": endpoint.url})


def on_process_created(process, *, actor, **_) -> None:
    service.record(
        actor=actor,
        member_id=process.member_id,
        action="process.created",
        target_type="process",
        target_id=process.id,
        target_label=process.name,
        changes={"name": process.name},
    )


def on_process_published(version, *, actor, **_) -> None:
    process = version.process
    service.record(
        actor=actor,
        member_id=process.member_id,
        action="process.published",
        target_type="process",
        target_id=process.id,
        target_label=process.name,
        changes={"version": version.number, "effective_at": version.effective_at},
    )


def on_contact_created(contact, *, actor, **_) -> None:
    details = {"name": contact.name, "role": contact.role, "email": contact.email}
    _entry("contact", contact, "contact.created", actor, details)


def on_contact_updated(contact, *, actor, changes: dict, **_) -> None:
    _entry("contact", contact, "contact.updated", actor, changes)


def on_contact_removed(contact, *, actor, **_) -> None:
    _entry("contact", contact, "contact.removed", actor, {"name": contact.name})


def _catalogue_target(obj) -> tuple[str, str, str, int]:
    """(type, id, label, member id) of a product, product version or community."""
    kind = type(obj).__name__
    if kind == "Product":
        return "product", str(obj.id), obj.name, obj.member_id
    if kind == "ProductVersion":
        return (
            "product_version",
            str(obj.id),
            f"{obj.product.name} {obj.version}",
            (obj.product.member_id),
        )
    return "community", obj.slug, obj.name, obj.owner_id


def _catalogue_receiver(action: str):
    def receive(obj, *, actor, changes: dict, **_) -> None:
        target_type, target_id, label, owner_id = _catalogue_target(obj)
        # A community action belongs to the log of the member that acted (an invited
        # member accepting is that member's act, not the owner's).
        member_id = actor.member.id if getattr(actor, "member", None) else owner_id
        service.record(
            actor=actor,
            member_id=member_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            target_label=label,
            changes=changes,
        )

    receive.__name__ = "on_" + action.replace(".", "_")
    return receive


# Kept here: blinker holds receivers weakly, and these are made, not defined.
CATALOGUE_RECEIVERS = {name: _catalogue_receiver(name) for name in members.CATALOGUE_SIGNALS}


def connect() -> None:
    for name, signal in members.CATALOGUE_SIGNALS.items():
        signal.connect(CATALOGUE_RECEIVERS[name])
    members.user_created.connect(on_user_created)
    members.user_updated.connect(on_user_updated)
    members.member_updated.connect(on_member_updated)
    auth.invitation_resent.connect(on_invitation_resent)
    auth.client_created.connect(on_client_created)
    auth.client_revoked.connect(on_client_revoked)
    webhooks.endpoint_created.connect(on_endpoint_created)
    webhooks.endpoint_updated.connect(on_endpoint_updated)
    webhooks.endpoint_secret_rotated.connect(on_endpoint_secret_rotated)
    webhooks.endpoint_deleted.connect(on_endpoint_deleted)
    processes.process_created.connect(on_process_created)
    processes.process_published.connect(on_process_published)
    processes.contact_created.connect(on_contact_created)
    processes.contact_updated.connect(on_contact_updated)
    processes.contact_removed.connect(on_contact_removed)
