"""Seed the database: the same code as `flask seed`, runnable as `python seed_data.py`."""

import sys

from webapp import create_app
from webapp.cli import seed_command

if __name__ == "__main__":
    app = create_app()
    with app.app_context():
        sys.exit(seed_command.main(standalone_mode=False) or 0)
