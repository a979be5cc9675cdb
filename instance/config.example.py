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

# The address people reach the exchange at (links in e-mail). It also decides whether
# the session cookie is Secure (HTTPS only): it is, unless this is plain http on a
# loopback address (development, `make run`). SESSION_COOKIE_SECURE = True/False
# overrides that rule; see docs/security.md.
# BASE_URL = "https://exchange.example.org"

# Rate-limit counters: memory:// is per process; several gunicorn workers or hosts
# share them in Redis or Memcached (docs/deploy.md).
# RATELIMIT_STORAGE_URI = "redis://redis.internal:6379/0"

# Lifetime of OAuth2 access tokens in seconds (default 3600). Programs fetch a new
# token when theirs runs out; there are no refresh tokens.
OAUTH2_TOKEN_EXPIRES_IN = {"client_credentials": 1800}

# Level of the exchange's own log messages: DEBUG, INFO, WARNING or ERROR.
LOG_LEVEL = "INFO"

# --- Cases --------------------------------------------------------------------------

# Largest case attachment in bytes (default 25 MiB); larger uploads answer 413. Uploads
# are also bound by MAX_CONTENT_LENGTH (default 32 MiB): raise both together.
# ATTACHMENT_MAX_BYTES = 25 * 1024 * 1024
# Where attachment files are kept (one file per SHA-256). None: the "attachments" folder
# in the instance folder. With several hosts, a folder on shared storage, the same path
# on every host.
# ATTACHMENTS_PATH = "/srv/exchange/attachments"
# Longest note in characters (default 10,000); longer notes answer 413.
# NOTE_MAX_CHARS = 10_000

# A resolved case the submitter neither closes nor reopens is closed after this many
# days, with a notice to the submitting engineer AUTO_CLOSE_NOTICE_DAYS before; an
# accepted case without activity for INACTIVITY_REMINDER_DAYS reminds both engineers.
# AUTO_CLOSE_RESOLVED_DAYS = 7
# AUTO_CLOSE_NOTICE_DAYS = 2
# INACTIVITY_REMINDER_DAYS = 30
# A product version's member is told this many days before its end of support.
# END_OF_SUPPORT_NOTICE_DAYS = 90

# --- Webhooks -----------------------------------------------------------------------

# The Fernet key that encrypts webhook endpoint secrets in the database. None derives
# one from SECRET_KEY. A deployment sets its own, the same on every host, and keeps it
# with its backups (secrets encrypted with another key cannot be read). Generate with:
#   python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
# WEBHOOK_ENCRYPTION_KEY = "paste-the-generated-value-here"

# After a secret rotation the old secret also signs for this long, in seconds (default
# 24 h), unless the rotation names its own grace_seconds (0 for a leaked secret).
# WEBHOOK_ROTATION_GRACE_SECONDS = 24 * 3600

# A receiver must answer 2xx within this many seconds, or the attempt failed.
# WEBHOOK_TIMEOUT_SECONDS = 15

# Development and tests only: let webhook endpoints use plain http:// and private,
# loopback and link-local addresses (every start logs a warning). Never on a shared
# deployment. Usually set for one run: EXCHANGE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS=1 make run
# WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False

# --- The background worker (exchange worker; exchange serve starts one) -------------

# Webhook deliveries claimed per round, how long a claim lasts in seconds (a worker
# that dies leaves its deliveries to another worker after this; keep it well above
# WORKER_BATCH / WORKER_THREADS * WEBHOOK_TIMEOUT_SECONDS), deliveries posted in
# parallel, and the wait in seconds after a round that found nothing to do.
# WORKER_BATCH = 100
# WORKER_LEASE_SECONDS = 300
# WORKER_THREADS = 8
# WORKER_POLL_SECONDS = 0.05
# WORKER_SCAN_SECONDS = 1.0
# IDEMPOTENCY_KEY_HOURS = 48
# (exchange serve starts no worker of its own when the environment has
# EXCHANGE_SERVE_WORKER=0; that is an environment variable, not a setting.)

# --- E-mail -------------------------------------------------------------------------

# Without MAIL_SMTP_HOST, mail is written as .eml files to MAIL_OUTBOX_PATH (None: the
# "mail" folder in the instance folder).
# MAIL_FROM = "exchange <exchange@example.org>"
# MAIL_SMTP_HOST = "smtp.example.org"
# MAIL_SMTP_PORT = 587
# MAIL_SMTP_SECURITY = "starttls"   # "starttls", "tls" or "none"
# MAIL_SMTP_USERNAME = "exchange"
# MAIL_SMTP_PASSWORD = "change-me"
# MAIL_SMTP_TIMEOUT_SECONDS = 30
# MAIL_OUTBOX_PATH = None
# The address people reach the exchange at, for the links in mail.
# BASE_URL = "https://exchange.example.org"
