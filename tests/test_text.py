"""The shared text rules (exchange/text.py) on their own: which characters break a line,
which count as invisible, and what one plain e-mail address is."""

from __future__ import annotations

import pytest
from marshmallow import Schema, ValidationError

from exchange import text


@pytest.mark.parametrize(
    "value",
    [
        "a\nb",
        "a\rb",
        "a\tb",
        "a\x00b",
        "a\x1bb",
        "a\x7fb",
        "a\x85b",
        "a\x9fb",
        "a\u2028b",
        "a\u2029b",
    ],
)
def test_control_characters_break_a_line(value):
    assert text.line_problem(value) == text.LINE_MESSAGE


@pytest.mark.parametrize(
    "value", ["Ada Lovelace", "Zoë Ångström", "株式会社", "O'Brien (ext. 12)", ""]
)
def test_ordinary_text_is_one_line(value):
    assert text.line_problem(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        "\n\t ",
        "\u00a0",
        "\u200b",
        "\u200c\u200d",
        "\u2060",
        "\ufeff",
        "\u3164",
        "\u2800",
        " \u200b\u200d\u2060\ufeff ",
    ],
)
def test_spaces_and_invisible_characters_are_no_text(value):
    assert not text.has_visible_text(value)
    assert text.visible_problem(value) == text.VISIBLE_MESSAGE


@pytest.mark.parametrize("value", ["ok", " x ", "\u200bx", "é", "🙂"])
def test_one_visible_character_is_text(value):
    assert text.has_visible_text(value)


@pytest.mark.parametrize(
    "value",
    [
        "not-an-email",
        "a@b.example\n",
        "a@b.example\r\nBcc: x@y.example",
        "Bob <bob@evil.example>",
        "Bob <bob@evil.example>, x@acme.example",
        "a@b.example,c@d.example",
        "a@b.example\u2028",
        None,
    ],
)
def test_only_one_plain_address_is_an_email(value):
    assert text.email_problem(value) == text.EMAIL_MESSAGE


def test_fields_give_one_message_each():
    class Sample(Schema):
        name = text.Line(required=True, min=1, max=20)
        email = text.Email(required=True)
        body = text.Text(required=True, max=100)

    with pytest.raises(ValidationError) as caught:
        Sample().load({"name": "a\nb", "email": "Bob <b@x.example>", "body": "\u200b"})
    assert caught.value.messages == {
        "name": [text.LINE_MESSAGE],
        "email": [text.EMAIL_MESSAGE],
        "body": [text.VISIBLE_MESSAGE],
    }
    loaded = Sample().load({"name": "Ada", "email": "ada@x.example", "body": "Hi\nthere"})
    assert loaded["body"] == "Hi\nthere"
