"""Standard Webhooks signatures and the endpoint secrets behind them.

``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` keyed with the
base64-decoded secret (``whsec_`` + base64 of 32 random bytes). Secrets are stored
encrypted (Fernet) with a key from the instance configuration: ``WEBHOOK_ENCRYPTION_KEY``,
or one derived from ``SECRET_KEY`` when that is not set.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,...`` signature of exactly these bytes."""
    signed = message_id.encode() + b"." + str(timestamp).encode() + b"." + body
    mac = hmac.new(_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signature_header(secrets_: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """Space-separated signatures, one per valid secret (two during a rotation)."""
    return " ".join(sign(s, message_id, timestamp, body) for s in secrets_)


def _fernet() -> Fernet:
    configured = current_app.config.get("WEBHOOK_ENCRYPTION_KEY")
    if configured:
        return Fernet(configured)
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"exchange-webhook-secrets", info=b"fernet"
    ).derive(current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()
