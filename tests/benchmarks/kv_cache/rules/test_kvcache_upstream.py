"""Upstream's v3.0 KV cache run shape, read honestly: what it records is judged, what it lacks is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .builders import build_upstream_run, check, division, warnings_of

REAL = Path(__file__).parents[3] / "data" / "v3" / "kv_cache"


def test_upstream_summary_parses_and_every_recorded_value_is_judged(tmp_path: Path) -> None:
    run_id = build_upstream_run(tmp_path, cpu_tier_ranks=[])
    assert division(check(tmp_path, run_id, "H6.1-documents-parse")) in ("CLOSED", "N/A")
    for rule in ("H7.1-complete-run", "H7.2-model-known", "H7.3-closed-options", "H7.5-rank-seeds",
                 "H7.6-closed-flags", "H7.7-no-autoscaling-no-config", "H7.9-option-delay", "H7.15-aggregation",
                 "H7.16-headline", "6.3.3.3-per-client-isolation", "H7.17-summary-name"):
        result = check(tmp_path, run_id, rule)
        assert division(result) == "CLOSED", (rule, [f.message for f in result.findings])
    headline = check(tmp_path, run_id, "H7.16-headline").findings[0].message
    assert "storage P95 702 ms" in headline


def test_parameters_come_from_the_metadata_commands_and_say_so(tmp_path: Path) -> None:
    options = {"1": {"model": "llama3.1-8b", "num_users": 150, "duration_s": 300.0, "gpu_mem_gb": 0.0,
                     "cpu_mem_gb": 0.0, "max_concurrent_allocs": 16, "generation_mode": "none"}}
    run_id = build_upstream_run(tmp_path, options=options)
    result = check(tmp_path, run_id, "H7.3-closed-options")
    assert division(result) == "OPEN"
    users = next(f for f in result.problems() if f.parameter == "num_users")
    assert users.actual == "150" and users.file.endswith("_metadata.json command_output_files")


def test_without_commands_the_missing_parameters_are_named_not_failed(tmp_path: Path) -> None:
    run_id = build_upstream_run(tmp_path, commands=False)
    result = check(tmp_path, run_id, "H7.3-closed-options")
    assert division(result) == "N/A" and "records no per-Option parameters" in result.reason
    # the mirror: our own summary without a parameter stays INVALID (our suite always records them)


def test_cpu_tier_ranks_as_a_list_of_files(tmp_path: Path) -> None:
    run_id = build_upstream_run(tmp_path, cpu_tier_ranks=["option_2/trial_0/rank_1/kvcache_results_x.json"])
    assert division(check(tmp_path, run_id, "H6.1-documents-parse")) in ("CLOSED", "N/A")
    assert division(check(tmp_path, run_id, "H7.1-complete-run")) == "CLOSED"


def test_old_summary_name_is_a_warning_naming_the_rename(tmp_path: Path) -> None:
    name = "kvcache_run_summary_20260101_120000.json"
    run_id = build_upstream_run(tmp_path, summary_name=name)
    result = check(tmp_path, run_id, "H7.17-summary-name")
    assert division(result) == "CLOSED"
    (text,) = warnings_of(result)
    assert "reads only summary.json" in text
    assert result.findings[0].fix == f"rename {name} to summary.json (same content) in {run_id}"
    # the mirror: the same run named summary.json draws no warning
    assert not warnings_of(check(tmp_path, build_upstream_run(tmp_path, leaf="20260101_130000"),
                                 "H7.17-summary-name"))


@pytest.mark.parametrize("gap, expected", [(89.0, "CLOSED"), (88.0, "OPEN")])
def test_option_delay_measured_from_rank_file_times(tmp_path: Path, gap: float, expected: str) -> None:
    run_id = build_upstream_run(tmp_path, option_gap_s=gap)
    assert division(check(tmp_path, run_id, "H7.9-option-delay")) == expected


def test_extra_wrapper_flag_is_open_and_cli_defaults_in_args_are_not_judged(tmp_path: Path) -> None:
    run_id = build_upstream_run(tmp_path, extra_flag="--performance-profile latency")
    result = check(tmp_path, run_id, "H7.6-closed-flags")
    assert division(result) == "OPEN" and {f.parameter for f in result.problems()} == {"--performance-profile"}
    # upstream's args hold enable_autoscaling: true as a CLI default the wrapper never passes: not a finding
    assert division(check(tmp_path, build_upstream_run(tmp_path, leaf="20260101_130000"),
                          "H7.7-no-autoscaling-no-config")) == "CLOSED"


def test_aggregates_are_checked_against_the_rank_files(tmp_path: Path) -> None:
    run_id = build_upstream_run(tmp_path, summary_patch={"2": {"aggregated_p95_latency_ms": 700.0}})
    result = check(tmp_path, run_id, "H7.15-aggregation")
    assert division(result) == "INVALID" and result.problems()[0].expected == "702"


def test_a_missing_rank_file_and_a_shared_rank_dir(tmp_path: Path) -> None:
    run_id = build_upstream_run(tmp_path, skip_rank=("3", 1, 1))
    result = check(tmp_path, run_id, "H7.1-complete-run")
    assert division(result) == "INVALID" and "Option 3 trial 1: 1 of 2 ranks" in result.problems()[0].message
    run_id = build_upstream_run(tmp_path, duplicate_rank=("1", 0, 1), leaf="20260101_130000")
    result = check(tmp_path, run_id, "6.3.3.3-per-client-isolation")
    assert division(result) == "INVALID" and "rank 1 is shared by 2 clients" in result.problems()[0].message


def test_cache_dir_absent_from_upstream_args_is_invalid(tmp_path: Path) -> None:
    run_id = build_upstream_run(tmp_path, args={"cache_dir": None})
    assert division(check(tmp_path, run_id, "H7.10-separate-filesystems")) == "INVALID"
    run_id = build_upstream_run(tmp_path, leaf="20260101_130000")
    result = check(tmp_path, run_id, "H7.10-separate-filesystems")
    assert division(result) == "CLOSED" and "not recorded" in warnings_of(result)[0]


@pytest.mark.skipif(not REAL.is_dir(), reason="real v3.0 fixtures absent")
@pytest.mark.parametrize("system", ["ZettaLane", "HPE"])
def test_real_published_summaries(tmp_path: Path, system: str) -> None:
    """Real v3.0 files (tests/data/README.md): the summary parses; the old name draws exactly the rename warning."""
    import shutil

    shutil.copytree(REAL, tmp_path, dirs_exist_ok=True)
    (run_dir,) = {p.parent for p in tmp_path.rglob("*summary*.json") if f"/{system}/" in str(p)}
    run_id = str(run_dir.relative_to(tmp_path))
    assert division(check(tmp_path, run_id, "H6.1-documents-parse")) in ("CLOSED", "N/A")
    name = check(tmp_path, run_id, "H7.17-summary-name")
    assert bool(warnings_of(name)) == (system == "ZettaLane")
    # ZettaLane's metadata records the Option commands (judged); HPE's fixture has no metadata (named, not failed)
    assert division(check(tmp_path, run_id, "H7.3-closed-options")) == ("CLOSED" if system == "ZettaLane" else "N/A")
    summary = json.loads(next(run_dir.glob("*summary*.json")).read_text())
    assert isinstance(summary["options"]["1"]["cpu_tier_ranks"], list)
