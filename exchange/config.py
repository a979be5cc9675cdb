"""Default settings. No secrets live here.

Order of precedence (later wins): these defaults, ``instance/config.py``, then
environment variables prefixed ``EXCHANGE_`` (``EXCHANGE_DATABASE_URL`` sets
``DATABASE_URL``), then the mapping passed to ``create_app(config=...)``.
"""

# Database: None means the embedded SQLite file ``exchange.sqlite3`` in the instance folder.
DATABASE_URL = None
# Seconds a SQLite connection waits for a lock held by another worker before failing.
SQLITE_BUSY_TIMEOUT_MS = 5000

# Request bodies above this size are refused with 413 (attachments have their own limit).
MAX_CONTENT_LENGTH = 32 * 1024 * 1024

# Case attachments: the largest file accepted (413 above it) and where files are kept
# (None: the "attachments" folder in the instance folder).
ATTACHMENT_MAX_BYTES = 25 * 1024 * 1024
ATTACHMENTS_PATH = None
# Notes are plain text up to this many characters (413 above it).
NOTE_MAX_CHARS = 10_000

# OAuth2: access tokens issued by the client-credentials grant live this many seconds.
OAUTH2_TOKEN_EXPIRES_IN = {"client_credentials": 3600}
OAUTH2_REFRESH_TOKEN_GENERATOR = False

# Password hashing for people (werkzeug method string); the suite uses a cheap one.
PASSWORD_HASH_METHOD = "scrypt"
# The shortest password a person may choose (common passwords, and ones made of the
# person's e-mail or name, are refused at any length).
PASSWORD_MIN_LENGTH = 12

# Rate limits (flask-limiter notation: "10 per minute", "100 per hour"). Failed sign-ins
# count per client address and per account; token and revoke requests per address.
RATELIMIT_ENABLED = True
LOGIN_RATE_LIMIT_PER_IP = "30 per 5 minutes"
LOGIN_RATE_LIMIT_PER_ACCOUNT = "10 per 5 minutes"
TOKEN_RATE_LIMIT_PER_IP = "120 per minute"
# Where the counters live. memory:// is per process: with several gunicorn workers each
# counts on its own. Share them with redis://host:6379 or memcached://host:11211.
RATELIMIT_STORAGE_URI = "memory://"
# Behind this many trusted reverse proxies, the client address is taken from
# X-Forwarded-For (0: the address of the connection).
PROXY_FIX_X_FOR = 0

# Sessions for people using the web pages: cookies are HttpOnly and SameSite=Lax, and
# Secure unless the instance is in development (BASE_URL is plain http on a loopback
# address, as with `make run`). None means that rule; true or false overrides it.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = None
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_SECURE = None
PERMANENT_SESSION_LIFETIME = 12 * 3600
WTF_CSRF_TIME_LIMIT = None

# flask-smorest / OpenAPI.
API_TITLE = "exchange"
API_VERSION = "v1"
OPENAPI_VERSION = "3.1.0"
OPENAPI_URL_PREFIX = "/api/v1"
OPENAPI_JSON_PATH = "openapi.json"

# Lists.
PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 200

# Logging level for the exchange's own loggers.
LOG_LEVEL = "INFO"

# Demo data password (only used by ``exchange demo``).
DEMO_PASSWORD = "exchange-demo"

# Webhooks. Private, loopback and plain-http targets are for development and tests only.
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
# Fernet key encrypting endpoint secrets at rest; None derives one from SECRET_KEY.
WEBHOOK_ENCRYPTION_KEY = None
# After a secret rotation the old secret keeps signing for this long (0: not at all).
WEBHOOK_ROTATION_GRACE_SECONDS = 24 * 3600
# A receiver must answer 2xx within this many seconds.
WEBHOOK_TIMEOUT_SECONDS = 15
# Seconds to wait after each failed attempt (one entry per retry, then the delivery has
# failed); None is the built-in schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
WEBHOOK_RETRY_SCHEDULE = None
# The worker: deliveries claimed per round, their lease, parallel posts, idle poll.
WORKER_BATCH = 100
WORKER_LEASE_SECONDS = 300
WORKER_THREADS = 8
WORKER_POLL_SECONDS = 0.05
WORKER_SCAN_SECONDS = 1.0

# E-mail to people. Without MAIL_SMTP_HOST messages are written as .eml files under
# MAIL_OUTBOX_PATH (default: the "mail" folder in the instance folder).
MAIL_FROM = "exchange <exchange@localhost>"
MAIL_SMTP_HOST = None
MAIL_SMTP_PORT = 587
MAIL_SMTP_SECURITY = "starttls"  # "starttls", "tls" or "none"
MAIL_SMTP_USERNAME = None
MAIL_SMTP_PASSWORD = None
MAIL_SMTP_TIMEOUT_SECONDS = 30
MAIL_OUTBOX_PATH = None
# The address people reach the exchange at, for links in mail. None: the local address
# `exchange serve` listens on, http://127.0.0.1:<PORT> (PORT as gunicorn reads it,
# default 8000), so `PORT=8080 make run` mails links that work.
BASE_URL = None

# Case housekeeping: a resolved case the submitter leaves alone is closed after this many
# days (with a notice this many days before); an accepted case without activity for
# INACTIVITY_REMINDER_DAYS reminds both engineers.
AUTO_CLOSE_RESOLVED_DAYS = 7
AUTO_CLOSE_NOTICE_DAYS = 2
INACTIVITY_REMINDER_DAYS = 30
# Product lifecycle: admins are reminded this many days before a version's end of support.
END_OF_SUPPORT_NOTICE_DAYS = 90

# Idempotency-Key answers are remembered this long for retries, then forgotten.
IDEMPOTENCY_KEY_HOURS = 48
