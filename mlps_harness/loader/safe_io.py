"""Reading files from an untrusted results tree: never follow links, never block on FIFOs, never read huge files
whole, never crash on bad bytes. Every problem comes back as a finding that names the file and the fix."""

from __future__ import annotations

import json
import os
import re
import stat
from collections import OrderedDict
from typing import Any

import yaml
from pydantic_core import from_json

from mlps_harness.outcomes import Finding, invalid, safe_text

#: JSON and YAML files in a run directory are small; anything above this is not read.
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Parsed YAML documents by their text. The runs of one system usually carry byte-identical DLIO configs
#: (`config.yaml`, `overrides.yaml`), and building YAML objects is most of a run's parsing time; a document is
#: parsed once while it stays among the last YAML_CACHE_SIZE distinct texts. Callers treat the result as read-only.
YAML_CACHE_SIZE = 128
YAML_CACHE_MAX_CHARS = 256 * 1024
_yaml_cache: "OrderedDict[str, Any]" = OrderedDict()


def file_kind(mode: int) -> str:
    """'file', 'dir', 'symlink', 'fifo' or 'other' for an lstat mode."""
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISFIFO(mode):
        return "fifo"
    return "other"


def read_text(path: str, shown: str, max_bytes: int = MAX_DOCUMENT_BYTES) -> tuple[str | None, Finding | None]:
    """The UTF-8 text of a regular file, or a finding saying why it cannot be used."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None, invalid(f"{shown} is missing", file=shown, fix="re-run the benchmark so that it writes this file")
    except OSError as exc:
        return None, invalid(f"{shown} cannot be inspected: {exc.strerror}", file=shown,
                             fix="check the permissions of the results tree")
    kind = file_kind(st.st_mode)
    if kind != "file":
        return None, invalid(f"{shown} is a {kind}, not a regular file", file=shown, actual=kind,
                             expected="regular file", fix="replace it with the real file the benchmark wrote")
    if st.st_size > max_bytes:
        return None, invalid(f"{shown} is {st.st_size} bytes, over the {max_bytes}-byte limit for this file; not read",
                             file=shown, actual=str(st.st_size), expected=f"<= {max_bytes} bytes",
                             fix="replace it with the file the benchmark wrote; this one is not a DLIO document")
    try:
        with open(path, "rb") as fh:
            data = fh.read(st.st_size + 1)
    except OSError as exc:
        return None, invalid(f"{shown} cannot be read: {exc.strerror}", file=shown,
                             fix="check the permissions of the results tree")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, invalid(f"{shown} is not valid UTF-8 (bad byte at offset {exc.start})", file=shown,
                             fix="restore the file from the benchmark's output; it was corrupted")


def _loads(text: str) -> Any:
    """The JSON document in `text`: pydantic-core's parser (the same documents as json's, in about half the time),
    and json's wherever it refuses a text (lone surrogate escapes, deep nesting, every error: json's messages)."""
    try:
        return from_json(text)
    except (ValueError, TypeError):
        return json.loads(text)


def read_json(path: str, shown: str) -> tuple[Any, Finding | None]:
    """A parsed JSON document, or a finding naming the file, the position and the fix."""
    text, problem = read_text(path, shown)
    if problem is not None:
        return None, problem
    if not text.strip():
        return None, invalid(f"{shown} is empty", file=shown, fix="re-run the benchmark; the file was never written")
    try:
        data = _loads(text)
    except json.JSONDecodeError as exc:
        return None, invalid(f"{shown} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
                             " (truncated?)", file=shown, fix="restore the complete file from the benchmark's output")
    except RecursionError:
        return None, invalid(f"{shown} nests too deeply to be a DLIO document", file=shown,
                             fix="restore the file from the benchmark's output")
    except ValueError as exc:   # valid JSON Python will not convert, e.g. an integer of over 4,300 digits
        return None, invalid(f"{shown} holds a value no DLIO document has: {exc}", file=shown,
                             fix="restore the file from the benchmark's output")
    if _SURROGATE_ESCAPE.search(text):
        data = _safe_strings(data)
    return data, None


#: a JSON `\\uD800`-`\\uDFFF` escape, which decodes to a lone surrogate that no UTF-8 writer accepts
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _safe_strings(data: Any) -> Any:
    if isinstance(data, str):
        return safe_text(data)
    if isinstance(data, list):
        return [_safe_strings(x) for x in data]
    if isinstance(data, dict):
        return {safe_text(k): _safe_strings(v) for k, v in data.items()}
    return data


def read_yaml(path: str, shown: str) -> tuple[Any, Finding | None]:
    """A parsed YAML document (shared with other readers of the same text: do not modify it), or a finding
    naming the file and the fix."""
    text, problem = read_text(path, shown)
    if problem is not None:
        return None, problem
    cached = _yaml_cache.get(text, _yaml_cache)
    if cached is not _yaml_cache:
        _yaml_cache.move_to_end(text)
        return cached, None
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        pos = f" at line {where.line + 1}" if where is not None else ""
        return None, invalid(f"{shown} is not valid YAML{pos}", file=shown,
                             fix="restore the file from the benchmark's dlio_config output")
    except (ValueError, RecursionError) as exc:   # valid YAML Python will not build (a 4,300+ digit integer)
        reason = "nests too deeply" if isinstance(exc, RecursionError) else f"holds a value no DLIO config has: {exc}"
        return None, invalid(f"{shown} {reason}", file=shown,
                             fix="restore the file from the benchmark's dlio_config output")
    if len(text) <= YAML_CACHE_MAX_CHARS:
        _yaml_cache[text] = data
        if len(_yaml_cache) > YAML_CACHE_SIZE:
            _yaml_cache.popitem(last=False)
    return data, None
