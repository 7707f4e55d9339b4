"""All settings. Environments differ only by environment variables (see .env.example);
dev.py, test.py and prod.py only change defaults and add start-up guards."""

from __future__ import annotations

import hashlib
import hmac
import sys
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from settings.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
    env_url,
    operator_terminal,
)
from settings.schedule import BEAT_SCHEDULE
from settings.types import RateLimit

BASE_DIR = Path(__file__).resolve().parent.parent
# Where the embedded default keeps its files: SQLite database, file cache, the Celery
# filesystem broker and beat's schedule. Production keeps none of these on app servers.
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "var"))).resolve()


def _ensure_folders(*folders: Path) -> None:
    """Creates the local folders the configuration uses, so any manage.py command works in a
    fresh clone: SQLite cannot create the folder of its database file, and the file cache and
    the filesystem broker expect theirs. Only what is configured to be used is created, so a
    server on PostgreSQL and Redis writes nothing here."""
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ImproperlyConfigured(
                f"DATA_DIR={DATA_DIR}: cannot create the folder {folder} ({exc.strerror})."
            ) from None


# Dev-only fallback; prod.py refuses any key that starts with "django-insecure".
SECRET_KEY = env_str("SECRET_KEY", "django-insecure-local-development-key-do-not-use-in-production")
# The key of the customers' manage links (booking.tokens). Never stored in the database, so a
# dump or a backup yields no working link; changing it revokes every link ever sent. Unset, it is
# derived from SECRET_KEY (which is not in the database either) under a label of its own; a
# dedicated key lets SECRET_KEY be rotated without revoking the links in customers' mailboxes.
# Production must set it explicitly: `check --deploy` reports booking.E001 while it is derived.
MANAGE_LINK_KEY_IS_DERIVED = not env_str("MANAGE_LINK_KEY", "")
MANAGE_LINK_KEY = (
    env_str("MANAGE_LINK_KEY", "")
    or hmac.new(SECRET_KEY.encode(), b"booking.manage-link-key", hashlib.sha256).hexdigest()
)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])

# Field encryption of customer data at rest (C26, security/fieldcrypto.py): Fernet keys, comma-
# separated, newest first (new data is sealed with the first; every listed key still opens old
# data, so a rotation is: add a key in front, `manage.py encryption_rotate`, drop the old one).
# The blind index key (HMAC of emails, for lookups) is separate so rotations leave it alone.
# Both may come from *_FILE. Empty: DEBUG and tests use the public development keys below;
# settings.prod refuses to start with them or without keys, and check --deploy says which
# (security.E010).
DEVELOPMENT_FIELD_ENCRYPTION_KEY = "yJ0bng3zjohL-TsAEK-2WCeXtvjcjOSk0ZTg5UYsc4M="
DEVELOPMENT_FIELD_BLIND_INDEX_KEY = "development-blind-index-key-not-a-secret-do-not-deploy"
FIELD_ENCRYPTION_KEYS = env_list(
    "FIELD_ENCRYPTION_KEYS", [DEVELOPMENT_FIELD_ENCRYPTION_KEY] if DEBUG else []
)
FIELD_BLIND_INDEX_KEY = env_str(
    "FIELD_BLIND_INDEX_KEY", DEVELOPMENT_FIELD_BLIND_INDEX_KEY if DEBUG else ""
)
# The public address of the site, used in links and calendar UIDs outside a request (emails).
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000", schemes={"http", "https"}).rstrip("/")
SITE_DOMAIN = SITE_URL.partition("://")[2].split("/")[0].split(":")[0]
# The platform's name on its pages, and its privacy notice: the operator's own (an https URL) or,
# when unset, the summary page /privacy/ of what the platform stores and for how long.
# Unset: "Online booking" in the reader's language.
PLATFORM_NAME = env_str("PLATFORM_NAME", "")
PRIVACY_NOTICE_URL = env_url("PRIVACY_NOTICE_URL", "", schemes={"https"})

INSTALLED_APPS = [
    # Django's admin with an admin site that answers only sessions that passed MFA (C13).
    "security.admin_apps.MFAAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "corsheaders",
    # TOTP devices (RFC 6238); before accounts, whose admin replaces django-otp's device admin.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "accounts",
    "security",  # before axes: its axes_reset_ip (which logs the unlock) overrides axes' own
    "axes",
    "booking",
    "payments",
    "backups",
]

