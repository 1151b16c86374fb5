"""Numbers as the report pages print them for people: a minus sign (U+2212), not a hyphen;
1,175 rather than 1175; no sign on a value that rounds to zero. JSON and CSV keep plain numbers.

Python, not Jinja macros: a year-long owner report prints about a thousand numbers, and a
macro call costs several microseconds where a function call costs a fraction of one.
"""

from __future__ import annotations

from typing import Final

MINUS: Final = "\u2212"
NONE: Final = "–"  # an en dash: no value


def _unsigned_zero(text: str) -> str:
    """ "-0.0" and "+0.0" are "0.0"; any other "-" is a minus sign."""
    if not text.strip("+-0."):
        return text.lstrip("+-")
    return text.replace("-", MINUS)


def num(value: float | None, digits: int = 1, unit: str = "") -> str:
    return NONE if value is None else _unsigned_zero(f"{value:.{digits}f}") + unit


def signed(value: float | None, digits: int = 1) -> str:
    """With its sign, as a change is read: +2.5, −0.41."""
    return NONE if value is None else _unsigned_zero(f"{value:+.{digits}f}")


def count(n: int) -> str:
    return f"{n:,}"


# The names the report templates use (report_macros.html hands them on to the pages).
TEMPLATE_GLOBALS: Final = {"typeset_num": num, "typeset_signed": signed, "typeset_count": count}
