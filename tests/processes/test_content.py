"""A process version's content without the database: the schema that validates it, the
intake JSON Schema and intake check built from it, and the diff between two versions."""

from __future__ import annotations

import copy

import pytest

from exchange.errors import ValidationFailed
from exchange.processes.defaults import DEFAULT_REJECTION_REASONS, STANDARD_SEVERITIES
from exchange.processes.diff import diff_content
from exchange.processes.intake import intake_json_schema, validate_intake
from exchange.processes.service import load_content


def sample_content(**overrides) -> dict:
    """A complete, valid process document (escalation contacts left out: they need rows)."""
    content = {
        "name": "Storage collaborative support",
        "products": ["Array OS"],
        "engagement_instructions": "Include the **serial number**.",
        "coverage": {
            "mode": "business_hours",
            "time_zone": "Europe/Berlin",
            "hours": [
                {"day": "mon", "start": "08:00", "end": "12:00"},
                {"day": "mon", "start": "13:00", "end": "18:00"},
                {"day": "tue", "start": "08:00", "end": "18:00"},
            ],
            "holidays": ["2026-12-24"],
        },
        "severities": copy.deepcopy(STANDARD_SEVERITIES),
        "intake_fields": [
            {
                "key": "serial",
                "label": "Serial number",
                "type": "string",
                "required": True,
                "pattern": "AC-[0-9]{6}",
                "max_length": 9,
                "section": "problem",
                "help": "On the front bezel.",
            },
            {
                "key": "os_version",
                "label": "OS version",
                "type": "select",
                "required": True,
                "options": ["5.4", "6.2"],
            },
            {"key": "hosts", "label": "Hosts", "type": "integer"},
            {"key": "admin_email", "label": "Admin", "type": "email", "section": "contact"},
            {"key": "admin_phone", "label": "Admin phone", "type": "phone", "section": "contact"},
            {"key": "bundle", "label": "Log bundle", "type": "url", "max_length": 300},
            {"key": "started", "label": "Started on", "type": "date"},
            {"key": "story", "label": "What happened", "type": "text", "max_length": 2000},
        ],
        "escalation_path": [],
        "scope": ["Arrays in production"],
        "out_of_scope": ["Third-party shelves"],
    }
    content.update(overrides)
    return content


def errors_of(raw) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        load_content(raw)
    assert caught.value.status == 422
    assert caught.value.code == "validation_failed"
    return caught.value.errors


# -- the content schema: what it accepts -----------------------------------------------------


def test_a_minimal_draft_gets_the_documented_defaults():
    content = load_content({"name": "Bare"})

    assert content["coverage"] == {"mode": "24x7", "time_zone": "UTC", "hours": [], "holidays": []}
    assert content["severities"] == []
    assert content["intake_fields"] == []
    assert content["escalation_path"] == []
    assert content["visibility"] == "all"
    assert content["communities"] == []
    assert content["rejection_reasons"] == DEFAULT_REJECTION_REASONS
    assert [r["code"] for r in content["rejection_reasons"]] == [
        "no_entitlement",
        "out_of_scope",
        "wrong_vendor",
        "duplicate",
        "insufficient_information",
        "other",
    ]


def test_field_defaults_are_filled_in():
    content = load_content(
        sample_content(
            severities=[{"key": "1", "name": "Down"}],
            intake_fields=[{"key": "x", "label": "X", "type": "string"}],
        )
    )

    assert content["severities"] == [
        {
            "key": "1",
            "name": "Down",
            "definition": "",
            "response_minutes": None,
            "update_minutes": None,
            "declarable_by": "both",
        }
    ]
    assert content["intake_fields"] == [
        {
            "key": "x",
            "label": "X",
            "type": "string",
            "required": False,
            "options": [],
            "max_length": None,
            "pattern": None,
            "section": "problem",
            "help": "",
        }
    ]


def test_loading_loaded_content_again_gives_the_same_content():
    once = load_content(sample_content())

    assert load_content(copy.deepcopy(once)) == once


def test_the_standard_severity_template_is_valid_and_as_the_sources_say():
    content = load_content(sample_content(severities=STANDARD_SEVERITIES))

    by_key = {s["key"]: s for s in content["severities"]}
    assert [by_key[k]["response_minutes"] for k in "1234"] == [60, 120, 240, None]
    assert by_key["1"]["update_minutes"] == 60


