"""Settings for an app under test: the suite's database, the real Redis, a storage folder."""

import atexit
import secrets
import shutil
import tempfile

from tests.support import services

STORAGE_ROOT = tempfile.mkdtemp(prefix="aikey-test-storage-")
atexit.register(shutil.rmtree, STORAGE_ROOT, ignore_errors=True)


def app_settings(database_url: str, **overrides) -> dict:
    """Settings for an app under test, pointed at the given database and the real Redis."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-" + secrets.token_hex(8),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": services.redis_url(),
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": services.redis_url(),
        "CACHE_KEY_PREFIX": f"aikey-test-{secrets.token_hex(4)}:",
        "SERVER_NAME": None,
        # Never the project's own var/storage: runs started by tests must find only test files.
        "STORAGE_URI": STORAGE_ROOT,
        # The suite signs in hundreds of times from one address: limits are raised here and
        # lowered only by the rate-limit tests, each with a key prefix of its own.
        "RATELIMIT_STORAGE_URI": services.redis_url(),
        "RATELIMIT_KEY_PREFIX": f"aikey-test-limits-{secrets.token_hex(4)}",
        "LOGIN_RATE_LIMIT": "100000 per minute",
        "LOGIN_EMAIL_RATE_LIMIT": "100000 per minute",
        "HOOK_RATE_LIMIT": "100000 per minute",
    }
    config.update(overrides)
    return config