MIDDLEWARE = [
    # Header middleware sits before WhiteNoise so static files get the same headers.
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "security.middleware.SecurityHeadersMiddleware",
    # django-csp's, with the header built once (no nonces: it never changes per request).
    "security.middleware.CSPMiddleware",
    # django-cors-headers' middleware, reading its one header from META (booking.cors).
    "booking.cors.CorsMiddleware",
    # Intrusion detection (C32): before the rate limits, so it sees their 429s too.
    "security.ids.IntrusionDetectionMiddleware",
    "security.middleware.RateLimitMiddleware",
    # /healthz after the security layer, before sessions, languages and authentication it never
    # uses (uptime monitors poll it often).
    "security.middleware.HealthCheckMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The visitor's language (the picker's cookie, else Accept-Language), where Django wants it:
    # after the session, before CommonMiddleware. After the security header middleware, so its
    # responses carry every header; after WhiteNoise, so static files get no
    # "Vary: Accept-Language" (one cached copy, not one per language). The rate limits answer
    # earlier and pick the language themselves (security.middleware.too_many_requests).
    # Django's LocaleMiddleware, adding "Vary: Cookie" where the picker's cookie chose.
    "booking.i18n.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): has this session passed the second factor (C13)?
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After auth and messages: needs request.user, and tells the user why they were logged out.
    "security.sessions.SessionLimitMiddleware",
    # After the session limits: staff sessions without MFA reach no admin page (C13).
    "security.mfa.MFARequiredMiddleware",
    # After authentication: the admin's pages in the reader's zone (the partner's, else UTC).
    "booking.admin.zone.WorkspaceTimeZoneMiddleware",
    # Who is acting, for events written outside a view (e.g. a password change in User.save()).
    # Last, as axes requires: turns a refused (locked) login into our 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "settings.urls"
WSGI_APPLICATION = "settings.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # The date patterns of the customer pages, per language.
                "booking.i18n.date_formats",
                # The platform's name and privacy notice, in every customer page's footer.
                "booking.views.site.platform",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{DATA_DIR / 'db.sqlite3'}",
    schemes={"sqlite", "postgres", "postgresql"},
)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE transactions take SQLite's write lock at BEGIN, which serialises writers
        # (the SQLite half of the "no double booking" guarantee); WAL lets readers go on.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    if str(DATABASES["default"]["NAME"]) not in {"", ":memory:"}:
        _ensure_folders(Path(DATABASES["default"]["NAME"]).parent)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery broker ------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", "", schemes={"redis", "rediss"})
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's backend, sharing one client per pool (security/cache.py says why).
            "BACKEND": "security.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "booking"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    # Embedded default: a file cache shared by every process on this machine (never process
    # memory: the web server, worker and beat must see the same counters), and kombu's own
    # filesystem transport, so scheduled jobs run without a broker server.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }
    # kombu's filesystem transport ignores the host; naming one spares every process that sends
    # a task kombu's false warning "No hostname was supplied".
    CELERY_BROKER_URL = "filesystem://localhost//"
    _queue_dir = DATA_DIR / "celery" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(DATA_DIR / "celery" / "processed"),
        "control_folder": str(DATA_DIR / "celery" / "control"),
        "store_processed": False,
    }
    _ensure_folders(
        DATA_DIR / "cache",
        _queue_dir,
        DATA_DIR / "celery" / "processed",
        DATA_DIR / "celery" / "control",
    )

# --- Celery -------------------------------------------------------------------------------------
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celery" / "beat-schedule")
CELERY_TIMEZONE = "UTC"
# /healthz asks the broker at most this often per process and reuses the answer (up or down) in
# between: opening a broker connection was most of the cost of a health request, and a monitor or
# load balancer polls every few seconds anyway.
HEALTHZ_BROKER_CHECK_SECONDS = 5
# Workers log through LOGGING (JSON lines) like the web processes, not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Auth and passwords (C10, C12) --------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# The lockout backend first: a locked address is refused before any password is hashed (C11).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Then the limit per account across addresses (security.lockout), also before any hashing.
    "security.lockout.AccountLockBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# bcrypt cost (log2 of the rounds) for new hashes; raising it upgrades hashes at the next login.
