"""`pytest suites/vector_database`: datasize, the Milvus backend, load once, N timed search runs, then every rule on them.

With no vector database option it runs the embedded default: the milvus-lite server on a free loopback port with
its data under --data-dir, HNSW/COSINE, 2,000 x 32-d vectors, `--loops` (default 5) runs of 3 s each. The vector
database has no warm-up run: `--loops N` is the number of measured runs. Its verdict is OPEN at best (milvus-lite is
not a storage system under test) and INVALID with 3 s runs (< 30 s); `--vdb-host/--vdb-port` use a real Milvus.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlps_harness.benchmarks.vector_database.plan import BENCHMARK, VectorDBPlan, build_plan
from mlps_harness.benchmarks.vector_database.stages import (
    Backend,
    RunInterrupted,
    cluster_information,
    load,
    open_backend,
    run_all,
)
from mlps_harness.reporting.results import default_results_dir
from mlps_harness.suite.collection import parametrize_suite, skip_stages_for_what_if
from mlps_harness.suite.index import SuiteIndex
from mlps_harness.suite.progress import live_writer
from mlps_harness.suite.rundirs import claim_results_dir
from mlps_harness.suite.serial import refuse_xdist
from mlps_harness.suite.signals import install_stop_signals, interrupt_exits
from mlps_harness.suite.stage_result import StageResult, written_dirs

PLAN_KEY = pytest.StashKey[VectorDBPlan]()


def pytest_configure(config: pytest.Config) -> None:
    install_stop_signals(config)  # SIGTERM/SIGHUP stop every stage like Ctrl-C
    with interrupt_exits(config, "suites/vector_database set-up"):
        refuse_xdist(config, "suites/vector_database")
        config.stash[PLAN_KEY] = build_plan(config)
        plan = config.stash[PLAN_KEY]
        claim_results_dir(config, plan.results_dir, "vector_database", f"{plan.engine}-{plan.index_type}")
        if not config.getoption("--what-if"):   # results.json/csv go beside the runs, as upstream reportgen writes them
            default_results_dir(config, config.stash[PLAN_KEY].results_dir)


def pytest_report_header(config: pytest.Config) -> list[str]:
    plan = config.stash[PLAN_KEY]
    where = (f"embedded milvus-lite server, data in {plan.milvus_data_dir}" if plan.embedded
             else f"{plan.engine} at {plan.host}:{plan.port}"
             + (" (not contacted: --what-if)" if config.getoption("--what-if") else ""))
    size = plan.datasize
    lines = [f"vector_database: {plan.engine}, {plan.index_type}/{plan.metric_type}, {plan.num_vectors} x "
             f"{plan.dimension}-d {plan.distribution} vectors, {plan.runs} run(s) of {plan.runtime_s:g} s "
             f"(no warm-up), {plan.num_query_processes} query process(es), batch {plan.batch_size}, rules "
             f"{plan.rules_version}{' (embedded default)' if plan.defaults_only else ''}",
             f"backend: {where}; collection {plan.collection!r}{' (reloaded: --vdb-force)' if plan.force else ''}",
             f"datasize: {size['estimated_bytes']} bytes ({size['estimated_gib']} GiB, {plan.index_type} "
             f"overhead {size['index_overhead']}); results {plan.results_dir}",
             *(f"warning: {w}" for w in plan.warnings)]
    if config.getoption("--what-if"):
        lines.append("what-if: these commands would run (nothing is executed):")
        lines.append("  load: " + " ".join(plan.load_argv(plan.layout_dir("load") / "<YYYYMMDD_HHMMSS>")))
        for slot in plan.slots:
            lines.append(f"  {slot}: " + " ".join(plan.run_argv(plan.layout_dir("run") / "<YYYYMMDD_HHMMSS>")))
    return lines


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    plan = metafunc.config.stash[PLAN_KEY]
    parametrize_suite(metafunc, BENCHMARK, plan.model, plan.slots, {"load": "load", **{s: "run" for s in plan.slots}},
                      plan.rules_version)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_stages_for_what_if(config, items, keep=("datasize",))


@pytest.fixture(scope="session")
def vdb_plan(pytestconfig: pytest.Config) -> VectorDBPlan:
    return pytestconfig.stash[PLAN_KEY]


@pytest.fixture(scope="session")
def cluster_info(vdb_plan: VectorDBPlan) -> dict:
    """This host, with the filesystems of the engine's data dir and of the results dir (rule H5.9)."""
    return cluster_information(vdb_plan)


@pytest.fixture(scope="session")
def vdb_backend(vdb_plan: VectorDBPlan) -> Iterator[Backend]:
    """The embedded milvus-lite server (started here, stopped at the end of the session) or the real Milvus."""
    with open_backend(vdb_plan) as backend:
        yield backend


@pytest.fixture(scope="session")
def vdb_load(pytestconfig: pytest.Config, vdb_plan: VectorDBPlan, vdb_backend: Backend,
             cluster_info: dict) -> StageResult:
    """The collection, loaded once into its own load directory."""
    try:
        return load(vdb_plan, vdb_backend, cluster_info, live_writer(pytestconfig, "load"))
    except RunInterrupted as exc:
        pytest.exit(str(exc), returncode=130)


@pytest.fixture(scope="session")
def vdb_runs(pytestconfig: pytest.Config, vdb_plan: VectorDBPlan, vdb_backend: Backend, vdb_load: StageResult,
             cluster_info: dict) -> dict[str, StageResult]:
    """`--loops` timed runs back to back; stops at the first failed run."""
    try:
        return run_all(vdb_plan, vdb_backend, vdb_load, cluster_info, lambda slot: live_writer(pytestconfig, slot))
    except RunInterrupted as exc:
        pytest.exit(str(exc), returncode=130)


@pytest.fixture(scope="session")
def mlps_results(vdb_plan: VectorDBPlan, vdb_load: StageResult, vdb_runs: dict[str, StageResult]) -> SuiteIndex:
    """This session's load and runs, loaded back through the audit's own loader."""
    return SuiteIndex(vdb_plan.results_dir, written_dirs([*vdb_runs.values(), vdb_load]), vdb_plan.rules_version)

