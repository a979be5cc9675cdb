"""Products and their support lifecycle (source 000 §4).

A version is obsolete once its end-of-support date has passed. A major version should
stay supported for at least six months after its successor's release; a lifecycle that
ends sooner is flagged with a warning (not refused: the member decides, others see it).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from exchange import clock
from exchange.db import db, get_by_id
from exchange.errors import AlreadyExists, NotFound, ValidationFailed
from exchange.members.models import Member, Product, ProductVersion
from exchange.members.schemas import ProductIn
from exchange.members.signals import CATALOGUE_SIGNALS, end_of_support_approaching
from exchange.schemas import load_or_422

# "At least six months" as days: 183 covers every six-month span of the calendar.
SIX_MONTHS = timedelta(days=183)
_MAJOR = re.compile(r"^\D*(\d+)")


def _require_writer(actor, member: Member) -> None:
    if actor.member.id != member.id:
        raise NotFound(f"No such resource of {member.slug!r}.")
    actor.require("processes:write")


def major_of(version: str) -> int | None:
    match = _MAJOR.match(version)
    return int(match.group(1)) if match else None


def lifecycle_warnings(product: Product) -> list[str]:
    """Majors whose end of support comes less than six months after the next major's
    release."""
    firsts: dict[int, ProductVersion] = {}
    ends: dict[int, date] = {}
    for v in product.versions:
        major = major_of(v.version)
        if major is None:
            continue
        if v.release_date and (major not in firsts or v.release_date < firsts[major].release_date):
            firsts[major] = v
        if v.end_of_support_date:
            ends[major] = max(ends.get(major, v.end_of_support_date), v.end_of_support_date)
    warnings = []
    majors = sorted(firsts)
    for major, end in sorted(ends.items()):
        successor = next((m for m in majors if m > major), None)
        if successor is None:
            continue
        released = firsts[successor].release_date
        if end < released + SIX_MONTHS:
            warnings.append(
                f"Version {major}'s end of support ({end.isoformat()}) is less than six months "
                f"after version {successor}'s release ({released.isoformat()})."
            )
    return warnings


def list_products(
    *, member: Member, status: str | None = None, today: date | None = None
) -> list[tuple[Product, list[ProductVersion]]]:
    """A member's products with their versions (only those of ``status`` if given)."""
    today = today or clock.today()
    products = db.session.scalars(
        select(Product).where(Product.member_id == member.id).order_by(Product.name)
    )
    result = []
    for product in products:
        versions = [v for v in product.versions if status is None or v.status_on(today) == status]
        if status is None or versions:
            result.append((product, versions))
    return result


def get_product(*, product_id: int) -> Product:
    product = get_by_id(Product, product_id)
    if product is None:
        raise NotFound(f"No product {product_id}.")
    return product


def create_product(
    *, actor, member: Member, name: str, description: str = "", versions: list[dict] | None = None
) -> Product:
    _require_writer(actor, member)
    checked = load_or_422(
        ProductIn(),
        {"name": name, "description": description, "versions": _plain_versions(versions or [])},
    )
    name, description, versions = checked["name"], checked["description"], checked["versions"]
    if db.session.scalar(
        select(Product.id).where(Product.member_id == member.id, Product.name == name)
    ):
        raise AlreadyExists(
            f"Your member has a product {name!r} already.", errors={"name": ["Already in use."]}
        )
    product = Product(member=member, name=name, description=description)
    db.session.add(product)
    for i, data in enumerate(versions or []):
        _add_version(product, data, path=f"versions.{i}.")
    db.session.flush()
    CATALOGUE_SIGNALS["product.created"].send(
        product,
        actor=actor,
        changes={"name": name, "versions": [v.version for v in product.versions]},
    )
    return product


def update_product(*, actor, product: Product, changes: dict) -> Product:
    _require_writer(actor, product.member)
    if (
        "name" in changes
        and changes["name"] != product.name
        and db.session.scalar(
            select(Product.id).where(
                Product.member_id == product.member_id, Product.name == changes["name"]
            )
        )
    ):
        raise AlreadyExists(errors={"name": ["Already in use."]})
    changed = {}
    for key in ("name", "description"):
        if key in changes and changes[key] != getattr(product, key):
            changed[key] = {"from": getattr(product, key), "to": changes[key]}
            setattr(product, key, changes[key])
    db.session.flush()
    if changed:
        CATALOGUE_SIGNALS["product.updated"].send(product, actor=actor, changes=changed)
    return product


def delete_product(*, actor, product: Product) -> None:
    _require_writer(actor, product.member)
    CATALOGUE_SIGNALS["product.deleted"].send(product, actor=actor, changes={"name": product.name})
    db.session.delete(product)
    db.session.flush()


def _check_dates(data: dict, path: str) -> None:
    release, end = data.get("release_date"), data.get("end_of_support_date")
    if release and end and end < release:
        raise ValidationFailed(
            errors={f"{path}end_of_support_date": ["Cannot end before the release date."]}
        )


def _add_version(product: Product, data: dict, path: str = "") -> ProductVersion:
    if any(v.version == data["version"] for v in product.versions):
        raise AlreadyExists(
            f"Version {data['version']!r} exists already.",
            errors={f"{path}version": ["Already in use."]},
        )
    _check_dates(data, path)
    version = ProductVersion(
        version=data["version"],
        release_date=data.get("release_date"),
        end_of_support_date=data.get("end_of_support_date"),
    )
    product.versions.append(version)
    return version