PASSWORD_BCRYPT_ROUNDS = env_int("PASSWORD_BCRYPT_ROUNDS", 12, minimum=12, maximum=16)
PASSWORD_HASHERS = [
    # New hashes are bcrypt-sha256 at PASSWORD_BCRYPT_ROUNDS (C10); the others only verify old
    # hashes, which Django upgrades at the next successful login.
    "security.hashers.BCryptSHA256Hasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
# Passphrases welcome: no composition rules, no rotation (C12). bcrypt-sha256 pre-hashes, so
# length past bcrypt's 72 bytes counts; the upper bound only caps the work one request can ask for.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "security.passwords.MaximumLengthValidator", "OPTIONS": {"max_length": 1024}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# A password reset link (staff only, accounts.views) works once and for one hour.
PASSWORD_RESET_TIMEOUT = 3600

# --- Multi-factor authentication (C13): django-otp ------------------------------------------------
# Staff and partner users (is_staff) pass a TOTP code or a one-time backup code after the password,
# or enrol an authenticator app at their first login, before any admin page answers
# (security.mfa enforces, accounts holds the pages). There is deliberately no switch to turn it off.
# The name authenticator apps show next to the account.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Booking")
# The admin's device pages never show a TOTP secret or its QR code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Where the MFA step is (a URL name): security.mfa sends unverified staff sessions there.
MFA_VERIFY_URL = "accounts:mfa-verify"
# Paths that answer only verified staff sessions (regexes on the path).
MFA_REQUIRED_PATHS = [r"^/admin/"]

# --- Login lockout (C11): django-axes -------------------------------------------------------------
# Every way in authenticates through django.contrib.auth.authenticate() with the request (the
# admin login, which is also the partner/staff login), so AxesStandaloneBackend guards them all;
# the MFA step sends user_login_failed on a wrong code (security.mfa), so it counts towards the
# same lock, and consults the lock before it checks any code.
# Failures are counted per client IP in the database (AccessAttempt), which every app server
# shares; the IP comes from security.client_ip (trusted proxies only), like the rate limits.
AXES_ENABLED = True
AXES_FAILURE_LIMIT = 3  # security.E005 insists on 3
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# IPv6 clients are counted per /64 (security.client_ip.lockout_key): one customer line.
AXES_CLIENT_IP_CALLABLE = "security.client_ip.lockout_address"
# The admin form and authenticate() call the e-mail address "username".
AXES_USERNAME_FORM_FIELD = "username"
AXES_PASSWORD_FORM_FIELD = "password"  # noqa: S105 - the form field's name
AXES_COOLOFF_HOURS = env_int("AXES_COOLOFF_HOURS", 1, minimum=1, maximum=24 * 7)
AXES_COOLOFF_TIME = AXES_COOLOFF_HOURS  # hours
# A failure while locked restarts the cool-off: a running attack stays locked out.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
# A success does not forgive earlier failures: an attacker cannot interleave a known account.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "security.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# The limit per account across all addresses (C11): this many failed logins for one account
# within the cool-off lock the account, except for addresses it logged in from successfully in
# the last LOCKOUT_KNOWN_ADDRESS_DAYS days (README "Logins" explains the trade-off).
LOCKOUT_ACCOUNT_FAILURE_LIMIT = env_int(
    "LOCKOUT_ACCOUNT_FAILURE_LIMIT", 10, minimum=4, maximum=1000
)
LOCKOUT_KNOWN_ADDRESS_DAYS = env_int("LOCKOUT_KNOWN_ADDRESS_DAYS", 90, minimum=0, maximum=400)
# The owner of an account hears of a lockout at most once in this many minutes.
LOCKOUT_EMAIL_INTERVAL_MINUTES = 60
# Addresses and usernames are personal data: axes' own log lines leave them out. Axes also keeps
# the POST data of a failed attempt: MFA codes and new passwords are masked there, like the
# password itself (AXES_PASSWORD_FORM_FIELD).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code", "new_password1", "new_password2"]

# --- Sessions (C14) -----------------------------------------------------------------------------
# For staff and partner users (is_staff), enforced on the server by security.sessions.
SESSION_IDLE_TIMEOUT_MINUTES = env_int(
    "SESSION_IDLE_TIMEOUT_MINUTES", 30, minimum=1, maximum=24 * 60
)
SESSION_MAX_AGE_HOURS = env_int("SESSION_MAX_AGE_HOURS", 12, minimum=1, maximum=7 * 24)
# The cookie outlives neither limit.
SESSION_COOKIE_AGE = SESSION_MAX_AGE_HOURS * 3600

# --- Email --------------------------------------------------------------------------------------
EMAIL_BACKEND = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    # One .eml file per mail under EMAIL_FILE_PATH and one log line (settings.dev's default).
    "file": "security.mail.FileBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}[env_choice("EMAIL_BACKEND", "console", {"smtp", "console", "file", "locmem"})]
EMAIL_FILE_PATH = str(DATA_DIR / "mail")
if EMAIL_BACKEND == "security.mail.FileBackend":
    _ensure_folders(Path(EMAIL_FILE_PATH))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Booking <no-reply@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
ADMINS = [("Operators", addr) for addr in env_list("OPERATOR_EMAILS", [])]

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "en"
# The platform's first market is Switzerland: its three main national languages and English.
# `booking.Booking.language` and `booking.ServiceTranslation.language` are limited to these codes
# by a database constraint: adding a language here needs a migration there.
LANGUAGES = [
    ("en", _("English")),
    ("de", _("German")),
    ("fr", _("French")),
    ("it", _("Italian")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
# The language picker's cookie: a preference, not a secret, but no script needs it either.
LANGUAGE_COOKIE_NAME = "language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
USE_TZ = True

# --- Static files -------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Files served at the site root by WhiteNoise, with the same headers as any response: the
# favicon, which browsers ask every site for.
WHITENOISE_ROOT = BASE_DIR / "public"


def _root_file_headers(headers: Any, path: str, url: str) -> None:
    """Root files keep their names (no hash to change when they do): the favicon is cached for
    a day rather than WhiteNoise's minute, so browsers stop asking on every page."""
    if url == "/favicon.ico":
        headers["Cache-Control"] = "max-age=86400, public"


WHITENOISE_ADD_HEADERS_FUNCTION = _root_file_headers

# --- Requests -----------------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 256 * 1024, minimum=1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

# --- Security headers (C04, C06, C07) --------------------------------------------------------
# One strict policy everywhere: no inline code at all, so no nonces are needed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "report-uri": ["/security/csp-report"],
    },
}
CSP_REPORTS_KEEP = env_int("CSP_REPORTS_KEEP", 10_000, minimum=100)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=(), interest-cohort=()"
)
SESSION_COOKIE_HTTPONLY = True
# Paths whose URL is the credential and whose readers are programs (calendar feeds): the session
# middleware never reads a session there (security.sessions.session_cookie_sent).
SESSIONLESS_PATHS = [r"^/feed/"]
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- CORS (C05): only the widget API, only to origins a partner registered --------------------
CORS_URLS_REGEX = r"^/api/v1/partners/"
CORS_ALLOWED_ORIGINS: list[str] = []  # decided per partner (booking.cors), never globally
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ["GET", "POST", "OPTIONS"]
CORS_ALLOW_HEADERS = ["accept", "content-type"]
CORS_PREFLIGHT_MAX_AGE = 86_400

