"""Page numbers that never fail: parsed leniently, clamped to the pages that exist."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

MAX_PAGE = 10_000


def parse_page(raw: str | None) -> int:
    """A page number from a query string; anything unusable is page 1, never an error."""
    try:
        return min(max(int(raw or 1), 1), MAX_PAGE)
    except ValueError:
        # "1e20", "x", and digit strings too long for int() all land here.
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


def paginate(session: Session, stmt: Select, page: int, per_page: int) -> Page:
    """One page of `stmt`'s rows, counted first so a page past the end shows the last page."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    page = clamp_page(page, total, per_page)
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, page=page, per_page=per_page, total=total)


def paginate_ahead(
    session: Session, stmt: Select, page: int, per_page: int, rows: bool = False
) -> Page:
    """One page of `stmt`'s rows without counting them all: one row more tells whether a next
    page exists. Only a page past the end counts, and no further than the deepest page.
    Items are the first column's values (ORM objects), or whole Rows when `rows` is set."""
    items = _window(session, stmt, page, per_page, rows)
    if not items and page > 1:
        shown = stmt.order_by(None).limit(MAX_PAGE * per_page).subquery()
        page = clamp_page(page, session.scalar(select(func.count()).select_from(shown)), per_page)
        items = _window(session, stmt, page, per_page, rows)
    more = len(items) > per_page and page < MAX_PAGE
    return Page(items=items[:per_page], page=page, per_page=per_page, total=0, has_more=more)


def _window(session: Session, stmt: Select, page: int, per_page: int, rows: bool) -> list:
    window = stmt.limit(per_page + 1).offset((page - 1) * per_page)
    return list(session.execute(window).all() if rows else session.scalars(window))
