"""A process's intake fields: as JSON Schema for partner trackers, and as the check a
case's ``intake`` values must pass (the same rules, in one place)."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{5,30}$")

_JSON_TYPES = {
    "string": {"type": "string"},
    "text": {"type": "string"},
    "email": {"type": "string", "format": "email"},
    "phone": {"type": "string", "pattern": PHONE_RE.pattern},
    "integer": {"type": "integer"},
    "url": {"type": "string", "format": "uri"},
    "select": {"type": "string"},
    "date": {"type": "string", "format": "date"},
}


def intake_json_schema(content: dict, *, title: str, schema_id: str) -> dict:
    """JSON Schema (2020-12) of the ``intake`` object a case under ``content`` carries."""
    properties, required = {}, []
    for order, field in enumerate(content.get("intake_fields", [])):
        prop = {
            **_JSON_TYPES[field["type"]],
            "title": field["label"],
            "x-section": field["section"],
            # JSON objects have no order; this keeps the receiver's form order.
            "x-order": order,
        }
        if field.get("help"):
            prop["description"] = field["help"]
        if field["type"] == "select":
            prop["enum"] = list(field["options"])
        if field.get("max_length"):
            prop["maxLength"] = field["max_length"]
        if field.get("pattern"):
            if "pattern" in prop:  # a phone field keeps its own check as well
                prop["allOf"] = [{"pattern": prop.pop("pattern")}]
            # validate_intake matches the whole value; so must the schema.
            prop["pattern"] = f"^(?:{field['pattern']})$"
        properties[field["key"]] = prop
        if field.get("required"):
            required.append(field["key"])
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "title": title,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _check(field: dict, value) -> str | None:
    """The message for one bad value, or None when it is acceptable."""
    kind = field["type"]
    if kind == "integer":
        # 4.0 is a whole number in JSON (and in JSON Schema) though Python reads a float.
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not whole:
            return "Must be a whole number."
        return None
    if not isinstance(value, str):
        return "Must be a string."
    if field.get("max_length") and len(value) > field["max_length"]:
        return f"At most {field['max_length']} characters."
    if kind == "email" and not EMAIL_RE.match(value):
        return "Not an e-mail address."
    if kind == "phone" and not PHONE_RE.match(value):
        return "Not a phone number."
    if kind == "url":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return "Not an http(s) URL."
    if kind == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return "Not an ISO date (YYYY-MM-DD)."
    if kind == "select" and value not in field["options"]:
        return f"One of: {', '.join(field['options'])}."
    if field.get("pattern") and not re.fullmatch(field["pattern"], value):
        return "Does not match the required format."
    return None


def validate_intake(content: dict, values: dict) -> dict[str, list[str]]:
    """Errors keyed ``intake.<field>`` for ``values`` against the version's intake fields."""
    fields = {f["key"]: f for f in content.get("intake_fields", [])}
    errors: dict[str, list[str]] = {}
    for key in values:
        if key not in fields:
            errors[f"intake.{key}"] = ["Unknown intake field for this process."]
    for key, field in fields.items():
        value = values.get(key)
        if value is None or value == "":
            if field.get("required"):
                errors[f"intake.{key}"] = [f"{field['label']} is required."]
            continue
        message = _check(field, value)
        if message:
            errors[f"intake.{key}"] = [message]
    return errors