# --- Client IP and rate limits (C01) ---------------------------------------------------------
# Proxies whose X-Forwarded-For we believe (see security/client_ip.py): networks, or a count.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=5)
RATE_LIMIT_ENABLED = env_bool("RATE_LIMIT_ENABLED", True)
# Most hits of one client an app process claims from the shared counter at once and serves
# without asking again (security/ratelimit.py, "Leases"); 1 asks on every request.
RATE_LIMIT_LEASE_MAX = env_int("RATE_LIMIT_LEASE_MAX", 64, minimum=1, maximum=1000)
# scope -> rate and what to do when the cache is down (fail_open: serve anyway).
RATE_LIMITS: dict[str, RateLimit] = {
    "booking": {"rate": env_str("RATE_LIMIT_BOOKING", "10/m"), "fail_open": False},
    "slots": {"rate": env_str("RATE_LIMIT_SLOTS", "120/m"), "fail_open": True},
    "pages": {"rate": env_str("RATE_LIMIT_PAGES", "120/m"), "fail_open": True},
    "api": {"rate": env_str("RATE_LIMIT_API", "120/m"), "fail_open": True},
    "manage": {"rate": env_str("RATE_LIMIT_MANAGE", "30/m"), "fail_open": False},
    "login": {"rate": env_str("RATE_LIMIT_LOGIN", "20/m"), "fail_open": False},
    "csp_report": {"rate": env_str("RATE_LIMIT_CSP_REPORT", "30/m"), "fail_open": False},
    # "Lost your link?": per client address (the rule below) and per email address (counted by
    # booking.services on a fingerprint of the address, so nobody can mail-bomb a customer).
    "lost_link": {"rate": env_str("RATE_LIMIT_LOST_LINK", "10/h"), "fail_open": False},
    "lost_link_email": {"rate": env_str("RATE_LIMIT_LOST_LINK_EMAIL", "3/h"), "fail_open": False},
    # Invitation links opened and passwords set per client IP; invitation emails per partner
    # (counted by booking.invitations, so an owner's account cannot be used to mail-bomb).
    "invitation": {"rate": env_str("RATE_LIMIT_INVITATION", "20/m"), "fail_open": False},
    "invitation_email": {
        "rate": env_str("RATE_LIMIT_INVITATION_EMAIL", "20/h"),
        "fail_open": False,
    },
    # Stripe's deliveries come from a few addresses; forged floods are bounded (each refusal is a
    # security event). Open when the cache is down: a lost payment event costs more.
    "webhook": {"rate": env_str("RATE_LIMIT_WEBHOOK", "600/m"), "fail_open": True},
    # Calendar feeds: per feed (counted by booking.views.feed on the secret's hash), not per
    # address: calendar services poll thousands of feeds from a few addresses, and a client
    # polls one feed every few minutes at most. Open when the cache is down: a read-only page.
    "feed": {"rate": env_str("RATE_LIMIT_FEED", "30/h"), "fail_open": True},
}
# (path regex, methods or "*" for all, scope): the first matching rule counts the request.
RATE_LIMIT_RULES = [
    (r"^/lost-link/[^/]+/$", "POST", "lost_link"),
    (r"^/api/v1/partners/[^/]+/bookings$", "POST", "booking"),
    (r"^/book/[^/]+/[^/]+/book/$", "POST", "booking"),
    (r"^/api/v1/partners/[^/]+/services/[^/]+/slots$", "GET,HEAD", "slots"),
    (r"^/book/[^/]+/[^/]+/$", "GET,HEAD", "slots"),
    # The partner page, the booking form page and the lost-link form: pages, not searches.
    (r"^/book/[^/]+/$", "GET,HEAD", "pages"),
    (r"^/book/[^/]+/[^/]+/book/$", "GET,HEAD", "pages"),
    (r"^/lost-link/[^/]+/$", "GET,HEAD", "pages"),
    # Every method: a HEAD costs what a GET does, and the rest get a cheap JSON 405 or 404.
    (r"^/api/", "*", "api"),
    (r"^/manage/", "GET,HEAD,POST", "manage"),
    (r"^/invitation/", "GET,HEAD,POST", "invitation"),
    (r"^/admin/login/$", "POST", "login"),
    (r"^/account/", "POST", "login"),  # the MFA step, enrolment, password reset
    (r"^/security/csp-report$", "POST", "csp_report"),
    (r"^/payments/stripe/webhook$", "POST", "webhook"),
]

