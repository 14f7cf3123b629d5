"""argparse types that validate: the suites' pytest options and the workload CLIs declare their numbers with
these, so a count of 0, a negative size or a NaN is refused by the parser with the option named, everywhere.

No import of pytest or of the rest of the package: the workloads run these inside MPI ranks.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from typing import Any


def _parsed(text: str, convert: type, ok: Callable[[Any], bool], wanted: str, finite_wanted: str | None = None) -> Any:
    """`text` converted, or an ArgumentTypeError naming what was expected (`finite_wanted` when the value parsed but
    is out of range or not finite)."""
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
    if (convert is float and not math.isfinite(value)) or not ok(value):
        raise argparse.ArgumentTypeError(f"expected {finite_wanted or wanted}, got {text!r}")
    return value


#: longest digit string read as a number from a results tree or an option (far beyond any real count or size)
MAX_DIGITS = 30


def ascii_whole(text: object, signed: bool = False) -> int | None:
    """`text` as an int when it is plain ASCII decimal digits (a leading `-` when `signed`), at most MAX_DIGITS of
    them; else None. Unlike `str.isdigit()` + `int()`, never raises: superscripts and other Unicode digits, or a
    number past Python's 4,300-digit conversion limit, are simply not whole numbers here."""
    if not isinstance(text, str):
        return None
    body = text[1:] if signed and text.startswith("-") else text
    if not (body.isascii() and body.isdigit()) or len(body) > MAX_DIGITS:
        return None
    return int(text)


def finite_float(value: object) -> float | None:
    """A JSON number (an int or a float, not a bool) as a finite float, else None: NaN, the infinities and integers
    too large for a float (`math.isfinite(10**400)` raises) are no figures."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def positive_int(text: str) -> int:
    """argparse type: a whole number > 0 (0 or a negative count is a usage error, never a silent default)."""
    return _parsed(text, int, lambda v: v >= 1, "a whole number > 0 (a positive count)")


def non_negative_int(text: str) -> int:
    """argparse type: a whole number >= 0 (counts that may be zero, seeds)."""
    return _parsed(text, int, lambda v: v >= 0, "a whole number >= 0")


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0 (durations and sizes that may be zero)."""
    return _parsed(text, float, lambda v: v >= 0, "a number >= 0", "a finite number >= 0")


def port_number(text: str) -> int:
    """argparse type: a TCP port, 1-65535."""
    value = positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"expected a TCP port 1-65535, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0 (memory sizes, timeouts)."""
    return _parsed(text, float, lambda v: v > 0, "a number > 0 (positive)", "a finite number > 0 (positive)")


_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]?)(i?b?)\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def byte_size(text: str) -> int:
    """argparse type: a size > 0 in bytes, plain or with a binary unit (4096, 64K, 16M, 1GiB)."""
    match = _SIZE.match(str(text))
    value = int(match.group(1)) * _SIZE_UNITS[match.group(2).lower()] if match else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a size > 0 in bytes, e.g. 4096, 64K, 16M or 1G, got {text!r}")
    return value
