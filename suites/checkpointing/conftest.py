"""`pytest suites/checkpointing`: pre-launch checks, one invocation (or a write then a read invocation with
--checkpoint-two-phase) of the MPI checkpoint workload, then every checkpointing rule on the runs just written.

With no options it runs the embedded default: llama3-8b scaled to ~32 MiB per checkpoint on 2 ranks, 10 writes and
10 reads, checkpoints under <data-dir>/checkpoints (default <tmp>/mlps-harness/data), results under
./results/checkpointing/llama3-8b/<datetime>/. `--checkpoint-storage=object` writes the shards to an S3 bucket.
"""

from __future__ import annotations

import pytest

from mlps_harness.benchmarks.checkpointing.configview import configview_lines, location
from mlps_harness.benchmarks.checkpointing.plan import CheckpointPlan, build_plan
from mlps_harness.benchmarks.checkpointing.stages import run_all
from mlps_harness.suite.cluster import collect_cluster
from mlps_harness.reporting.results import default_results_dir
from mlps_harness.suite.collection import parametrize_suite, skip_stages_for_what_if
from mlps_harness.suite.index import SuiteIndex
from mlps_harness.suite.progress import live_writer
from mlps_harness.suite.rundirs import RunInterrupted
from mlps_harness.suite.rundirs import claim_results_dir
from mlps_harness.suite.serial import refuse_xdist
from mlps_harness.suite.signals import install_stop_signals, interrupt_exits
from mlps_harness.suite.stage_result import StageResult, written_dirs

PLAN_KEY = pytest.StashKey[CheckpointPlan]()


def pytest_configure(config: pytest.Config) -> None:
    install_stop_signals(config)  # SIGTERM/SIGHUP stop every stage like Ctrl-C
    with interrupt_exits(config, "suites/checkpointing set-up"):
        refuse_xdist(config, "suites/checkpointing")
        config.stash[PLAN_KEY] = build_plan(config)
        claim_results_dir(config, config.stash[PLAN_KEY].results_dir, "checkpointing", config.stash[PLAN_KEY].model)
        if not config.getoption("--what-if"):   # results.json/csv go beside the runs, as upstream reportgen writes them
            default_results_dir(config, config.stash[PLAN_KEY].results_dir)


def pytest_report_header(config: pytest.Config) -> list[str]:
    plan = config.stash[PLAN_KEY]
    opts = plan.options
    lines = [f"checkpointing: {plan.model} on {plan.num_processes} rank(s){' (subset mode)' if plan.subset else ''}, "
             f"hosts {','.join(plan.hosts)}, rules {plan.rules_version}"
             f"{' (embedded default)' if plan.embedded else ''}",
             f"checkpoint: {plan.total_bytes / 1024 ** 3:.4f} GiB (size_scale {opts.size_scale:g}) x "
             f"{opts.num_checkpoints_write} writes + {opts.num_checkpoints_read} reads in {location(opts)}"
             f"{'; two invocations' if len(plan.invocations) > 1 else ''}",
             *(f"warning: {w}" for w in plan.warnings)]
    if config.getoption("--what-if"):
        lines.append("what-if: these commands would run (nothing is executed):")
        for inv in plan.invocations:
            run_dir = plan.results_dir / "checkpointing" / plan.model / "<YYYYMMDD_HHMMSS>"
            lines.append(f"  {inv.slot}: " + " ".join(plan.argv(inv, run_dir)))
        lines += configview_lines(plan)
    return lines


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    plan = metafunc.config.stash[PLAN_KEY]
    parametrize_suite(metafunc, "checkpointing", plan.model, plan.slots, {slot: "run" for slot in plan.slots},
                      plan.rules_version)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_stages_for_what_if(config, items, keep=("plan", "datasize"))


@pytest.fixture(scope="session")
def checkpoint_plan(pytestconfig: pytest.Config) -> CheckpointPlan:
    return pytestconfig.stash[PLAN_KEY]


@pytest.fixture(scope="session")
def cluster_info(pytestconfig: pytest.Config, checkpoint_plan: CheckpointPlan) -> dict:
    """Hosts, memory, CPUs and the filesystems of checkpoint folder (as data_dir) and results dir, over MPI."""
    plan = checkpoint_plan
    return collect_cluster(plan.mpi, plan.options.checkpoint_folder, plan.results_dir,
                           memory_gb=plan.memory_gb_per_host,
                           num_hosts=plan.num_client_hosts if plan.memory_gb_per_host else None,
                           warn=live_writer(pytestconfig, "cluster"))


@pytest.fixture(scope="session")
def checkpoint_runs(pytestconfig: pytest.Config, checkpoint_plan: CheckpointPlan,
                    cluster_info: dict) -> dict[str, StageResult]:
    """Every planned invocation, back to back; stops at the first failed one."""
    writers = {slot: live_writer(pytestconfig, slot) for slot in checkpoint_plan.slots}
    try:
        return run_all(checkpoint_plan, cluster_info, lambda slot, line: writers[slot](line),
                       keep_checkpoints=pytestconfig.getoption("--keep-checkpoints"))
    except RunInterrupted as exc:
        pytest.exit(str(exc), returncode=130)


@pytest.fixture(scope="session")
def mlps_results(checkpoint_plan: CheckpointPlan, checkpoint_runs: dict[str, StageResult]) -> SuiteIndex:
    """This session's runs, loaded back through the audit's own loader."""
    return SuiteIndex(checkpoint_plan.results_dir, written_dirs(checkpoint_runs.values()),
                      checkpoint_plan.rules_version)
