"""Connections to the real PostgreSQL and Redis the suite runs against."""

import os
import secrets

import psycopg2
import redis
from psycopg2 import sql
from sqlalchemy.engine import make_url

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def server_url() -> str:
    """The PostgreSQL server the suite uses (DATABASE_URL, or the local default)."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    return url.replace("postgres://", "postgresql://", 1)


def redis_url() -> str:
    """The Redis server the suite uses (REDIS_URL, or the local default)."""
    return os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL


def url_for_database(name: str) -> str:
    """The server URL pointed at another database on the same server."""
    url = make_url(server_url()).set(database=name, drivername="postgresql+psycopg2")
    return url.render_as_string(hide_password=False)


def _admin_connection():
    url = make_url(server_url()).set(database="postgres")
    connection = psycopg2.connect(
        host=url.host or None,
        port=url.port,
        user=url.username,
        password=url.password,
        dbname=url.database,
        connect_timeout=5,
    )
    connection.autocommit = True
    return connection


def check_postgres() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        _admin_connection().close()
    except psycopg2.Error as exc:
        return f"PostgreSQL is not reachable at {server_url()}: {exc}".strip()
    return None


def check_redis() -> str | None:
    """None when Redis answers PING, else why not."""
    try:
        redis.Redis.from_url(redis_url(), socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        return f"Redis is not reachable at {redis_url()}: {exc}"
    return None


def _create_named(statement: str, prefix: str) -> str:
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    connection = _admin_connection()
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL(statement).format(sql.Identifier(name)))
    connection.close()
    return name


def create_database(prefix: str = "aikey_test") -> str:
    """Create an empty database with a unique name and return that name."""
    return _create_named("CREATE DATABASE {}", prefix)


def drop_database(name: str) -> None:
    """Drop a database the suite created, ending any connection still open to it."""
    connection = _admin_connection()
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
    connection.close()


def create_login_role(prefix: str = "aikey_runtime") -> str:
    """A new LOGIN role without privileges (the server trusts 127.0.0.1); returns its name."""
    return _create_named("CREATE ROLE {} LOGIN", prefix)


def drop_role(name: str, database: str) -> None:
    """Drop a role the suite created, after revoking what it was granted in `database`."""
    url = make_url(url_for_database(database))
    connection = psycopg2.connect(
        host=url.host or None, port=url.port, user=url.username, password=url.password,
        dbname=database, connect_timeout=5,
    )  # fmt: skip
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
    connection.close()
