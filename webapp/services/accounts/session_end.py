"""Ending a user's sessions: the one entry point every "sign them out everywhere" goes through."""

from webapp.models import User


def end_sessions(user: User, reason: str) -> None:
    """End every session of `user` (e.g. after an MFA reset or a password change).

    Today a session is valid while it carries the user's current session token, so rotating
    the token ends them all on their next request; `reason` says why, for a session store
    that records it.
    """
    del reason  # Recorded once sessions have a server-side record of their own.
    user.rotate_session_token()
