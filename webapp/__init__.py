"""The aiKey web application."""

from pathlib import Path

from flask import Flask

from webapp.config import build_config, engine_options, load_env_file
from webapp.extensions import cache, csrf, db, login_manager, migrate, sock

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def create_app(config: dict | None = None) -> Flask:
    """Build the application; `config` overrides settings read from the environment."""
    load_env_file(PROJECT_ROOT / ".env")
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.from_mapping(build_config(Path(app.instance_path)))
    app.config.from_mapping(config or {})
    # From the URI the app ends up with, which a caller's config may have replaced.
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    )
    register_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_logging(app: Flask) -> None:
    """JSON lines for Cloud Logging in production, text in development; a request id each."""
    from webapp.web import logs, request_id

    logs.init_app(app)
    request_id.init_app(app)


def register_extensions(app: Flask) -> None:
    """Bind the bare extensions to this app."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    login_manager.init_app(app)
    # The server-side session (auth/session_guard.py) replaces Flask-Login's address/agent hash.
    login_manager.session_protection = None
    cache.init_app(app)
    csrf.init_app(app)
    sock.init_app(app)


def register_blueprints(app: Flask) -> None:
    """Mount one blueprint per audience."""
    from webapp import admin, auth, clinic, hooks, live
    from webapp.core import views
    from webapp.web import limits, security

    limits.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    hooks.init_app(app)
    live.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(clinic.bp)


def register_errorhandlers(app: Flask) -> None:
    """HTML error pages for people, JSON for machines."""
    from webapp.web import errors

    errors.init_app(app)


def register_commands(app: Flask) -> None:
    """flask seed and friends."""
    from webapp import cli, cli_audit

    cli.init_app(app)
    cli_audit.init_app(app)
