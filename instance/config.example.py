# Example instance configuration.
#
# Copy it to instance/config.py (or to config.py in the folder EXCHANGE_INSTANCE_PATH
# names) and edit. The exchange reads it as Python at start-up: every upper-case name
# becomes a setting and overrides the default in exchange/config.py. Environment
# variables prefixed EXCHANGE_ (EXCHANGE_DATABASE_URL, ...) override this file.
# instance/config.py is git-ignored; it may hold secrets.

# The database. None: the embedded SQLite file exchange.sqlite3 in the instance folder,
# for one host. For several workers on several hosts use PostgreSQL (psycopg 3 driver;
# percent-encode special characters in the password), then run `exchange db upgrade`.
DATABASE_URL = None
# DATABASE_URL = "postgresql+psycopg://exchange:change-me@db.internal:5432/exchange"

# Signs session cookies and CSRF tokens. Left unset, a random key is made on first
# start and kept in instance/secret_key; several hosts must share one key, so set it
# (here or as EXCHANGE_SECRET_KEY) to the output of:
#   python3 -c "import secrets; print(secrets.token_urlsafe(48))"
# SECRET_KEY = "paste-the-generated-value-here"

# Send the session cookie over HTTPS only. Set True when the exchange is served over
# HTTPS (behind a TLS reverse proxy); leave False for plain http://127.0.0.1:8000,
# where a secure cookie would never come back and signing in would fail.
SESSION_COOKIE_SECURE = False

# Lifetime of OAuth2 access tokens in seconds (default 3600). Programs fetch a new
# token when theirs runs out; there are no refresh tokens.
OAUTH2_TOKEN_EXPIRES_IN = {"client_credentials": 1800}

# Level of the exchange's own log messages: DEBUG, INFO, WARNING or ERROR.
LOG_LEVEL = "INFO"
