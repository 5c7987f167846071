"""Test settings: the same project, with a throwaway data directory, fixed keys, jobs run inline
(huey immediate mode) and, when QIKE_TEST_DATABASE_URL is set, PostgreSQL instead of SQLite."""

import os
import tempfile

os.environ["QIKE_HOME"] = tempfile.mkdtemp(prefix="qike-test-")
os.environ.setdefault("QIKE_SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("QIKE_ENCRYPTION_KEY", "gVKc8kPSWYC0aYmDn7PR0jqn1vxX3nq6xKmCf6Sx3uM=")
os.environ.pop("QIKE_REDIS_URL", None)
os.environ.pop("DATABASE_URL", None)

from qike.core.config import database_from_url
from qike.settings import *  # noqa: F403

_test_url = os.environ.get("QIKE_TEST_DATABASE_URL", "")
if _test_url:
    DATABASES = {"default": database_from_url(_test_url, default_sqlite=QIKE_HOME / "unused")}  # noqa: F405
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(QIKE_HOME / "test.sqlite3"),  # noqa: F405
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},  # as in production
            "TEST": {"NAME": str(QIKE_HOME / "test-db.sqlite3")},  # noqa: F405
        }
    }

HUEY = {"huey_class": "huey.MemoryHuey", "name": "qike-test", "immediate": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
QIKE_CALLBACK_MAX_AGE = 0  # tests move wecomsim's clock; replay protection has its own test
