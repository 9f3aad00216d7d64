"""Reading the seconds a student's code printed, with the tolerance that rounding allows."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

CLOCK_SLACK = 0.002  # s: two clocks (time.time vs perf_counter) read a few µs apart


def half_unit(number: str) -> float:
    """Half of the last printed digit's unit: 0.00005 for '0.1234' (a decimal comma too)."""
    try:
        exponent = Decimal(number.replace(",", ".")).as_tuple().exponent
    except InvalidOperation:
        return 0.0
    return 0.5 * 10.0 ** int(exponent) if isinstance(exponent, int) else 0.0