# --- Intrusion detection (C32): security/ids.py, signatures in security/ids_signatures.toml --------
# block: score, block and alert; detect: only log (events, no block); off: no inspection.
IDS_MODE = env_choice("IDS_MODE", "block", {"block", "detect", "off"})
# A client (IPv6: its /64) reaching this score within IDS_WINDOW_MINUTES is blocked.
IDS_BLOCK_SCORE = env_int("IDS_BLOCK_SCORE", 20, minimum=10, maximum=1000)
IDS_WINDOW_MINUTES = env_int("IDS_WINDOW_MINUTES", 60, minimum=1, maximum=24 * 60)
IDS_BLOCK_MINUTES = env_int("IDS_BLOCK_MINUTES", 60, minimum=1, maximum=7 * 24 * 60)
# Denied answers (400/403/404/405/429) from one client within a minute that count as a scan.
IDS_DENIED_BURST = env_int("IDS_DENIED_BURST", 30, minimum=5, maximum=10_000)
# Networks never inspected or blocked (uptime monitors), e.g. 192.0.2.10/32,2001:db8::/64.
IDS_ALLOW_LIST = env_list("IDS_ALLOW_LIST", [])
# How long an app process trusts the block state of a client it read from the shared cache
# (security/ids.py): a block made by another process is enforced here within this many seconds
# (and at once by the process that made it); 0 reads it on every request.
IDS_BLOCK_RECHECK_SECONDS = env_int("IDS_BLOCK_RECHECK_SECONDS", 1, minimum=0, maximum=60)
# Bodies that carry other parties' text, signed or size-limited elsewhere: not inspected.
IDS_BODY_EXEMPT_PATHS = [r"^/payments/stripe/webhook$", r"^/security/csp-report$"]
# File integrity: what `manage.py integrity_baseline` hashes and the hourly job compares (folders
# or files): the code, templates, root files and collected static files of this deployment.
INTEGRITY_PATHS = env_list(
    "INTEGRITY_PATHS",
    [
        *(
            str(BASE_DIR / name)
            for name in ("accounts", "booking", "payments", "security", "backups", "settings")
        ),
        *(
            str(BASE_DIR / name)
            for name in ("templates", "public", "manage.py", "requirements.lock")
        ),
        str(STATIC_ROOT),
    ],
)

