"""Input classes the schema alone never makes schemathesis generate, each of which once
was a 500: lone surrogates in JSON strings, JSON nested past any sane depth, and control
characters (line breaks, escape, DEL, C1, bidi overrides, line separators) in strings.

``hostile_body`` turns part of the generated bodies into such a body; ``hostile_text``
does the same to query and path strings (no surrogates there: a URL cannot carry them).
"""

from __future__ import annotations

from hypothesis import strategies as st

LONE_SURROGATES = ("\ud800", "\udbff", "\udc00", "\udfff")
CONTROLS = ("\n", "\r\n", "\r", "\t", "\x1b[31m", "\x7f", "\x85", "\u2028", "\u202e", "\x0c")
# Past the exchange's limit (32) and deep enough to have broken a recursive walk; the
# client's own json.dumps recurses too, so bodies nested thousands deep are sent by
# tests/test_hostile_json.py instead.
DEPTHS = (33, 100, 600)


def _spoil(text: str, bad: str, where: int) -> str:
    cut = where % (len(text) + 1)
    return text[:cut] + bad + text[cut:]


def _paths(value, prefix=()) -> list[tuple]:
    """Every path to a string (as a value or a key) or to a container in ``value``."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.append((*prefix, ("key", key)))
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


def _replace(value, path: tuple, change):
    if not path:
        return change(value)
    head, rest = path[0], path[1:]
    if isinstance(head, tuple):  # the key itself
        key = head[1]
        return {(change(k) if k == key and isinstance(k, str) else k): v for k, v in value.items()}
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replace(value[head], rest, change)
    return copy


def _nest(value, depth: int, as_object: bool):
    for _ in range(depth):
        value = {"a": value} if as_object else [value]
    return value


@st.composite
def hostile_body(draw, body):
    """``body`` unchanged two times in five; else one string in it (value or key) with a
    lone surrogate or a control character, or one value nested far too deep."""
    kind = draw(st.sampled_from(["keep", "keep", "surrogate", "control", "deep"]))
    if kind == "keep" or not isinstance(body, dict | list):
        return body
    path = draw(st.sampled_from(_paths(body)))
    where = draw(st.integers(0, 1000))
    if kind == "deep":
        depth, as_object = draw(st.sampled_from(DEPTHS)), draw(st.booleans())
        if path and isinstance(path[-1], tuple):
            path = path[:-1]
        return _replace(body, path, lambda v: _nest(v, depth, as_object))
    bad = draw(st.sampled_from(LONE_SURROGATES if kind == "surrogate" else CONTROLS))

    def change(value):
        return _spoil(value, bad, where) if isinstance(value, str) else bad

    return _replace(body, path, change)


@st.composite
def hostile_text(draw, values):
    """Query or path parameters unchanged two times in three; else one string among them
    with a control character."""
    if not isinstance(values, dict) or not values or draw(st.integers(0, 2)):
        return values
    name = draw(st.sampled_from(sorted(values)))
    if not isinstance(values[name], str):
        return values
    bad = draw(st.sampled_from(CONTROLS))
    return {**values, name: _spoil(values[name], bad, draw(st.integers(0, 1000)))}
