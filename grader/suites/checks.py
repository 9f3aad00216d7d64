"""[test process] Checks and wordings the hidden suites share: one idea reads the same everywhere.

Feedback names the student's values the same way in every suite (`short`,
`type_name`, `describe_call`) and reads printed seconds by one rule
(`printed_seconds`, `seconds_fit`).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from grader.i18n import _
from grader.results import location_of
from grader.worker.codec import Opaque

CLOCK_SLACK = 0.002  # s: two clocks (time.time vs perf_counter) read a few µs apart

# A decimal number as printed: 0.1234, 12.5, 1.5e-01, 0,25 (a decimal comma).
NUMBER = re.compile(r"\d+[.,]\d+(?:[eE][-+]?\d+)?")


def short(value: Any, limit: int = 120) -> str:
    """A one-line repr of a student's value, cut at `limit` characters."""
    if isinstance(value, Opaque) and value.coroutine:
        return _("a coroutine object")
    text = " ".join(repr(value).split())  # reprs such as ClientResponse's span lines
    return text if len(text) <= limit else text[: limit - 3] + "..."


def located(where: str) -> str:
    """The worker's `"req.py, line 27"` in the student's language; anything else as it is.

    The sandboxed worker cannot translate: it sends the place as data, worded
    here. A place already worded is returned unchanged.
    """
    file, line = location_of(where)
    return _("{file}, line {line}").format(file=file, line=line) if file else where


def type_name(value: Any) -> str:
    """The type the student's value had (an Opaque stands for an object of its own type)."""
    return value.type if isinstance(value, Opaque) else type(value).__name__


def describe_call(name: str, args: list[Any] | tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """`name(1, 'two', key='k')`: how feedback shows a call."""
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def printed_seconds(line: str, leave_out: str = "") -> list[str]:
    """The decimal numbers of a printed line, as written; `leave_out` (a name) is skipped."""
    if leave_out:
        line = line.replace(leave_out, " ")
    return NUMBER.findall(line)


def seconds_fit(number: str, low: float, high: float) -> bool:
    """`number` (as printed) may be a reading of a duration between `low` and `high` seconds.

    Rounding to the printed digits and two clocks read a few µs apart are allowed for.
    """
    try:
        value = float(number.replace(",", "."))
    except ValueError:
        return False
    slack = half_unit(number) + CLOCK_SLACK
    return low - slack <= value <= high + slack


def half_unit(number: str) -> float:
    """Half of the last printed digit's unit: 0.00005 for '0.1234' (a decimal comma too)."""
    try:
        exponent = Decimal(number.replace(",", ".")).as_tuple().exponent
    except InvalidOperation:
        return 0.0
    return 0.5 * 10.0 ** int(exponent) if isinstance(exponent, int) else 0.0