@pytest.mark.parametrize(
    "hours",
    [
        # Windows that touch do not overlap.
        [
            {"day": "mon", "start": "08:00", "end": "12:00"},
            {"day": "mon", "start": "12:00", "end": "18:00"},
        ],
        # The same hours on different days do not overlap.
        [
            {"day": "mon", "start": "08:00", "end": "18:00"},
            {"day": "tue", "start": "08:00", "end": "18:00"},
        ],
        # A window may run to midnight.
        [{"day": "sat", "start": "20:00", "end": "24:00"}],
    ],
)
def test_business_hours_that_do_not_overlap_are_accepted(hours):
    content = load_content(
        sample_content(coverage={"mode": "business_hours", "time_zone": "UTC", "hours": hours})
    )

    assert content["coverage"]["hours"] == hours


def test_community_visibility_with_communities_is_accepted():
    content = load_content(sample_content(visibility="communities", communities=["partners"]))

    assert (content["visibility"], content["communities"]) == ("communities", ["partners"])


# -- the content schema: what it refuses, each naming the field ------------------------------


def _with(path_changes):
    def build():
        content = sample_content()
        path_changes(content)
        return content

    return build


def _dup_severity(c):
    c["severities"][1]["key"] = "1"


def _dup_field(c):
    c["intake_fields"][2]["key"] = "serial"


def _select_without_options(c):
    c["intake_fields"][1]["options"] = []


def _select_repeating_an_option(c):
    c["intake_fields"][1]["options"] = ["5.4", "5.4"]


def _options_on_a_string(c):
    c["intake_fields"][0]["options"] = ["a"]


def _bad_regex(c):
    c["intake_fields"][0]["pattern"] = "AC-[0-9"


def _pattern_on_an_integer(c):
    c["intake_fields"][2]["pattern"] = "[0-9]+"


def _max_length_on_a_date(c):
    c["intake_fields"][6]["max_length"] = 10


def _unknown_field_type(c):
    c["intake_fields"][0]["type"] = "float"


def _unknown_section(c):
    c["intake_fields"][0]["section"] = "billing"


def _bad_key(c):
    c["intake_fields"][0]["key"] = "Serial Number"


def _unknown_time_zone(c):
    c["coverage"]["time_zone"] = "Mars/Olympus_Mons"


def _overlapping_hours(c):
    c["coverage"]["hours"][1]["start"] = "11:00"


def _inverted_hours(c):
    c["coverage"]["hours"][2] = {"day": "tue", "start": "18:00", "end": "08:00"}


def _empty_window(c):
    c["coverage"]["hours"][2] = {"day": "tue", "start": "08:00", "end": "08:00"}


def _not_a_time(c):
    c["coverage"]["hours"][0]["start"] = "25:00"


def _not_a_day(c):
    c["coverage"]["hours"][0]["day"] = "monday"


def _hours_with_24x7(c):
    c["coverage"]["mode"] = "24x7"


def _business_hours_without_hours(c):
    c["coverage"]["hours"] = []


def _bad_holiday(c):
    c["coverage"]["holidays"] = ["2026-02-30"]


def _unknown_coverage_mode(c):
    c["coverage"]["mode"] = "weekdays"


def _negative_response(c):
    c["severities"][0]["response_minutes"] = 0


def _bad_declarable_by(c):
    c["severities"][0]["declarable_by"] = "anyone"


def _dup_rejection_code(c):
    c["rejection_reasons"] = [{"code": "other", "label": "A"}, {"code": "other", "label": "B"}]


def _communities_without_communities(c):
    c["visibility"] = "communities"


def _unknown_visibility(c):
    c["visibility"] = "public"


def _tiers_out_of_order(c):
    c["escalation_path"] = [
        {"after_minutes": 120, "contacts": [1]},
        {"after_minutes": 60, "contacts": [2]},
    ]


def _tier_without_contacts(c):
    c["escalation_path"] = [{"after_minutes": 60, "contacts": []}]


def _tier_without_after_minutes(c):
    c["escalation_path"] = [{"contacts": [1]}]


def _unknown_top_level_field(c):
    c["colour"] = "blue"


def _unknown_severity_field(c):
    c["severities"][0]["colour"] = "red"


