"""Page numbers that never fail: parsed leniently, clamped to the pages that exist."""

from dataclasses import dataclass
from typing import Any

MAX_PAGE = 10_000


def parse_page(raw: str | None) -> int:
    """A page number from a query string; anything unusable is page 1."""
    try:
        return min(max(int(raw or 1), 1), MAX_PAGE)
    except (TypeError, ValueError):
        return 1


def clamp_page(page: int, total: int, per_page: int) -> int:
    """The requested page, or the last page when it asks for more than there is."""
    last = max(1, -(-total // per_page))
    return min(max(page, 1), last)


@dataclass
class Page:
    """One page of results; `total` may be capped at `cap` (then `capped` is True)."""

    items: list[Any]
    page: int
    per_page: int
    total: int
    cap: int | None = None
    has_more: bool | None = None

    @property
    def capped(self) -> bool:
        """True when more rows match than were counted."""
        return self.cap is not None and self.total > self.cap

    @property
    def pages(self) -> int:
        """Number of pages that can be opened."""
        counted = min(self.total, self.cap) if self.cap is not None else self.total
        return max(1, -(-counted // self.per_page))

    @property
    def has_prev(self) -> bool:
        """True after the first page."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """True when a later page exists."""
        if self.has_more is not None:
            return self.has_more
        return self.page < self.pages
