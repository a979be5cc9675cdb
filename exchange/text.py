"""Rules for text people and programs type in, shared by every entrance (API schemas,
HTML forms, the CLI, the services behind them), so one field meets one rule everywhere.

- A single-line field (a case summary, people's, members' and contacts' names, product
  names, e-mail addresses, phones, references) holds no control character: no C0 or C1
  control (line breaks and tabs included) and no Unicode line or paragraph separator.
  Such a character in a mail subject or header breaks the mail, and in a one-line
  display it hides or fakes text.
- A mandatory text (a business impact, an escalation reason, a question, an answer, an
  explanation, a resolution, a note, a case summary or description) has visible text:
  spaces and invisible characters (zero-width spaces and joiners, word joiners, the byte
  order mark, other format characters, blank fillers) alone do not count.
- An e-mail address is one plain address (``name@domain``): no display name, no list,
  no control character.

The ``*_problem`` functions answer a message or None; the others are marshmallow
validators and fields built on them. This module imports nothing of ours, so every
package may use it.
"""

from __future__ import annotations

import re
import unicodedata

from marshmallow import ValidationError, fields, validate

LINE_MESSAGE = "Use one line of text, without line breaks, tabs or other control characters."
VISIBLE_MESSAGE = "Write some text: spaces or invisible characters alone do not count."
EMAIL_MESSAGE = "Not a valid email address."

# C0 (tab, line feed, carriage return among them), DEL, C1 (NEL among them), and the
# Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Letters and symbols that show as blank space although they are not "space".
_BLANK_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_email = validate.Email(error=EMAIL_MESSAGE)


def line_problem(value: str | None) -> str | None:
    """Why ``value`` is no single line of text (None when it is, or when it is None)."""
    if value is not None and _CONTROL.search(value):
        return LINE_MESSAGE
    return None


def _invisible(char: str) -> bool:
    # Cf: format characters, such as U+200B-U+200D, U+2060 and U+FEFF.
    return char.isspace() or unicodedata.category(char) == "Cf" or char in _BLANK_FILLERS


def has_visible_text(value: str | None) -> bool:
    return bool(value) and not all(_invisible(char) for char in value)


def visible_problem(value: str | None) -> str | None:
    """Why ``value`` is no mandatory text (None when it has visible text)."""
    return None if has_visible_text(value) else VISIBLE_MESSAGE


def email_problem(value: str | None) -> str | None:
    """Why ``value`` is no single plain e-mail address (None when it is one)."""
    if value is None or line_problem(value):
        return EMAIL_MESSAGE
    try:
        _email(value)
    except ValidationError:
        return EMAIL_MESSAGE
    return None


# -- marshmallow validators and fields ------------------------------------------------


def single_line(value: str) -> None:
    problem = line_problem(value)
    if problem:
        raise ValidationError(problem)


def visible(value: str) -> None:
    problem = visible_problem(value)
    if problem:
        raise ValidationError(problem)


def email_address(value: str) -> None:
    problem = email_problem(value)
    if problem:
        raise ValidationError(problem)


def Line(*, max: int, min: int = 0, **kwargs) -> fields.Str:
    """A single-line string field; with ``min`` >= 1 it must also have visible text."""
    rules = [validate.Length(min=min, max=max), single_line]
    if min >= 1:
        rules.append(visible)
    return fields.Str(validate=rules, **kwargs)


def Text(*, max: int, **kwargs) -> fields.Str:
    """A mandatory text (several lines allowed) that must have visible text."""
    return fields.Str(validate=[validate.Length(min=1, max=max), visible], **kwargs)


class Email(fields.Email):
    """An e-mail address field with the exchange's one rule (``email_problem``)."""

    default_error_messages = {"invalid": EMAIL_MESSAGE}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # In place of marshmallow's own check (which ``email_address`` includes), so a
        # bad address gets one message, not two.
        self.validators = [v for v in self.validators if not isinstance(v, validate.Email)] + [
            email_address
        ]


def check(errors: dict[str, list[str]], field: str, problem: str | None) -> None:
    """Collect ``problem`` for ``field`` (for services that check several fields)."""
    if problem:
        errors.setdefault(field, []).append(problem)