def _no_name(c):
    del c["name"]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (_dup_severity, "severities.1.key"),
        (_dup_field, "intake_fields.2.key"),
        (_select_without_options, "intake_fields.1.options"),
        (_select_repeating_an_option, "intake_fields.1.options"),
        (_options_on_a_string, "intake_fields.0.options"),
        (_bad_regex, "intake_fields.0.pattern"),
        (_pattern_on_an_integer, "intake_fields.2.pattern"),
        (_max_length_on_a_date, "intake_fields.6.max_length"),
        (_unknown_field_type, "intake_fields.0.type"),
        (_unknown_section, "intake_fields.0.section"),
        (_bad_key, "intake_fields.0.key"),
        (_unknown_time_zone, "coverage.time_zone"),
        (_overlapping_hours, "coverage.hours.1"),
        (_inverted_hours, "coverage.hours.2.end"),
        (_empty_window, "coverage.hours.2.end"),
        (_not_a_time, "coverage.hours.0.start"),
        (_not_a_day, "coverage.hours.0.day"),
        (_hours_with_24x7, "coverage.hours"),
        (_business_hours_without_hours, "coverage.hours"),
        (_bad_holiday, "coverage.holidays.0"),
        (_unknown_coverage_mode, "coverage.mode"),
        (_negative_response, "severities.0.response_minutes"),
        (_bad_declarable_by, "severities.0.declarable_by"),
        (_dup_rejection_code, "rejection_reasons.1.code"),
        (_communities_without_communities, "communities"),
        (_unknown_visibility, "visibility"),
        (_tiers_out_of_order, "escalation_path.1.after_minutes"),
        (_tier_without_contacts, "escalation_path.0.contacts"),
        (_tier_without_after_minutes, "escalation_path.0.after_minutes"),
        (_unknown_top_level_field, "colour"),
        (_unknown_severity_field, "severities.0.colour"),
        (_no_name, "name"),
    ],
)
def test_bad_content_is_refused_naming_the_field(change, path):
    errors = errors_of(_with(change)())

    assert path in errors, errors
    assert all(isinstance(m, str) and m for m in errors[path])


def test_the_messages_say_what_is_wrong():
    def many(c):
        _dup_severity(c)
        _bad_regex(c)
        _unknown_time_zone(c)
        _select_without_options(c)

    errors = errors_of(_with(many)())

    assert "Duplicate key '1'" in errors["severities.1.key"][0]
    assert "regular expression" in errors["intake_fields.0.pattern"][0]
    assert "Mars/Olympus_Mons" in errors["coverage.time_zone"][0]
    assert "option" in errors["intake_fields.1.options"][0]


def test_one_answer_names_every_problem():
    def both(c):
        _dup_field(c)
        _bad_regex(c)
        _inverted_hours(c)

    errors = errors_of(_with(both)())

    assert {"intake_fields.2.key", "intake_fields.0.pattern", "coverage.hours.2.end"} <= set(errors)


def test_a_valid_document_names_no_errors():
    # The sample itself is the control for every refusal above.
    assert load_content(sample_content())["name"] == "Storage collaborative support"


@pytest.mark.parametrize("raw", [None, [], "a process", 42])
def test_content_that_is_not_an_object_is_a_422(raw):
    assert errors_of(raw)


# -- the intake as JSON Schema ---------------------------------------------------------------


def intake_schema_of(content: dict) -> dict:
    return intake_json_schema(
        load_content(content), title="Intake", schema_id="https://x.example/schema"
    )


