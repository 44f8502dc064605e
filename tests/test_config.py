"""Settings from the environment and their embedded defaults."""

import pytest

from webapp.config import build_config, load_secret_key


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
    monkeypatch.setenv("FLASK_ENV", "production")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    config = build_config(tmp_path)
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["CACHE_TYPE"] == "RedisCache"
