"""Qike settings. Everything that differs between installs comes from the environment.

QIKE_HOME          data directory for the embedded default (SQLite files, keys); default ./var
DATABASE_URL       postgres://user:pass@host:port/name (default: SQLite in QIKE_HOME)
QIKE_REDIS_URL     redis://host:port/db for jobs and cache (default: huey on SQLite in QIKE_HOME)
QIKE_SECRET_KEY    Django's signing key (default: generated once into QIKE_HOME)
QIKE_ENCRYPTION_KEY  Fernet key(s), comma separated, newest first, for secrets and personal data at rest
                   (default: generated once into QIKE_HOME)
QIKE_DEBUG, QIKE_ALLOWED_HOSTS, QIKE_PUBLIC_URL (the URL WeCom reaches Qike at, for callback URLs)
QIKE_CALLBACK_MAX_AGE  seconds a callback's timestamp may differ from now (0 turns the check off)
QIKE_TRUSTED_PROXY_COUNT  reverse proxies in front of Qike (for client IPs in the audit trail)
"""

from __future__ import annotations

import os
from pathlib import Path

from qike.core.config import database_from_url, env_bool, env_int, home_secret

BASE_DIR = Path(__file__).resolve().parent
QIKE_HOME = Path(os.environ.get("QIKE_HOME", "var")).resolve()

DEBUG = env_bool("QIKE_DEBUG", False)
SECRET_KEY = os.environ.get("QIKE_SECRET_KEY") or home_secret(QIKE_HOME, "secret_key", "django")
QIKE_ENCRYPTION_KEYS = [
    key.strip()
    for key in (
        os.environ.get("QIKE_ENCRYPTION_KEY") or home_secret(QIKE_HOME, "encryption.key", "fernet")
    ).split(",")
    if key.strip()
]
ALLOWED_HOSTS = os.environ.get("QIKE_ALLOWED_HOSTS", "*").split(",")
QIKE_PUBLIC_URL = os.environ.get("QIKE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
QIKE_CALLBACK_MAX_AGE = env_int("QIKE_CALLBACK_MAX_AGE", 3600)
# How many reverse proxies append to X-Forwarded-For in front of Qike; 0 trusts no such header.
QIKE_TRUSTED_PROXY_COUNT = env_int("QIKE_TRUSTED_PROXY_COUNT", 0)
QIKE_CALLBACK_MAX_BYTES = env_int("QIKE_CALLBACK_MAX_BYTES", 64 * 1024)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "django_htmx",
    "qike.core",
    "qike.intake",
    "qike.org",
    "qike.tags",
    "qike.customers",
    "qike.engagement",
    "qike.acquisition",
    "qike.leads",
    "qike.phonetasks",
    "qike.referrals",
    "qike.lifecycle",
    "qike.transfers",
    "qike.retention",
    "qike.segments",
    "qike.campaigns",
    "qike.moments",
    "qike.audit",
    "qike.api",
    "qike.console",
    # Last: Django picks the first catalog that translates a string, and Qike's wording (筛选 for
    # "Filter") must win over the admin's (过滤器).
    "django.contrib.admin",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "qike.audit.context.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "qike.urls"
WSGI_APPLICATION = "qike.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "qike.console.context_processors.console",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        os.environ.get("DATABASE_URL", ""), default_sqlite=QIKE_HOME / "qike.sqlite3"
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("QIKE_REDIS_URL", "")
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.PriorityRedisHuey",
        "name": "qike",
        "url": REDIS_URL,
        "immediate": False,
        "consumer": {"workers": env_int("QIKE_WORKERS", 4), "worker_type": "thread"},
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "qike",
        "filename": str(QIKE_HOME / "jobs.sqlite3"),
        "immediate": False,
        # A SQLite queue is polled; huey's default back-off lets an idle worker sleep up to 10 s,
        # longer than half a welcome code's life. Poll at least every half second instead.
        "consumer": {
            "workers": env_int("QIKE_WORKERS", 2),
            "worker_type": "thread",
            "initial_delay": 0.05,
            "max_delay": 0.5,
        },
    }

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = QIKE_HOME / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing one
# htmx, Alpine.js and ECharts, installed from npm by `qike assets` (served under /static/vendor/).
STATICFILES_DIRS = [("vendor", QIKE_HOME / "vendor")]
(QIKE_HOME / "vendor").mkdir(parents=True, exist_ok=True)
AUTHENTICATION_BACKENDS = ["qike.console.auth.UserIdBackend"]
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:dashboard"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "qike": {"handlers": ["console"], "level": os.environ.get("QIKE_LOG_LEVEL", "INFO")},
        "huey": {"handlers": ["console"], "level": "WARNING"},
    },
}
