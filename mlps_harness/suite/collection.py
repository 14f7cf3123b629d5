"""Collection helpers every suite uses: stage slots, the planned rule cases, and --what-if."""

from __future__ import annotations

import pytest

from mlps_harness import properties as prop_names
from mlps_harness.cases import as_params, planned_cases


def parametrize_suite(metafunc: pytest.Metafunc, benchmark: str, model: str | None, run_slots: list[str],
                      case_slots: dict[str, str], rules_version: str | None = None) -> None:
    """`slot` gets the planned launches; `mlps_case` the rule cases of the planned run dirs (none under --what-if).

    `case_slots` maps each planned run directory ("datagen", "run/0", ...) to its command; `rules_version` (the
    plan's) leaves out the rules of other rulesets.
    """
    if "slot" in metafunc.fixturenames:
        metafunc.parametrize("slot", run_slots)
    if prop_names.CASE_PARAM in metafunc.fixturenames:
        if metafunc.config.getoption("--what-if"):
            metafunc.parametrize(prop_names.CASE_PARAM, [])
            return
        category = getattr(metafunc.function, prop_names.CATEGORY_ATTR, "run")
        cases = planned_cases(benchmark, model, case_slots, category, rules_version)
        metafunc.parametrize(prop_names.CASE_PARAM, as_params(cases))


def skip_stages_for_what_if(config: pytest.Config, items: list[pytest.Item], keep: tuple[str, ...]) -> None:
    """Under --what-if, skip every stage test except the planning ones named in `keep`."""
    if not config.getoption("--what-if"):
        return
    skip = pytest.mark.skip(reason="--what-if: nothing is run")
    for item in items:
        stage = item.get_closest_marker("stage")
        if stage is not None and stage.args[0] not in keep:
            item.add_marker(skip)