# --- Vulnerability disclosure (C34) ------------------------------------------------------------
SECURITY_CONTACTS = env_list("SECURITY_CONTACTS", ["mailto:security@booking.example"])
SECURITY_TXT_EXPIRES_DAYS = env_int("SECURITY_TXT_EXPIRES_DAYS", 180, minimum=7, maximum=364)
SECURITY_TXT_LANGUAGES = env_str("SECURITY_TXT_LANGUAGES", "en, de")

# --- Continuous compliance (C30) ----------------------------------------------------------------
# How long the hourly results behind the admin's compliance history are kept.
COMPLIANCE_HISTORY_DAYS = env_int("COMPLIANCE_HISTORY_DAYS", 400, minimum=30)

# --- Anchor of the security event log (C31) ----------------------------------------------------
# Folders the daily signed anchor file goes to, besides the operators' mail; the backup
# destinations join through security.anchor.register_anchor_store. Development: DATA_DIR/anchors.
ANCHOR_DESTINATIONS = env_list("ANCHOR_DESTINATIONS", [str(DATA_DIR / "anchors")] if DEBUG else [])

# --- Logging: one JSON object per line on stderr ----------------------------------------------
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"})
# Servers (gunicorn, Celery, runserver) and commands run by cron, CI or a container's log driver
# write JSON lines for the log collector. A manage.py command that a person runs at a terminal
# is the exception: nothing collects that terminal, the command's own output says what it did
# (and the security events it writes are kept in the database), so JSON lines would only bury
# its answer. There the log shows warnings and errors as plain text; LOG_LEVEL=DEBUG shows all.
# Decided here, when logging is configured, because it is a property of the process (which
# command, whose stream), not of any one command: Django's own and third-party commands are
# covered too.
OPERATOR_TERMINAL = operator_terminal(sys.argv, sys.stderr)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "security.logging.JsonFormatter"},
        "console": {"()": "security.logging.ConsoleFormatter"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "console" if OPERATOR_TERMINAL else "json",
            "level": (
                "WARNING" if OPERATOR_TERMINAL and LOG_LEVEL in {"INFO", "WARNING"} else LOG_LEVEL
            ),
        }
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "celery": {"level": LOG_LEVEL},
        # Logins and lockouts are logged as security events (security.signals); axes' own
        # per-request lines would only repeat them.
        "axes": {"level": "WARNING"},
        # The stripe library logs every request at INFO; our own lines say what matters.
        "stripe": {"level": "WARNING"},
        # runserver's request lines through our handler (redacted, security.logging), not
        # Django's own, which would print the manage links' tokens.
        "django.server": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}

