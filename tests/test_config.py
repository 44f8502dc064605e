"""Settings from the environment and their embedded defaults."""

import re
from pathlib import Path

import pytest

from webapp.config import (
    build_config,
    engine_options,
    is_production,
    load_env_file,
    load_secret_key,
)

ROOT = Path(__file__).resolve().parents[1]


def test_embedded_defaults(tmp_path, monkeypatch):
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "STORAGE_URI",
        "AIKEY_ENV",
        "FLASK_ENV",
    ):
        monkeypatch.delenv(name, raising=False)
    config = build_config(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'aikey.db'}"
    assert config["CACHE_TYPE"] == "SimpleCache"
    assert config["STORAGE_URI"].endswith("var/storage")
    assert config["SESSION_COOKIE_SECURE"] is False


def test_dev_secret_key_is_generated_once(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("AIKEY_ENV", raising=False)
    monkeypatch.delenv("FLASK_ENV", raising=False)
    first = load_secret_key(tmp_path)
    assert len(first) == 64
    assert load_secret_key(tmp_path) == first


def test_production_requires_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("AIKEY_ENV", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_secret_key(tmp_path)


def test_production_sets_secure_cookies(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("AIKEY_ENV", "production")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    config = build_config(tmp_path)
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["CACHE_TYPE"] == "RedisCache"


def test_only_aikey_env_decides_production(monkeypatch):
    monkeypatch.delenv("AIKEY_ENV", raising=False)
    monkeypatch.setenv("FLASK_ENV", "production")  # removed from Flask in 2.3: ignored
    assert is_production() is False
    monkeypatch.setenv("AIKEY_ENV", "Production")
    assert is_production() is True


def test_a_dotenv_file_fills_in_unset_variables_only(tmp_path, monkeypatch):
    monkeypatch.delenv("STORAGE_URI", raising=False)
    monkeypatch.setenv("IDLE_TIMEOUT_MINUTES", "7")
    env_file = tmp_path / ".env"
    env_file.write_text("STORAGE_URI=gs://from-dotenv/prefix\nIDLE_TIMEOUT_MINUTES=99\n")
    assert load_env_file(env_file) is True
    config = build_config(tmp_path)
    assert config["STORAGE_URI"] == "gs://from-dotenv/prefix"
    assert config["IDLE_TIMEOUT"].total_seconds() == 7 * 60  # the real environment wins


def test_env_example_documents_every_variable_and_env_is_never_committed():
    source = (ROOT / "webapp" / "config.py").read_text()
    read = set(re.findall(r'(?:environ\.get|env)\("([A-Z_]+)"', source))
    documented = set(re.findall(r"^#? ?([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read and read <= documented, sorted(read - documented)
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_postgresql_pool_is_fixed_so_busy_workers_wait_instead_of_opening_connections(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("DATABASE_POOL_SIZE", "7")
    options = engine_options("postgresql+psycopg2://aikey@127.0.0.1:5432/aikey")
    assert options["pool_size"] == 7 and options["max_overflow"] == 0
    assert options["pool_pre_ping"] is True  # a connection Cloud SQL dropped is replaced first
    assert "pool_size" not in engine_options(f"sqlite:///{tmp_path / 'x.db'}")


def test_the_app_engine_uses_the_fixed_pool(app, database_url):
    from webapp.extensions import db

    assert database_url.startswith("postgresql")  # the suite runs on PostgreSQL
    with app.app_context():
        assert db.engine.pool.size() == 16 and db.engine.pool._max_overflow == 0
