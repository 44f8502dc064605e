"""The password policy and temporary password generation.

Strength is estimated with zxcvbn (dictionaries of common and breached passwords, names,
keyboard patterns, dates and l33t substitutions), with the user's own name and email as extra
words, instead of a short deny-list.
"""

import re
import secrets
import string

from zxcvbn import zxcvbn

MIN_LENGTH = 12
MIN_SCORE = 3
# zxcvbn's time grows with length; what lies past this adds strength, never weakness.
_ESTIMATE_CHARS = 100


def _user_words(email: str, name: str) -> list[str]:
    local = email.split("@")[0]
    parts = re.split(r"[\s.@_+-]+", f"{name} {email}")
    return [word for word in {email, local, name, *parts} if len(word) >= 3]


def password_problems(password: str, email: str = "", name: str = "") -> list[str]:
    """Reasons a password breaks the policy; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Use at least {MIN_LENGTH} characters.")
    lowered = password.lower()
    if email and (lowered == email.lower() or lowered == email.split("@")[0].lower()):
        problems.append("Do not use your email address as a password.")
    elif name and "".join(lowered.split()) == "".join(name.lower().split()):
        problems.append("Do not use your name as a password.")
    if not problems and password:
        estimate = zxcvbn(password[:_ESTIMATE_CHARS], user_inputs=_user_words(email, name))
        if estimate["score"] < MIN_SCORE:
            warning = estimate["feedback"].get("warning") or "it would be easy to guess"
            problems.append(
                f"This password is too common or too easy to guess ({warning.rstrip('.')}). "
                "Choose another."
            )
    return problems


def temporary_password() -> str:
    """A random 16-character password that meets the policy."""
    alphabet = string.ascii_letters + string.digits
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(3)) + "x"