def add_version(*, actor, product: Product, data: dict) -> ProductVersion:
    _require_writer(actor, product.member)
    version = _add_version(product, data)
    db.session.flush()
    CATALOGUE_SIGNALS["product.version_added"].send(
        version, actor=actor, changes=_version_fields(version)
    )
    return version


def _version_fields(version: ProductVersion) -> dict:
    return {
        "version": version.version,
        "release_date": version.release_date,
        "end_of_support_date": version.end_of_support_date,
    }


def get_version(*, version_id: int) -> ProductVersion:
    version = get_by_id(ProductVersion, version_id)
    if version is None:
        raise NotFound(f"No product version {version_id}.")
    return version


def update_version(*, actor, version: ProductVersion, changes: dict) -> ProductVersion:
    _require_writer(actor, version.product.member)
    if (
        "version" in changes
        and changes["version"] != version.version
        and any(v.version == changes["version"] for v in version.product.versions)
    ):
        raise AlreadyExists(errors={"version": ["Already in use."]})
    merged = {
        "release_date": version.release_date,
        "end_of_support_date": version.end_of_support_date,
        **changes,
    }
    _check_dates(merged, "")
    changed = {
        key: {"from": getattr(version, key), "to": value}
        for key, value in changes.items()
        if getattr(version, key) != value
    }
    for key, value in changes.items():
        setattr(version, key, value)
    db.session.flush()
    if changed:
        CATALOGUE_SIGNALS["product.version_updated"].send(version, actor=actor, changes=changed)
    return version


def delete_version(*, actor, version: ProductVersion) -> None:
    _require_writer(actor, version.product.member)
    CATALOGUE_SIGNALS["product.version_deleted"].send(
        version, actor=actor, changes=_version_fields(version)
    )
    db.session.delete(version)
    db.session.flush()


_NUMBERS = re.compile(r"^\D*?(\d+(?:\.\d+)*)")


def product_key(name: str) -> str:
    """A product name as matched: case and spaces do not count (``globex  hypervisor``
    names ``Globex Hypervisor``)."""
    return "".join(name.split()).casefold()


def version_numbers(version: str) -> tuple[int, ...] | None:
    """The numeric prefix of a version (``7.0.3 SP1`` -> (7, 0, 3)); None without one."""
    match = _NUMBERS.match(version.strip())
    return tuple(int(n) for n in match.group(1).split(".")) if match else None


def _version_match(versions: list[ProductVersion], wanted: str) -> ProductVersion | None:
    """The listed version a case's version belongs to: the same text, else the most
    specific listed version whose numbers start the case's (7.0.3 is 7.0; 7.01 is not)."""
    exact = [v for v in versions if v.version.strip().casefold() == wanted.strip().casefold()]
    if exact:
        return exact[0]
    numbers = version_numbers(wanted)
    if numbers is None:
        return None
    best, best_len = None, 0
    for candidate in versions:
        listed = version_numbers(candidate.version)
        if listed and numbers[: len(listed)] == listed and len(listed) > best_len:
            best, best_len = candidate, len(listed)
    return best


def find_product_version(*, member: Member, name: str, version: str) -> ProductVersion | None:
    """The version a case names, if the receiver lists it (used to flag obsolete ones).

    Matched loosely, as engineers type them: the name case- and space-insensitively, the
    version by its numeric prefix. A member lists a handful of products, so they are
    compared here rather than in SQL (whose lower() knows only ASCII on SQLite).
    """
    key = product_key(name)
    names = db.session.execute(
        select(Product.id, Product.name).where(Product.member_id == member.id)
    ).all()
    product_ids = [pid for pid, listed in names if product_key(listed) == key]
    if not product_ids:
        return None
    versions = list(
        db.session.scalars(
            select(ProductVersion)
            .where(ProductVersion.product_id.in_(product_ids))
            .order_by(ProductVersion.id)
        )
    )
    return _version_match(versions, version)


def _announcements_due(now: datetime):
    horizon = now.date() + timedelta(days=current_app.config["END_OF_SUPPORT_NOTICE_DAYS"])
    return select(ProductVersion).where(
        ProductVersion.eos_notice_sent_at.is_(None),
        ProductVersion.end_of_support_date <= horizon,
        ProductVersion.end_of_support_date >= now.date(),
    )


def end_of_support_due(*, now: datetime) -> bool:
    """Whether any version is to be announced (read-only, for an idle worker)."""
    stmt = _announcements_due(now).with_only_columns(ProductVersion.id).limit(1)
    return db.session.scalar(stmt) is not None


def scan_end_of_support(*, now: datetime, limit: int = 200) -> int:
    """Announce, once each, versions whose end of support is near (source 000 §4.2)."""
    horizon = now.date() + timedelta(days=current_app.config["END_OF_SUPPORT_NOTICE_DAYS"])
    stmt = (
        select(ProductVersion)
        .where(
            ProductVersion.eos_notice_sent_at.is_(None),
            ProductVersion.end_of_support_date <= horizon,
            ProductVersion.end_of_support_date >= now.date(),
        )
        .order_by(ProductVersion.end_of_support_date, ProductVersion.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)  # several workers: each notice once
    versions = list(db.session.scalars(stmt))
    for version in versions:
        version.eos_notice_sent_at = now
        end_of_support_approaching.send(
            version, days_left=(version.end_of_support_date - now.date()).days
        )
    db.session.flush()
    return len(versions)


def _plain_versions(versions: list[dict]) -> list[dict]:
    """Versions as the schema reads them (dates as ISO text)."""
    return [
        {k: v.isoformat() if isinstance(v, date) else v for k, v in item.items()}
        for item in versions
    ]
