"""The fast FHIR parse (orjson), and the checks that its outcome is the exact parse's.

The exact parse (stdlib json with Decimal numbers) keeps every number's literal; orjson gives
floats. The outcome is the same unless a float reaches an output: a cost whose cents could
round the other way, a number copied into a row, or a reject (excerpts and details print
numbers). Callers use the exact parse for those files and lines.
"""

from decimal import Decimal

import orjson


class Inexact(Exception):
    """A cost whose cents the float cannot decide: the exact parse must be used."""


def fast_loads(data):
    """The JSON document parsed by orjson, or None when orjson refuses it."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


def exact_amount(value):
    """A JSON number as the exact parse sees it for cents; raise Inexact when it cannot tell.

    repr() gives the shortest literal of a float; rounding to cents can only differ from the
    source literal's when that shortest literal sits exactly on a half cent.
    """
    if not isinstance(value, float):
        return value
    amount = Decimal(repr(value))
    if (
        amount.is_finite()
        and amount.as_tuple().exponent == -3
        and amount.as_tuple().digits[-1] == 5
    ):
        raise Inexact(repr(value))
    return amount


def accept(entries, outcomes):
    """Whether a fast parse's outcomes are exactly those of the exact parse."""
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and not isinstance(resource.get("id", ""), str):
            return False
    for kind, row in outcomes:
        if kind == "reject":
            return False
        if kind == "pending":
            row = row[1]
        if kind in ("patient", "record", "pending") and _holds_float(row):
            return False
    return True


def _holds_float(row):
    return any(
        isinstance(value, float) or (isinstance(value, dict) and _holds_float(value))
        for value in row.values()
    )
