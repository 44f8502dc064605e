"""Settings read from the environment, with embedded defaults for a laptop."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

PRODUCTION_NAMES = {"production", "prod"}


def is_production() -> bool:
    """Return True when AIKEY_ENV, and nothing else, names a production deployment."""
    return os.environ.get("AIKEY_ENV", "").strip().lower() in PRODUCTION_NAMES


def load_env_file(path: Path) -> bool:
    """Read KEY=value lines of a local .env into the environment; real variables win."""
    from dotenv import load_dotenv

    return load_dotenv(path, override=False)


def normalize_database_url(url: str) -> str:
    """Accept postgres:// and postgresql:// alike, both served by psycopg2."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def load_secret_key(instance_path: Path) -> str:
    """Return SECRET_KEY from the environment, or a dev key generated once into instance/."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if is_production():
        raise RuntimeError("SECRET_KEY must be set when AIKEY_ENV=production")
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def cache_settings(redis_url: str | None) -> dict:
    """Flask-Caching settings: Redis when REDIS_URL is set, an in-process cache otherwise."""
    if redis_url:
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "aikey:"),
            "CACHE_OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    return {"CACHE_TYPE": "SimpleCache"}


def build_config(instance_path: Path) -> dict:
    """Assemble the app's settings from the environment."""
    production = is_production()
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'aikey.db'}"
    redis_url = os.environ.get("REDIS_URL") or None
    return {
        "AIKEY_PRODUCTION": production,
        "SECRET_KEY": load_secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url),
        "REDIS_URL": redis_url,
        **cache_settings(redis_url),
        "CACHE_DEFAULT_TIMEOUT": int(os.environ.get("CACHE_DEFAULT_TIMEOUT", "300")),
        "STORAGE_URI": os.environ.get("STORAGE_URI") or str(Path("var/storage").resolve()),
        **session_settings(production),
        # Local pipeline runs: worker processes (0 = one per core; 1 = in-process, no start-up).
        "PIPELINE_WORKERS": int(os.environ.get("PIPELINE_WORKERS", "1")),
        "LOCKOUT_THRESHOLD": 5,
        "LOCKOUT_DURATION": timedelta(minutes=15),
        "WTF_CSRF_TIME_LIMIT": None,
        "SEED_PASSWORD": os.environ.get("SEED_PASSWORD"),
        **cloud_settings(),
        **signin_settings(redis_url),
    }


def engine_options(database_url: str) -> dict:
    """Connection pool settings: pre-ping, recycling, and on PostgreSQL a fixed-size pool."""
    # Pre-ping: a connection Cloud SQL dropped (maintenance, failover) is replaced before a
    # doctor's request uses it, at the cost of one short round trip per checkout; recycling
    # keeps idle ones from going stale.
    options = {"pool_pre_ping": True, "pool_recycle": 1800}
    if database_url.startswith(("postgres://", "postgresql")):
        # A fixed pool per worker process, no overflow: a request beyond DATABASE_POOL_SIZE
        # waits for a connection instead of opening one that is closed again on return. With
        # overflow, 16 connections spread unevenly over 4 workers opened a new PostgreSQL
        # backend (a fork and a catalog load) every few requests.
        size = int(os.environ.get("DATABASE_POOL_SIZE", "16"))
        options |= {"pool_size": size, "max_overflow": 0, "pool_timeout": 10}
    return options


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def signin_settings(redis_url: str | None) -> dict:
    """Rate limits, the second factor and temporary passwords (README, "Signing in")."""
    env = os.environ.get
    return {
        "TEMP_PASSWORD_HOURS": float(env("TEMP_PASSWORD_HOURS", "72")),
        "REQUIRE_DOCTOR_MFA": _flag(env("REQUIRE_DOCTOR_MFA")),
        "LOGIN_RATE_LIMIT": env("LOGIN_RATE_LIMIT") or "20 per minute; 200 per hour",
        "LOGIN_EMAIL_RATE_LIMIT": env("LOGIN_EMAIL_RATE_LIMIT") or "10 per minute; 50 per hour",
        "HOOK_RATE_LIMIT": env("HOOK_RATE_LIMIT") or "120 per minute",
        # Flask-Limiter: Redis shared by every instance; memory while Redis is unreachable.
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": env("RATELIMIT_KEY_PREFIX", "aikey-limits"),
        "RATELIMIT_HEADERS_ENABLED": True,
    }


def session_settings(production: bool) -> dict:
    """Server-side session limits, the cookie that carries the session id, proxies, body size."""
    env = os.environ.get
    max_age = timedelta(hours=float(env("SESSION_MAX_HOURS", "12")))
    return {
        # __Host- makes the browser insist on Secure, Path=/ and no Domain (ASVS 3.4.4).
        "SESSION_COOKIE_NAME": "__Host-aikey_session" if production else "session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_PATH": "/",
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": max_age,
        # The cookie is set at sign-in to end with the server-side session's maximum age; the
        # server decides idleness, so re-signing and re-sending it on every response buys
        # nothing (and cost every page a serialisation and a Set-Cookie header).
        "SESSION_REFRESH_EACH_REQUEST": False,
        "IDLE_TIMEOUT": timedelta(minutes=float(env("IDLE_TIMEOUT_MINUTES", "30"))),
        "SESSION_MAX_AGE": max_age,
        "TRUSTED_PROXY_HOPS": int(env("TRUSTED_PROXY_HOPS", "0")),
        "MAX_CONTENT_LENGTH": int(env("MAX_CONTENT_LENGTH", str(1024 * 1024))),
    }


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def cloud_settings() -> dict:
    """Machine hooks, the pipeline runner and live updates."""
    env = os.environ.get
    return {
        "OIDC_CERTS_URL": env("OIDC_CERTS_URL") or "https://www.googleapis.com/oauth2/v1/certs",
        "HOOK_AUDIENCE": env("HOOK_AUDIENCE") or None,
        "HOOK_SERVICE_ACCOUNTS": _csv(env("HOOK_SERVICE_ACCOUNTS")),
        "PIPELINE_RUNNER": env("PIPELINE_RUNNER") or "local",
        "DATAFLOW_TEMPLATE": env("DATAFLOW_TEMPLATE") or None,
        "DATAFLOW_ENDPOINT": env("DATAFLOW_ENDPOINT") or None,
        "GCP_PROJECT": env("GCP_PROJECT") or env("GOOGLE_CLOUD_PROJECT") or None,
        "GCP_REGION": env("GCP_REGION") or "europe-west1",
        "LIVE_PING_SECONDS": float(env("LIVE_PING_SECONDS", "25")),
        "LIVE_RECHECK_SECONDS": float(env("LIVE_RECHECK_SECONDS", "2")),
        "LIVE_QUEUE_SIZE": int(env("LIVE_QUEUE_SIZE", "200")),
        # How long a doctor's break-the-glass access to a patient outside their hospital lasts.
        "BREAK_GLASS_HOURS": float(env("BREAK_GLASS_HOURS", "24")),
        # Seal the audit trail at most this often per process, after a response (<0: never).
        "AUDIT_SEAL_SECONDS": float(env("AUDIT_SEAL_SECONDS", "5")),
        "RUN_STALE_MINUTES": float(env("RUN_STALE_MINUTES", "10")),
        "RUN_HEARTBEAT_SECONDS": float(env("RUN_HEARTBEAT_SECONDS", "30")),
    }
