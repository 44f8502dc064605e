"""Settings read from the environment, with embedded defaults for a laptop."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

PRODUCTION_NAMES = {"production", "prod"}


def is_production() -> bool:
    """Return True when AIKEY_ENV or FLASK_ENV names a production deployment."""
    env = os.environ.get("AIKEY_ENV") or os.environ.get("FLASK_ENV") or ""
    return env.lower() in PRODUCTION_NAMES


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
        # No pre-ping (a round trip per request): a dropped connection fails one request and
        # SQLAlchemy then replaces the whole pool; recycling keeps idle ones from going stale.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_recycle": 1800},
        "REDIS_URL": redis_url,
        **cache_settings(redis_url),
        "CACHE_DEFAULT_TIMEOUT": int(os.environ.get("CACHE_DEFAULT_TIMEOUT", "300")),
        "STORAGE_URI": os.environ.get("STORAGE_URI") or str(Path("var/storage").resolve()),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=30),
        "IDLE_TIMEOUT": timedelta(minutes=int(os.environ.get("IDLE_TIMEOUT_MINUTES", "30"))),
        "LOCKOUT_THRESHOLD": 5,
        "LOCKOUT_DURATION": timedelta(minutes=15),
        "WTF_CSRF_TIME_LIMIT": None,
        "SEED_PASSWORD": os.environ.get("SEED_PASSWORD"),
        **cloud_settings(),
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
        "LIVE_RECHECK_SECONDS": float(env("LIVE_RECHECK_SECONDS", "15")),
        "LIVE_QUEUE_SIZE": int(env("LIVE_QUEUE_SIZE", "200")),
    }
