"""Result directory layout shared with the suite."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional


def result_dir(results_root: str | Path, engine: str, index_type: str, command: str = "run",
               when: Optional[dt.datetime] = None) -> Path:
    """``<root>/vector_database/<engine>/<INDEX>/<command>/<YYYYmmdd_HHMMSS_ffffff>`` (not created).

    Microseconds keep five back-to-back runs in distinct directories.
    """
    stamp = (when or dt.datetime.now()).strftime("%Y%m%d_%H%M%S_%f")
    return Path(results_root) / "vector_database" / engine / index_type.upper() / command / stamp
