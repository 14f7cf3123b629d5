"""`pytest suites/training`: datasize, datagen (once), warm-up + N DLIO runs, then every rule on those runs.

With no options it runs the embedded default: a small unet3d configuration on this machine with 2 ranks.
"""

from __future__ import annotations

import pytest

from mlps_harness.benchmarks.training.configview import configview_lines
from mlps_harness.benchmarks.training.plan import TrainingPlan, build_plan
from mlps_harness.benchmarks.training.stages import dataset_space_problem, generate_dataset, launch
from mlps_harness.suite.cluster import collect_cluster, summary_host_count_warning
from mlps_harness.reporting.results import default_results_dir
from mlps_harness.suite.collection import parametrize_suite, skip_stages_for_what_if
from mlps_harness.suite.index import SuiteIndex
from mlps_harness.suite.progress import live_writer
from mlps_harness.suite.rundirs import RunInterrupted
from mlps_harness.suite.rundirs import claim_results_dir
from mlps_harness.suite.serial import refuse_xdist
from mlps_harness.suite.signals import install_stop_signals, interrupt_exits
from mlps_harness.suite.stage_result import StageResult, written_dirs

PLAN_KEY = pytest.StashKey[TrainingPlan]()


def pytest_configure(config: pytest.Config) -> None:
    install_stop_signals(config)  # SIGTERM/SIGHUP stop every stage like Ctrl-C
    with interrupt_exits(config, "suites/training set-up"):
        refuse_xdist(config, "suites/training")
        plan = config.stash[PLAN_KEY] = build_plan(config, collect=_collector)
        claim_results_dir(config, config.stash[PLAN_KEY].results_dir, "training", config.stash[PLAN_KEY].model)
        if not config.getoption("--what-if"):   # results.json/csv go beside the runs, as upstream reportgen writes them
            default_results_dir(config, config.stash[PLAN_KEY].results_dir)
        problem = dataset_space_problem(plan)
        if problem:
            plan.warnings.append(problem)


def _collector(mpi, data_dir, results_dir, memory_gb, num_hosts) -> dict:
    """Cluster information, gathered over MPI before the datasize is computed (its warnings join the plan's)."""
    return collect_cluster(mpi, data_dir, results_dir, memory_gb=memory_gb, num_hosts=num_hosts)


def pytest_report_header(config: pytest.Config) -> list[str]:
    plan = config.stash[PLAN_KEY]
    size = plan.datasize
    lines = [f"training: {plan.model} on {plan.num_processes} x {plan.accelerator}, hosts {','.join(plan.hosts)}, "
             f"rules {plan.rules_version}{' (embedded default)' if plan.embedded else ''}",
             f"datasize: {size.explain()}; {size.total_disk_bytes / 1024 ** 3:.1f} GiB "
             f"(memory {size.total_memory_bytes / 1024 ** 3:.1f} GiB over {plan.num_client_hosts} host(s), "
             f"{plan.memory_source})",
             *(f"warning: {w}" for w in plan.warnings)]
    if config.getoption("--what-if"):
        lines.append("what-if: these commands would run (nothing is executed):")
        lines.append("  datagen: " + " ".join(plan.argv("datagen", plan.results_dir / "training" / plan.model
                                                          / "datagen" / "<YYYYMMDD_HHMMSS>")))
        for slot in plan.run_slots:
            lines.append(f"  {slot}: " + " ".join(plan.argv("run", plan.results_dir / "training" / plan.model
                                                           / "run" / "<YYYYMMDD_HHMMSS>")))
        lines += configview_lines(plan)
    return lines


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    plan = metafunc.config.stash[PLAN_KEY]
    parametrize_suite(metafunc, "training", plan.model, plan.run_slots,
                      {"datagen": "datagen", **{slot: "run" for slot in plan.run_slots}}, plan.rules_version)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """After -k/-m selection: --what-if skips the stages; otherwise refuse, before anything runs, a dataset that
    cannot fit in --data-dir when a selected test needs it (the datasize stage alone writes nothing)."""
    if config.getoption("--what-if"):
        skip_stages_for_what_if(config, items, keep=("datasize",))
        return
    needs_data = any(getattr(item.get_closest_marker("stage"), "args", ("rules",))[0] != "datasize"
                     for item in items)
    problem = dataset_space_problem(config.stash[PLAN_KEY])
    if needs_data and problem:
        raise pytest.UsageError(problem)


@pytest.fixture(scope="session")
def training_plan(pytestconfig: pytest.Config) -> TrainingPlan:
    return pytestconfig.stash[PLAN_KEY]


@pytest.fixture(scope="session")
def cluster_info(training_plan: TrainingPlan) -> dict:
    """Hosts, memory, CPUs and filesystems of data and results dirs, gathered over MPI when the plan was made
    (the same document the datasize was computed from)."""
    if training_plan.cluster is None:
        pytest.skip("no cluster information under --what-if")
    return training_plan.cluster


@pytest.fixture(scope="session")
def training_dataset(pytestconfig: pytest.Config, training_plan: TrainingPlan, cluster_info: dict) -> StageResult:
    """The dataset: generated once, or reused when the manifest shows identical parameters."""
    try:
        return generate_dataset(training_plan, cluster_info, live_writer(pytestconfig, "datagen"))
    except RunInterrupted as exc:
        pytest.exit(str(exc), returncode=130)


@pytest.fixture(scope="session")
def training_runs(pytestconfig: pytest.Config, training_plan: TrainingPlan, training_dataset: StageResult,
                  cluster_info: dict) -> dict[str, StageResult]:
    """Warm-up plus `--loops` runs back to back; stops at the first failed launch."""
    done: dict[str, StageResult] = {}
    if not training_dataset.ok:
        return done
    for number, slot in enumerate(training_plan.run_slots):
        try:
            done[slot] = launch(training_plan, "run", cluster_info, number, live_writer(pytestconfig, slot))
        except RunInterrupted as exc:
            pytest.exit(str(exc), returncode=130)
        mismatch = summary_host_count_warning(done[slot].run_dir, cluster_info)
        if mismatch:
            live_writer(pytestconfig, slot)(f"WARNING: {mismatch}")
        if not done[slot].ok:
            break
    return done


@pytest.fixture(scope="session")
def mlps_results(training_plan: TrainingPlan, training_dataset: StageResult,
                 training_runs: dict[str, StageResult]) -> SuiteIndex:
    """This session's runs (and the datagen run its dataset came from), loaded back through the audit's loader."""
    dirs = written_dirs([*training_runs.values(), training_dataset])
    return SuiteIndex(training_plan.results_dir, dirs, training_plan.rules_version)
