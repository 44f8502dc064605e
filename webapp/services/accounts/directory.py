"""The searchable, sortable, paginated list of accounts behind /admin/users."""

from dataclasses import asdict, dataclass

from sqlalchemy import and_, func, or_, select

from webapp.common.clock import utcnow
from webapp.common.paging import Page, paginate, parse_page
from webapp.extensions import db
from webapp.models import Organization, Role, User

PER_PAGE = 25
STATUSES = ("active", "deactivated", "locked")
SORTS = {
    "name": lambda: func.lower(User.name),
    "email": lambda: func.lower(User.email),
    "role": lambda: Role.name,
    "organization": lambda: Organization.name,
    "last_login": lambda: User.last_login_at,
}
DEFAULT_SORT = "name"


@dataclass
class UserQuery:
    """The list's view state, read from (and written back to) the query string."""

    q: str = ""
    role: str = ""
    status: str = ""
    sort: str = DEFAULT_SORT
    desc: bool = False
    page: int = 1

    @classmethod
    def from_args(cls, args, role_names) -> "UserQuery":
        """Read the query string, dropping unknown values instead of failing."""
        sort = args.get("sort", DEFAULT_SORT)
        desc = sort.startswith("-")
        sort = sort.removeprefix("-")
        if sort not in SORTS:
            sort, desc = DEFAULT_SORT, False
        role = args.get("role", "")
        status = args.get("status", "")
        return cls(
            q=args.get("q", "").replace("\x00", "").strip()[:200],  # NUL: no text column holds one
            role=role if role in role_names else "",
            status=status if status in STATUSES else "",
            sort=sort,
            desc=desc,
            page=parse_page(args.get("page")),
        )

    @property
    def sort_param(self) -> str:
        """The sort as written in the URL: a field, minus-prefixed when descending."""
        return f"-{self.sort}" if self.desc else self.sort

    def args(self, **overrides) -> dict:
        """Query-string values for a link to this view with some values changed."""
        state = {**asdict(self), **overrides}
        sort = state.pop("sort")
        state["sort"] = f"-{sort}" if state.pop("desc") else sort
        defaults = {"sort": DEFAULT_SORT, "page": 1}
        return {
            key: value
            for key, value in state.items()
            if value not in ("", None) and defaults.get(key) != value
        }

    def sort_args(self, field: str) -> dict:
        """Arguments of a column header link: sort by it, or flip it when already sorted."""
        desc = not self.desc if field == self.sort else False
        return self.args(sort=field, desc=desc, page=1)


def _status_clause(status: str):
    now = utcnow()
    unlocked = or_(User.locked_until.is_(None), User.locked_until <= now)
    if status == "deactivated":
        return User.active.is_(False)
    if status == "locked":
        return and_(User.active.is_(True), User.locked_until > now)
    return and_(User.active.is_(True), unlocked)


def search_users(query: UserQuery) -> Page:
    """One page of accounts for the query; a page past the end shows the last page."""
    stmt = (
        select(User)
        .join(Role, User.role_id == Role.id)
        .outerjoin(Organization, User.organization_id == Organization.id)
    )
    if query.q:
        # autoescape: a % or _ typed in the box is a character, not a wildcard.
        needle = query.q.lower()
        stmt = stmt.where(
            or_(
                func.lower(User.name).contains(needle, autoescape=True),
                func.lower(User.email).contains(needle, autoescape=True),
            )
        )
    if query.role:
        stmt = stmt.where(Role.name == query.role)
    if query.status:
        stmt = stmt.where(_status_clause(query.status))
    column = SORTS[query.sort]()
    order = column.desc().nulls_last() if query.desc else column.asc().nulls_last()
    stmt = stmt.order_by(order, User.id)
    page = paginate(db.session, stmt, query.page, PER_PAGE)
    query.page = page.page
    return page


def role_names() -> list[str]:
    """Every role, for filters and forms."""
    return list(db.session.scalars(select(Role.name).order_by(Role.name)))
