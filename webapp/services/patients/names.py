"""Name normalization for search and for matching one person across systems."""

import re
import unicodedata
from datetime import date

_NON_LETTERS = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r"\s+")


def fold(text: str | None) -> str:
    """Lower-case, strip accents and collapse spaces: `Jerónimo599` -> `jeronimo599`."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.casefold()).strip()


def search_name(given: str | None, family: str | None) -> str:
    """The folded "given family" string that name search matches against."""
    return f"{fold(given)} {fold(family)}".strip()


def letters_only(text: str | None) -> str:
    """Folded letters and single spaces: drops Synthea's digits and punctuation."""
    return _SPACES.sub(" ", _NON_LETTERS.sub(" ", fold(text))).strip()


def match_key(given: str | None, family: str | None, birth: date | None, sex: str | None) -> str:
    """given|family|birth date|sex, normalized, or '' when any part is missing."""
    parts = [letters_only(given), letters_only(family), birth.isoformat() if birth else ""]
    parts.append((sex or "").strip().lower()[:1])
    return "" if not all(parts) else "|".join(parts)
