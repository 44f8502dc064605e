"""The password policy and temporary password generation."""

import secrets
import string

MIN_LENGTH = 12

# A short deny-list of the passwords attackers try first; long enough to catch the obvious.
COMMON_PASSWORDS = frozenset(
    {
        "password1234",
        "password12345",
        "password123456",
        "123456789012",
        "1234567890123",
        "qwertyuiopas",
        "qwerty123456",
        "iloveyou1234",
        "letmein12345",
        "welcome12345",
        "changeme1234",
        "administrator",
        "adminadmin12",
        "passw0rd1234",
        "aaaaaaaaaaaa",
        "abcdefghijkl",
        "abc123456789",
        "football1234",
        "monkey123456",
        "sunshine1234",
        "princess1234",
        "trustno11234",
        "doctor123456",
        "hospital1234",
        "correcthorsebatterystaple",
    }
)


def password_problems(password: str, email: str = "") -> list[str]:
    """Reasons a password breaks the policy; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Use at least {MIN_LENGTH} characters.")
    lowered = password.lower()
    if email and (lowered == email.lower() or lowered == email.split("@")[0].lower()):
        problems.append("Do not use your email address as a password.")
    if lowered in COMMON_PASSWORDS:
        problems.append("This password is too common; choose another.")
    return problems


def temporary_password() -> str:
    """A random 16-character password that meets the policy."""
    alphabet = string.ascii_letters + string.digits
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(3)) + "x"
