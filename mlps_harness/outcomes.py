"""Divisions and findings: the tri-state outcome every rule produces."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class Division(str, enum.Enum):
    """The category of a finding, ordered from best to worst."""

    CLOSED = "CLOSED"
    OPEN = "OPEN"
    INVALID = "INVALID"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Division.CLOSED: 0, Division.OPEN: 1, Division.INVALID: 2}


def worst(divisions: Iterable[Division | str]) -> Division:
    """The worst of the given divisions; CLOSED when there are none."""
    result, rank = Division.CLOSED, 0
    for d in divisions:
        if d.__class__ is not Division:
            d = Division(d)
        if _RANK[d] > rank:
            result, rank = d, _RANK[d]
    return result


class Finding(BaseModel):
    """One observation of a rule: what was expected, what was found, how to fix it."""

    model_config = ConfigDict(frozen=True)

    division: Division
    message: str
    parameter: str | None = None
    expected: str | None = None
    actual: str | None = None
    fix: str | None = None
    file: str | None = None
    #: "warning": a reviewer's warning: shown in every report, the division (and so the verdict) unchanged
    level: Literal["warning"] | None = None

    @property
    def review_level(self) -> str:
        """The v3.0 review's level of this finding: error (INVALID or OPEN), warning, or info (CLOSED)."""
        if self.division is not Division.CLOSED:
            return "error"
        return "warning" if self.level == "warning" else "info"

    @property
    def label(self) -> str:
        """What reports show: CLOSED / OPEN / INVALID, or WARNING for a warning."""
        return "WARNING" if self.level == "warning" and self.division is Division.CLOSED else self.division.value

    def plain(self) -> dict[str, Any]:
        """A JSON-plain dict (safe to ship across xdist)."""
        return self.model_dump(mode="json", exclude_none=True)


def closed(message: str, **kw: Any) -> Finding:
    """A finding that confirms a CLOSED-compatible value."""
    return Finding(division=Division.CLOSED, message=safe_text(message), **_text(kw))


def open_(message: str, **kw: Any) -> Finding:
    """A finding that limits the run to the OPEN division."""
    return Finding(division=Division.OPEN, message=safe_text(message), **_text(kw))


def warning(message: str, **kw: Any) -> Finding:
    """A reviewer's warning: reported everywhere, but the run keeps its division (a CLOSED-compatible finding)."""
    return Finding(division=Division.CLOSED, level="warning", message=safe_text(message), **_text(kw))


def invalid(message: str, **kw: Any) -> Finding:
    """A finding that makes the run INVALID."""
    return Finding(division=Division.INVALID, message=safe_text(message), **_text(kw))


def _text(kw: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if v is None else safe_text(str(v))) for k, v in kw.items()}


def safe_text(text: str) -> str:
    """`text` with lone surrogates (non-UTF-8 bytes in file names, `\\udcff` escapes in JSON) written as `\\xff` /
    `\\udcff`, so it can be encoded as UTF-8 (xdist, JUnit, JSON and HTML all need that)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape" if _only_escaped_bytes(text) else "backslashreplace") \
            .decode("utf-8", "backslashreplace")


def _only_escaped_bytes(text: str) -> bool:
    return all(not 0xD800 <= ord(c) <= 0xDFFF or 0xDC80 <= ord(c) <= 0xDCFF for c in text)


class NotApplicable(Exception):
    """Raised by a rule that does not apply to the run or group it was given."""
