"""`pytest suites/kv_cache`: the MLPerf v3.0 KV cache Option sequence under mpirun, then every rule on that run.

With no options it runs the embedded default: the three Options scaled down to tiny-1b, 2 users, 10 s, one trial
each, 2 ranks. Any KV cache option starts from the CLOSED sequence (3 Options x 3 trials x 300 s, 90 s apart).
"""

from __future__ import annotations

import pytest

from mlps_harness.benchmarks.kv_cache.configview import configview_lines
from mlps_harness.benchmarks.kv_cache.plan import KvCachePlan, build_plan
from mlps_harness.benchmarks.kv_cache.stages import Sequence, run_sequence
from mlps_harness.suite.cluster import collect_cluster
from mlps_harness.reporting.results import default_results_dir
from mlps_harness.suite.collection import parametrize_suite, skip_stages_for_what_if
from mlps_harness.suite.index import SuiteIndex
from mlps_harness.suite.progress import live_writer
from mlps_harness.suite.rundirs import RunInterrupted
from mlps_harness.suite.rundirs import claim_results_dir
from mlps_harness.suite.serial import refuse_xdist
from mlps_harness.suite.signals import install_stop_signals, interrupt_exits

PLAN_KEY = pytest.StashKey[KvCachePlan]()


def pytest_configure(config: pytest.Config) -> None:
    install_stop_signals(config)  # SIGTERM/SIGHUP stop every stage like Ctrl-C
    with interrupt_exits(config, "suites/kv_cache set-up"):
        refuse_xdist(config, "suites/kv_cache")
        config.stash[PLAN_KEY] = build_plan(config)
        claim_results_dir(config, config.stash[PLAN_KEY].results_dir, "kv_cache", config.stash[PLAN_KEY].model)
        if not config.getoption("--what-if"):   # results.json/csv go beside the runs, as upstream reportgen writes them
            default_results_dir(config, config.stash[PLAN_KEY].results_dir)


def pytest_report_header(config: pytest.Config) -> list[str]:
    plan = config.stash[PLAN_KEY]
    lines = [f"kv_cache: {len(plan.options)} Option(s) x {plan.trials} trial(s), {plan.num_processes} rank(s) on "
             f"{','.join(plan.hosts)}, {plan.delay_s:g} s between Options, rules {plan.rules_version}"
             f"{' (embedded default)' if plan.embedded else ''}",
             f"cache dir {plan.cache_dir} (rank N uses rank_N/), results {plan.results_dir}",
             *(f"  Option {o.name}: {o.model}, {o.num_users} users, {o.duration_s:g} s, gpu {o.gpu_mem_gb:g} GiB, "
               f"cpu {o.cpu_mem_gb:g} GiB, allocs {o.max_concurrent_allocs}, generation {o.generation_mode}"
               for o in plan.options),
             *(f"warning: {w}" for w in plan.warnings)]
    if config.getoption("--what-if"):
        lines.append("what-if: these commands would run (nothing is executed):")
        run_dir = plan.results_dir / "kv_cache" / plan.model / "run" / "<YYYYMMDD_HHMMSS>"
        for option in plan.options:
            lines.append(f"  option_{option.name}/trial_<T>: "
                         + " ".join(plan.argv(option, run_dir / f"option_{option.name}" / "trial_<T>")))
        lines += configview_lines(plan)
    return lines


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    plan = metafunc.config.stash[PLAN_KEY]
    parametrize_suite(metafunc, "kv_cache", plan.model, plan.slots, {"run": "run"}, plan.rules_version)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_stages_for_what_if(config, items, keep=("datasize",))


@pytest.fixture(scope="session")
def kv_plan(pytestconfig: pytest.Config) -> KvCachePlan:
    return pytestconfig.stash[PLAN_KEY]


@pytest.fixture(scope="session")
def cluster_info(pytestconfig: pytest.Config, kv_plan: KvCachePlan) -> dict:
    """Hosts, memory, CPUs and the filesystems of the cache dir and the results dir, gathered once over MPI."""
    return collect_cluster(kv_plan.mpi, kv_plan.cache_dir, kv_plan.results_dir, memory_gb=None, num_hosts=None,
                           warn=live_writer(pytestconfig, "cluster"))


@pytest.fixture(scope="session")
def kv_sequence(pytestconfig: pytest.Config, kv_plan: KvCachePlan, cluster_info: dict) -> Sequence:
    """Every Option's trials back to back; stops at the first failed trial."""
    try:
        return run_sequence(kv_plan, cluster_info, live_writer(pytestconfig, "kv_cache"))
    except RunInterrupted as exc:
        pytest.exit(str(exc), returncode=130)


@pytest.fixture(scope="session")
def mlps_results(kv_plan: KvCachePlan, kv_sequence: Sequence) -> SuiteIndex:
    """This session's run, loaded back through the audit's own loader."""
    return SuiteIndex(kv_plan.results_dir, {"run": kv_sequence.run_dir}, kv_plan.rules_version)
