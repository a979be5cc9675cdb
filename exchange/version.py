"""The exchange's dated version signature, sent on every response and in every log line."""

VERSION = "0.1.0"
RELEASE_DATE = "2026-11-23"
SIGNATURE = f"{VERSION} ({RELEASE_DATE})"
