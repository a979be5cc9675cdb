"""The password policy for people: long enough, not a well-known password, and not
made of the person's own e-mail address or name.

``problems(...)`` is checked wherever a password is set (invitation link, admin page,
API, ``exchange create-user``); the member service turns its answers into a 422 on the
``password`` field. This module imports nothing of ours, so any package may use it.

``hash_password`` and ``verify`` are the only places a password hash is made or checked;
``verify`` does the same hash work when there is no hash to check (see its docstring).
"""

from __future__ import annotations

import re
import secrets

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

# Passwords at least 12 characters long that appear near the top of public leaked-
# password lists (shorter ones already fail the length rule), plus obvious patterns.
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456123456",
        "111111111111",
        "000000000000",
        "qwertyuiopas",
        "qwertyuiop123",
        "qwerty123456",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "password1234",
        "password12345",
        "password123456",
        "passwordpassword",
        "iloveyou1234",
        "letmein12345",
        "welcome12345",
        "welcome123456",
        "changeme1234",
        "administrator",
        "administrator1",
        "adminadmin123",
        "trustno1trustno1",
        "football1234",
        "baseball1234",
        "sunshine1234",
        "princess1234",
        "monkey123456",
        "dragon123456",
        "superman1234",
        "starwars1234",
        "correcthorsebatterystaple",
        "correct horse battery staple",
        "abcdefghijkl",
        "abc123abc123",
        "asdfghjklasd",
        "zxcvbnm12345",
        "aaaaaaaaaaaa",
        "exchange1234",
        "exchange12345",
    }
)


def _letters(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def problems(password: str, *, email: str = "", name: str = "") -> list[str]:
    """What is wrong with ``password`` for this person (empty when it is acceptable)."""
    minimum = int(current_app.config.get("PASSWORD_MIN_LENGTH", 12))
    found: list[str] = []
    if len(password) < minimum:
        found.append(f"Use at least {minimum} characters.")
    plain = _letters(password)
    if password.lower() in COMMON_PASSWORDS or plain in COMMON_PASSWORDS or len(set(plain)) < 3:
        found.append("This password is too common or too simple; choose another one.")
    local = _letters(email.split("@")[0]) if email else ""
    own = {_letters(email), local, _letters(name), *(_letters(w) for w in name.split())}
    if plain and any(len(part) >= 4 and part in plain for part in own):
        found.append("Do not use your e-mail address or name in your password.")
    return found


def _method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_method())


_dummy_hashes: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash of a random password with the configured method (made once per method)."""
    method = _method()
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash(secrets.token_urlsafe(24), method=method)
    return _dummy_hashes[method]


def verify(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``. Without a hash (no account, no
    password chosen yet) it checks a dummy hash of the configured method and answers
    False: the same work either way, so the time of a failed sign-in does not tell
    whether the account exists."""
    matches = check_password_hash(password_hash or _dummy_hash(), password)
    return bool(password_hash) and matches
