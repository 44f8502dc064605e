"""The one clock: timezone-aware UTC now, and naive datetimes read back from SQLite made aware."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """Treat a naive datetime read back from SQLite as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