def test_the_intake_schema_describes_every_field():
    schema = intake_schema_of(sample_content())

    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://x.example/schema"
    assert schema["title"] == "Intake"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["serial", "os_version"]
    props = schema["properties"]
    assert list(props) == [
        "serial",
        "os_version",
        "hosts",
        "admin_email",
        "admin_phone",
        "bundle",
        "started",
        "story",
    ]
    assert props["serial"] == {
        "type": "string",
        "title": "Serial number",
        "x-section": "problem",
        "x-order": 0,
        "description": "On the front bezel.",
        "maxLength": 9,
        # Anchored: the exchange matches the whole value, and so must a tracker.
        "pattern": "^(?:AC-[0-9]{6})$",
    }
    assert props["os_version"]["enum"] == ["5.4", "6.2"]
    assert props["os_version"]["type"] == "string"
    assert props["hosts"] == {
        "type": "integer",
        "title": "Hosts",
        "x-section": "problem",
        "x-order": 2,
    }
    assert props["admin_email"]["format"] == "email"
    assert props["admin_email"]["x-section"] == "contact"
    assert props["admin_phone"]["type"] == "string"
    assert "pattern" in props["admin_phone"]
    assert props["bundle"]["format"] == "uri"
    assert props["bundle"]["maxLength"] == 300
    assert props["started"]["format"] == "date"
    assert props["story"] == {
        "type": "string",
        "title": "What happened",
        "x-section": "problem",
        "x-order": 7,
        "maxLength": 2000,
    }
    assert "description" not in props["hosts"]


def test_a_process_without_intake_fields_has_an_empty_intake_schema():
    schema = intake_schema_of(sample_content(intake_fields=[]))

    assert schema["properties"] == {}
    assert schema["required"] == []


# -- checking a case's intake values ---------------------------------------------------------

GOOD_INTAKE = {
    "serial": "AC-123456",
    "os_version": "6.2",
    "hosts": 4,
    "admin_email": "admin@customer.example",
    "admin_phone": "+49 30 555 0100",
    "bundle": "https://files.example/bundle.tgz",
    "started": "2026-05-01",
    "story": "It stopped.",
}


def test_good_intake_values_pass():
    assert validate_intake(load_content(sample_content()), GOOD_INTAKE) == {}


def test_only_the_required_values_are_needed():
    values = {"serial": "AC-000001", "os_version": "5.4"}

    assert validate_intake(load_content(sample_content()), values) == {}


def test_optional_values_may_be_empty_or_null():
    values = {"serial": "AC-000001", "os_version": "5.4", "hosts": None, "story": ""}

    assert validate_intake(load_content(sample_content()), values) == {}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("serial", "AC-12345"),  # too short for the pattern
        ("serial", "XAC-123456"),  # the pattern matches the whole value, not a part
        ("serial", "AC-1234567"),  # longer than max_length and the pattern
        ("serial", 123456),
        ("os_version", "7.0"),
        ("hosts", "4"),
        ("hosts", True),
        ("hosts", 4.5),
        ("admin_email", "not-an-address"),
        ("admin_phone", "call me"),
        ("bundle", "ftp://files.example/bundle"),
        ("bundle", "https://"),
        ("bundle", "https://files.example/" + "x" * 300),
        ("started", "01/05/2026"),
        ("started", "2026-02-30"),
        ("story", "x" * 2001),
    ],
)
def test_a_bad_intake_value_is_named(key, value):
    errors = validate_intake(load_content(sample_content()), {**GOOD_INTAKE, key: value})

    assert list(errors) == [f"intake.{key}"]
    assert errors[f"intake.{key}"][0]


@pytest.mark.parametrize("missing", [None, ""])
def test_a_missing_required_value_is_named_with_its_label(missing):
    values = {**GOOD_INTAKE, "serial": missing}

    errors = validate_intake(load_content(sample_content()), values)

    assert errors == {"intake.serial": ["Serial number is required."]}


def test_absent_required_values_are_all_named():
    errors = validate_intake(load_content(sample_content()), {})

    assert set(errors) == {"intake.serial", "intake.os_version"}


def test_an_unknown_intake_value_is_named():
    errors = validate_intake(load_content(sample_content()), {**GOOD_INTAKE, "colour": "blue"})

    assert errors == {"intake.colour": ["Unknown intake field for this process."]}


# -- the diff between two versions -----------------------------------------------------------


def _paths(old: dict, new: dict) -> list[str]:
    return [c["path"] for c in diff_content(old, new)]


def test_identical_versions_have_no_changes():
    content = load_content(sample_content())

    assert diff_content(content, copy.deepcopy(content)) == []


def test_a_changed_severity_shows_only_the_changed_attribute():
    old = load_content(sample_content())
    new = copy.deepcopy(old)
    new["severities"][1]["response_minutes"] = 90

    assert diff_content(old, new) == [
        {"path": "severities.2.response_minutes", "from": 120, "to": 90}
    ]