# --- Backups (C21-C25) ---------------------------------------------------------------------------
# Destination URLs: a path (or file://), sftp://user@host:port/path?host_key=SHA256:..., or
# s3://bucket/prefix?endpoint_url=https://...; production uses three different servers
# (backups.E001). The default, three local folders, runs the whole cycle on a newcomer's machine.
BACKUP_DESTINATIONS = env_list(
    "BACKUP_DESTINATIONS", [str(DATA_DIR / "backups" / name) for name in ("a", "b", "c")]
)
# Written once a day by its own job (a removable or write-once medium), otherwise untouched.
BACKUP_OFFLINE_DESTINATION = env_str(
    "BACKUP_OFFLINE_DESTINATION", str(DATA_DIR / "backups" / "offline")
)
# age recipient (age1...). Empty: DEBUG generates a dev key pair under DATA_DIR/backups on first
# use; anywhere else backups refuse to run.
BACKUP_PUBLIC_KEY = env_str("BACKUP_PUBLIC_KEY", "")
# The age identity (private key) file; only on machines that verify, restore and drill.
BACKUP_IDENTITY_FILE = env_str("BACKUP_IDENTITY_FILE", "")
BACKUP_RETENTION_DAYS = env_int("BACKUP_RETENTION_DAYS", 30, minimum=1)
BACKUP_MAX_AGE_HOURS = env_int("BACKUP_MAX_AGE_HOURS", 13, minimum=1)
BACKUP_OFFLINE_MAX_AGE_HOURS = env_int("BACKUP_OFFLINE_MAX_AGE_HOURS", 25, minimum=1)
# SFTP: a known_hosts file pinning the servers' host keys (or host_key= in each URL), and the
# private key the client logs in with.
BACKUP_SFTP_KNOWN_HOSTS = env_str("BACKUP_SFTP_KNOWN_HOSTS", "")
BACKUP_SFTP_KEY_FILE = env_str("BACKUP_SFTP_KEY_FILE", "")
# Ed25519 key that signs every manifest (PEM, `manage.py backup_signing_key --generate FILE`);
# given as BACKUP_SIGNING_KEY_FILE, and only on the app servers that write backups. Empty: DEBUG
# generates a development key under DATA_DIR/backups; anywhere else backups refuse to run.
BACKUP_SIGNING_KEY = env_str("BACKUP_SIGNING_KEY", "")
# The public keys (ed25519:...) whose signatures are believed; a machine that only verifies or
# restores needs this list. Empty: only the signing key's own. During a key rotation list both.
BACKUP_SIGNING_PUBLIC_KEYS = env_list("BACKUP_SIGNING_PUBLIC_KEYS", [])
BACKUP_INTERVAL_HOURS = 12
# Where a backup is put together before it is stored (encrypted only): room for one backup.
BACKUP_WORK_DIR = Path(env_str("BACKUP_WORK_DIR", str(DATA_DIR / "backups" / "work")))
# Per destination and operation: attempts, and the first pause (doubling each retry).
BACKUP_RETRY_ATTEMPTS = 3
BACKUP_RETRY_BACKOFF_SECONDS = 2.0
# Connect and read timeout of every SFTP and S3 operation: a server that accepts and never
# answers fails the operation after this long instead of holding the job.
BACKUP_IO_TIMEOUT_SECONDS = env_int("BACKUP_IO_TIMEOUT_SECONDS", 60, minimum=1, maximum=3600)
# The time one destination may take in one job (store, read back, list, fill, purge): past it
# the destination counts as failed and the operators are alerted, whatever it is doing.
BACKUP_DESTINATION_BUDGET_SECONDS = env_int(
    "BACKUP_DESTINATION_BUDGET_SECONDS", 1800, minimum=10, maximum=6 * 3600
)
# Besides the newest backup, how many older ones the daily verification reads back, in turn.
BACKUP_VERIFY_SAMPLE = env_int("BACKUP_VERIFY_SAMPLE", 2, minimum=0, maximum=100)
# The purge runs every hour (settings/schedule.py) and deletes what would pass the retention
# period before its next run, so no backup is kept longer than BACKUP_RETENTION_DAYS.
BACKUP_PURGE_INTERVAL_HOURS = 1

# --- Payments with Stripe (C20) ------------------------------------------------------------------
# The platform's own Stripe account. Secrets may come from files (STRIPE_SECRET_KEY_FILE...).
# Without all three keys, paid services cannot be booked online and payments.W001 warns.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
# Where the stripe library and Stripe.js are: Stripe's own unless a local stand-in is used.
STRIPE_API_BASE = env_url(
    "STRIPE_API_BASE", "https://api.stripe.com", schemes={"http", "https"}
).rstrip("/")
STRIPE_JS_URL = env_url("STRIPE_JS_URL", "https://js.stripe.com/v3/", schemes={"http", "https"})
PAYMENTS_ENABLED = bool(STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET)
# How long a chosen time is held for a paid service while the customer pays.
PAYMENT_HOLD_MINUTES = env_int("PAYMENT_HOLD_MINUTES", 15, minimum=5, maximum=24 * 60)
# The webhook's accepted clock difference (Stripe's default); raw bodies above the cap are refused.
STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300
STRIPE_WEBHOOK_MAX_BYTES = 256 * 1024
