"""Opening a case: a submitter member engages a receiver under the receiver's process."""

from __future__ import annotations

from datetime import datetime

from exchange import clock
from exchange.cases import deadlines
from exchange.cases.models import Case, CaseStatus, Side
from exchange.cases.service.common import record
from exchange.db import db
from exchange.errors import NotFound, ValidationFailed
from exchange.members import service as members
from exchange.members.models import Member, Role, User
from exchange.processes import service as processes
from exchange.processes.intake import validate_intake
from exchange.processes.models import Process

ENGINEER_ROLES = (Role.engineer, Role.escalation_manager)


def engineer_of(member: Member, email: str | None, field: str = "engineer") -> User:
    """An active engineer (or escalation manager) of ``member`` with this e-mail."""
    user = members.find_user_by_email(email=email) if email else None
    if user is None or user.member_id != member.id or not user.active:
        raise ValidationFailed(
            errors={field: [f"No active user of {member.slug!r} has this e-mail."]}
        )
    if not any(user.has_role(r) for r in ENGINEER_ROLES):
        raise ValidationFailed(errors={field: ["This user is not an engineer."]})
    return user


def _receiver(actor, slug: str) -> Member:
    receiver = members.get_member(slug=slug)  # unknown receiver: 404
    if receiver.id == actor.member.id:
        raise ValidationFailed(errors={"receiver": ["A member cannot open a case against itself."]})
    if not receiver.is_active:
        raise ValidationFailed(errors={"receiver": [f"{slug!r} is suspended and takes no cases."]})
    return receiver


def _process(actor, receiver: Member, process_id: int | None, now: datetime) -> Process:
    if process_id is not None:
        process = processes.get_process(actor=actor, process_id=process_id, now=now)
        if process.member_id != receiver.id:
            raise NotFound(f"{receiver.slug!r} has no process {process_id}.")
        return process
    usable = [
        p
        for p in processes.list_processes(actor=actor, member=receiver, now=now)
        if processes.current_version(p, now) is not None
    ]
    if len(usable) == 1:
        return usable[0]
    if not usable:
        raise ValidationFailed(
            errors={"process": [f"{receiver.slug!r} publishes no process open to your member."]}
        )
    raise ValidationFailed(
        errors={"process": ["Choose one of: " + ", ".join(f"{p.id} ({p.name})" for p in usable)]}
    )


def _severity_errors(content: dict, key: str, side: Side) -> dict:
    level = next((s for s in content["severities"] if s["key"] == key), None)
    if level is None:
        keys = ", ".join(s["key"] for s in content["severities"])
        return {"severity": [f"Unknown severity {key!r}; this process has: {keys}."]}
    if level["declarable_by"] not in (side, "both"):
        return {
            "severity": [f"{level['name']} can only be declared by the {level['declarable_by']}."]
        }
    return {}


def open_case(
    *,
    actor,
    receiver: str,
    severity: str,
    summary: str,
    description: str,
    customer: dict,
    process: int | None = None,
    product: dict | None = None,
    intake: dict | None = None,
    submitter_reference: str | None = None,
    engineer: str | None = None,
    test: bool = False,
    now: datetime | None = None,
) -> Case:
    """Open a case against ``receiver``; the answer carries its number and deadline."""
    actor.require("cases:write")
    now = now or clock.now()
    receiver_member = _receiver(actor, receiver)
    chosen = _process(actor, receiver_member, process, now)
    version = processes.current_version(chosen, now)
    if version is None:
        raise ValidationFailed(errors={"process": ["This process has no version in force."]})
    errors = _severity_errors(version.content, severity, Side.submitter)
    errors.update(validate_intake(version.content, intake or {}))
    engineer_email = engineer or (actor.user.email if actor.user else None)
    if engineer_email is None:
        errors["engineer"] = ["A program must name the submitting engineer's e-mail."]
    else:
        try:
            submitting = engineer_of(actor.member, engineer_email)
        except ValidationFailed as problem:
            errors.update(problem.errors)
    if errors:
        raise ValidationFailed("The case has invalid fields.", errors=errors)

    obsolete, found = False, None
    if product:
        found = members.products.find_product_version(
            member=receiver_member, name=product["name"], version=product.get("version") or ""
        )
        obsolete = found is not None and found.status_on(now.date()) == "obsolete"
    case = Case(
        submitter=actor.member,
        receiver=receiver_member,
        process=chosen,
        process_version=version,
        status=CaseStatus.open,
        severity=severity,
        summary=summary,
        description=description,
        customer=customer,
        product=product,
        product_obsolete=obsolete,
        product_version_id=found.id if found else None,
        intake=intake or {},
        test=test,
        submitter_reference=submitter_reference,
        submitter_engineer=submitting,
        created_at=now,
        updated_at=now,
        # Set here, not left to column defaults: the clocks read them before the flush.
        response_used_seconds=0,
        escalation_level=0,
        escalation_tier=0,
        version=0,
    )
    db.session.add(case)
    deadlines.start_response_clock(case, now)
    db.session.flush()
    record(
        case,
        actor=actor,
        side=Side.submitter,
        type="case.opened",
        now=now,
        data={"severity": severity, "process_version": version.number, "test": test},
    )
    return case