def test_reordering_keyed_lists_is_no_change():
    old = load_content(sample_content())
    new = copy.deepcopy(old)
    new["severities"].reverse()
    new["intake_fields"].reverse()
    new["rejection_reasons"].reverse()

    assert diff_content(old, new) == []


def test_added_and_removed_items_are_named_by_key():
    old = load_content(sample_content())
    new = copy.deepcopy(old)
    new["intake_fields"] = [f for f in new["intake_fields"] if f["key"] != "hosts"]
    added = {"key": "5", "name": "Severity 5", "definition": ""}
    new["severities"].append(added)

    changes = {c["path"]: c for c in diff_content(old, new)}

    assert set(changes) == {"intake_fields.hosts", "severities.5"}
    assert changes["intake_fields.hosts"]["to"] is None
    assert changes["intake_fields.hosts"]["from"]["label"] == "Hosts"
    assert changes["severities.5"] == {"path": "severities.5", "from": None, "to": added}


def test_nested_and_plain_changes_have_dotted_paths_in_a_stable_order():
    old = load_content(sample_content())
    new = copy.deepcopy(old)
    new["name"] = "Renamed"
    new["coverage"]["time_zone"] = "Asia/Kolkata"
    new["coverage"]["hours"] = new["coverage"]["hours"][:1]
    new["scope"] = ["Everything"]

    assert _paths(old, new) == ["coverage.hours", "coverage.time_zone", "name", "scope"]
    assert _paths(old, new) == _paths(old, new)


def test_a_changed_field_option_list_is_one_change():
    old = load_content(sample_content())
    new = copy.deepcopy(old)
    new["intake_fields"][1]["options"] = ["5.4", "6.2", "7.0"]

    assert diff_content(old, new) == [
        {
            "path": "intake_fields.os_version.options",
            "from": ["5.4", "6.2"],
            "to": ["5.4", "6.2", "7.0"],
        }
    ]


def test_a_pattern_must_match_the_whole_value():
    content = load_content(
        sample_content(
            intake_fields=[
                {"key": "code", "label": "Code", "type": "string", "pattern": "[0-9]{3}"}
            ]
        )
    )

    assert validate_intake(content, {"code": "123"}) == {}
    assert set(validate_intake(content, {"code": "1234"})) == {"intake.code"}
    assert set(validate_intake(content, {"code": "x123"})) == {"intake.code"}


def test_the_intake_schema_keeps_form_order_and_both_phone_checks():
    from exchange.processes.intake import intake_json_schema, validate_intake

    content = {
        "intake_fields": [
            {"key": "z", "label": "Z", "type": "string", "section": "problem"},
            {"key": "a", "label": "A", "type": "phone", "section": "contact", "pattern": r"\+49.*"},
            {"key": "n", "label": "N", "type": "integer", "section": "problem"},
        ]
    }
    props = intake_json_schema(content, title="t", schema_id="x")["properties"]
    assert [k for k, _ in sorted(props.items(), key=lambda kv: kv[1]["x-order"])] == ["z", "a", "n"]
    assert props["a"]["pattern"] == r"^(?:\+49.*)$" and props["a"]["allOf"][0]["pattern"]
    assert validate_intake(content, {"n": 4.0}) == {}
    assert validate_intake(content, {"n": 4.5}) == {"intake.n": ["Must be a whole number."]}


# -- found by fuzzing (tests/fuzz) ---------------------------------------------------------


@pytest.mark.parametrize("key", [{"a": 1}, ["sev1"], 7, None])
def test_a_key_that_is_not_text_is_a_field_error_not_a_crash(key):
    """Two severities whose key is an object made the duplicate check hash a dict (500)."""
    content = sample_content()
    content["severities"] = [dict(content["severities"][0], key=key) for _ in range(2)]
    content["rejection_reasons"] = [{"code": key, "label": "A"}, {"code": key, "label": "B"}]
    errors = errors_of(content)
    assert "severities.0.key" in errors
    assert "rejection_reasons.0.code" in errors


def test_duplicates_are_named_at_their_own_index_past_an_item_that_is_not_an_object():
    content = sample_content()
    first = content["severities"][0]
    content["severities"] = [first, "not an object", dict(first)]
    errors = errors_of(content)
    assert errors["severities.2.key"] == [f"Duplicate key {first['key']!r}."]
