"""The pytest plugin (entry point `pytest11: mlps_harness`): options, markers, fixtures, and the feature plugins.

Each feature lives in its own module, registered here: `terminal` (outcome letters and the verdict panel),
`report_html` (pytest-html), `report_machine` (JUnit properties and `--mlps-json`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mlps_harness import properties as prop_names
from mlps_harness.rulesets import VERSIONS

if TYPE_CHECKING:
    from mlps_harness.cases import RuleCase, RuleOutcome
    from mlps_harness.loader import ResultsIndex

INDEX_KEY = pytest.StashKey["ResultsIndex"]()
RULES_VERSIONS = ("auto", *VERSIONS)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mlperf-storage", "MLPerf Storage benchmark and compliance")
    group.addoption("--results-dir", metavar="DIR", default=None,
                    help="results tree to audit (upstream mlpstorage v2.0 layout or a v3.0 submission tree); "
                         "the suites write their runs here too (default $MLPSTORAGE_RESULTS_DIR, else ./results)")
    group.addoption("--rules-version", choices=RULES_VERSIONS, default="auto",
                    help="ruleset to apply: auto (per run, from its metadata, else from the layout), v2.0 or v3.0")
    group.addoption("--division", choices=("closed", "open"), default=None,
                    help="the division you submit to: with 'closed', OPEN findings fail the run; unset = report only")
    group.addoption("--mlps-json", metavar="PATH", default=None,
                    help="write the machine-readable verdict (per run, per group, overall, findings) to PATH")
    from mlps_harness.reporting.results import add_options as add_results_options

    add_results_options(group)
    from mlps_harness.spec import benchmarks
    from mlps_harness.suite.options import add_suite_options

    add_suite_options(parser)
    for spec in benchmarks().values():
        if spec.add_options is not None:
            spec.hook(spec.add_options)(parser.getgroup(f"mlperf-storage-{spec.name}",
                                                        f"MLPerf Storage suite: {spec.name} ({spec.description})"))


@pytest.hookimpl(tryfirst=True)  # before pytest-html reads --self-contained-html
def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "htmlpath", None) and hasattr(config.option, "self_contained_html"):
        config.option.self_contained_html = True   # one file, no assets/ folder beside it
    config.addinivalue_line("markers", "rule(id, slug, benchmark, scope, category): an MLPerf Storage rule test; "
                                       "select with -m \"rule(id='3.3.2')\"")
    config.addinivalue_line("markers", "stage(name): a benchmark suite stage (datasize, datagen, run)")
    from mlps_harness.reporting import html, machine, results, terminal

    machine.check_mlps_json(config)
    results.check_options(config)
    config.pluginmanager.register(terminal.VerdictFeed(config), "mlps_harness.verdict_feed")
    config.pluginmanager.register(results.ResultsFeed(config), "mlps_harness.results_feed")
    config.pluginmanager.register(terminal, "mlps_harness.terminal")
    config.pluginmanager.register(machine, "mlps_harness.report_machine")
    if config.pluginmanager.hasplugin("html"):
        config.pluginmanager.register(html, "mlps_harness.report_html")


def _check_rule_marker_ids(config: pytest.Config) -> None:
    """`-m "rule(id='X')"` with an id no rule has is a usage error (it would silently select nothing)."""
    import difflib
    import re

    expression = config.getoption("markexpr", "") or ""
    wanted = re.findall(r"\bid\s*=\s*['\"]([^'\"]+)['\"]", expression) if "rule(" in expression else []
    if not wanted:
        return
    from mlps_harness.rules import all_rules

    known = sorted({r.id for r in all_rules()})
    for rule_id in wanted:
        if rule_id not in known:
            close = difflib.get_close_matches(rule_id, known, n=3)
            raise pytest.UsageError(f"-m: no rule has id {rule_id!r}"
                                    + (f"; did you mean {', '.join(close)}?" if close else "")
                                    + " (docs/RULES.md lists every rule id)")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the placeholder pytest makes for a rule-test function with no cases (e.g. a suite without group
    rules, or --what-if): an empty parameter set is "nothing to check", not a skipped check."""
    _check_rule_marker_ids(config)
    empty = [item for item in items if prop_names.CASE_PARAM in getattr(getattr(item, "callspec", None), "params", {})
             and not hasattr(item.callspec.params[prop_names.CASE_PARAM], "rule")]
    if empty:
        config.hook.pytest_deselected(items=empty)
        items[:] = [item for item in items if item not in empty]


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Where --results-dir, --data-dir, --checkpoint-folder, --org and --system came from (option, environment)."""
    from mlps_harness.suite.options import settings_header

    return settings_header(config)


def results_dir(config: pytest.Config, default: str | None = None) -> Path | None:
    """The `--results-dir` option (else $MLPSTORAGE_RESULTS_DIR) as a path (or `default`)."""
    from mlps_harness.suite.options import apply_env_defaults

    apply_env_defaults(config)
    value = config.getoption("--results-dir") or default
    return Path(value).expanduser() if value else None


def audit_index(config: pytest.Config) -> "ResultsIndex":
    """The results tree named by `--results-dir`, discovered once per process; usage errors for bad paths."""
    if INDEX_KEY in config.stash:
        return config.stash[INDEX_KEY]
    from mlps_harness.loader import ResultsIndex

    root = results_dir(config)
    from mlps_harness.spec import benchmark_names, benchmarks

    layouts = ", ".join(f"{name}/" + "".join(f"{spec.default_command}/" if part == "command" else f"<{part}>/"
                                             for part in spec.path_layouts[0]) + "<YYYYMMDD_HHMMSS>/"
                        for name, spec in sorted(benchmarks().items()))
    hint = (f"expected a results dir holding run directories ({layouts}) or a submission tree "
            "closed|open/<org>/results/<system>/...")
    if root is None:
        raise pytest.UsageError(f"--results-dir is required: {hint}")
    if not root.exists():
        raise pytest.UsageError(f"--results-dir {root}: no such directory; {hint}")
    if not root.is_dir():
        raise pytest.UsageError(f"--results-dir {root}: not a directory; {hint}")
    index = ResultsIndex(root.resolve(), config.getoption("--rules-version"))
    if not index.refs:
        raise pytest.UsageError(f"--results-dir {root}: no runs found; {hint}")
    if not any(ref.benchmark in benchmark_names() for ref in index.refs):
        found = ", ".join(sorted({ref.benchmark for ref in index.refs})[:8])
        raise pytest.UsageError(f"--results-dir {root}: no benchmark directory found (it holds {found}); {hint}")
    config.stash[INDEX_KEY] = index
    return index


def parametrize_rule_cases(metafunc: pytest.Metafunc, index: "ResultsIndex") -> None:
    """Parametrize `mlps_case` of a test function with every case of its category (from the `category` attr)."""
    from mlps_harness.cases import as_params, build_cases

    if prop_names.CASE_PARAM not in metafunc.fixturenames:
        return
    category = getattr(metafunc.function, prop_names.CATEGORY_ATTR, "run")
    metafunc.parametrize(prop_names.CASE_PARAM, as_params(build_cases(index, category)))


def order_by_target(items: list[pytest.Item]) -> None:
    """Run every rule of one run back to back, each group's rules after its runs (so each run is parsed once)."""
    from mlps_harness.cases import RuleCase

    categories = {"layout": 0, "run": 1, "submission": 2}

    def key(item: pytest.Item) -> tuple:
        case = getattr(item, "case", None)
        if case is None:
            spec = getattr(item, "callspec", None)
            case = spec.params.get(prop_names.CASE_PARAM) if spec else None
        if not isinstance(case, RuleCase):
            return ("", 0, "", 0, item.nodeid)
        function = getattr(item, "check", None) or getattr(item, "function", None)
        category = categories.get(getattr(function, prop_names.CATEGORY_ATTR, "run"), 1)
        return (case.group, 1 if case.scope == "group" else 0, case.target, category, case.rule)

    items.sort(key=key)


@pytest.fixture(scope="session")
def mlps_results(request: pytest.FixtureRequest) -> "ResultsIndex":
    """The results tree the rule tests audit (suites override this with the runs they just wrote)."""
    return audit_index(request.config)


@pytest.fixture
def mlps_rule_outcome(request: pytest.FixtureRequest, mlps_case: "RuleCase",
                      mlps_results: "ResultsIndex") -> "RuleOutcome":
    """The evaluated rule case; a crash here is a test error, counted INVALID."""
    from mlps_harness.cases import evaluate_case

    return evaluate_case(mlps_case, mlps_results, request.node, request.config.getoption("--division"))
