"""The floor: a bare one-route Flask app, served by the same gunicorn command as aiKey."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    """The cheapest page Flask can serve."""
    return "ok"
