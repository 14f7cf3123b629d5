"""`safe_io.read_json` parses with pydantic-core and lets json decide what pydantic-core refuses: every text gives
the document, or the finding, that `json.loads` alone would give."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from mlps_harness.loader.safe_io import read_json

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

#: texts json and pydantic-core disagree on, or that sit on a grammar edge
EDGES = ['"\\ud800"', '{"k": "\\udcff x"}', '"\\ud83d\\ude00"', "NaN", "[Infinity, -Infinity]", "1e400", "-0",
         "123456789012345678901234567890", '{"a": 1, "a": 2}', "[" * 300 + "]" * 300, "[" * 5000 + "]" * 5000,
         '"a\tb"', '{"a": 1}x', "[1,]", "\ufeff{}", "01", "+1", ".5", "1.", "'a'", "[1 2]", '{"a" 1}', "nan",
         "tRue", "[1e5, 1E-5, 0.1, 5e-324]", '"\\u0000"', "{}\n\n", "  [ ]  ", '{"n": ' + "9" * 5000 + "}",
         "[" + "1" * 4300 + "]"]


def _expected(text: str) -> tuple[str, object]:
    try:
        return "ok", json.loads(text)
    except (ValueError, RecursionError):   # JSONDecodeError, or an integer over Python's digit limit
        return "finding", None


def _same(a: object, b: object) -> bool:
    """Equal, with NaN equal to NaN and float/int types compared (json gives 1.0 and 1 apart)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return a == b


def _check(text: str, path: Path) -> None:
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    data, problem = read_json(str(path), "run/doc.json")
    kind, expected = _expected(text)
    if kind == "finding":
        assert data is None and problem is not None and "run/doc.json" in problem.message
        return
    assert problem is None
    if '\\u' in text.lower():   # lone surrogate escapes come back written out (`safe_text`)
        return
    assert _same(data, expected), (text, data, expected)


@pytest.mark.parametrize("text", EDGES, ids=range(len(EDGES)))
def test_edges(text: str, tmp_path: Path) -> None:
    _check(text, tmp_path / "doc.json")


def test_lone_surrogate_escape_is_made_printable(tmp_path: Path) -> None:
    (tmp_path / "doc.json").write_text('{"host": "a\\ud800b"}')
    data, problem = read_json(str(tmp_path / "doc.json"), "doc.json")
    assert problem is None and data == {"host": "a\\ud800b"}   # written out, so it encodes as UTF-8
    data["host"].encode("utf-8")


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                     lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=20)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(doc=_json)
def test_documents_parse_as_json_does(doc: object, tmp_path: Path) -> None:
    _check(json.dumps(doc, ensure_ascii=False), tmp_path / "doc.json")


@settings(max_examples=500, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list('{}[]":,.-+eE0123456789 \ntruefalsnNI\\u')), max_size=40))
def test_any_text_gets_json_answer(text: str, tmp_path: Path) -> None:
    if not text.strip():
        return   # an empty file is its own finding
    _check(text, tmp_path / "doc.json")
