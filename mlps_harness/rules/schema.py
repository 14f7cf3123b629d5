"""Ruleset schema parts shared by every benchmark (a benchmark's own ruleset model embeds them)."""

from __future__ import annotations

from pydantic import BaseModel


class LayoutValues(BaseModel):
    """The files a run directory of one command must hold (`layout:` in a ruleset file)."""

    files: list[str]
    config_dir: str | None = None
    config_files: list[str] = []
