"""`VectorDBPlan`: every decision of a vector database suite session, made and checked before anything runs.

Without a vector database option the suite runs the embedded default: milvus-lite on a free loopback port with its
data under `--data-dir`, HNSW/COSINE, 2,000 x 32-d vectors, `--loops` (5) runs of 3 s, the collection reloaded each
session. `--vdb-host/--vdb-port` use a running Milvus instead (sizes then default to upstream's 1M x 1536, 60 s).
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mlps_harness.benchmarks.vector_database.ruleset import vectordb_rules
from mlps_harness.benchmarks.vector_database.workload import (
    INDEX_TYPES,
    VectorDBError,
    datasize_report,
)
from mlps_harness.benchmarks.vector_database.workload.options import (
    DEFAULT_COLLECTION,
    DEFAULT_MILVUS_PORT,
    ENGINE_MILVUS,
    ENGINE_MILVUS_LITE,
    check_distribution,
    check_index_supported_by_engine,
    check_index_type,
    check_metric_type,
)
from mlps_harness.suite.plan import SuitePlan, common_settings, usage

BENCHMARK = "vector_database"
#: Sizes of the embedded engine (milvus-lite is never a storage system under test: keep it small and quick).
EMBEDDED_SIZES: dict[str, Any] = {"num_vectors": 2000, "dimension": 32, "runtime": 3.0}
#: Sizes against a real Milvus: upstream's `configs/vectordbbench/default.yaml`.
SERVER_SIZES: dict[str, Any] = {"num_vectors": 1_000_000, "dimension": 1536, "runtime": 60.0}
#: The suite's own options (any of them given means "not the embedded default").
VDB_OPTIONS = ("vdb_host", "vdb_port", "index_type", "metric_type", "num_vectors", "dimension", "distribution",
               "runtime", "num_query_processes", "batch_size", "search_ef", "collection", "force")


def option_name(field: str) -> str:
    """The suite option of a VDB_OPTIONS field: every vector DB option carries the `--vdb-` prefix."""
    name = "query_processes" if field == "num_query_processes" else field
    return "--" + (name if name.startswith("vdb_") else f"vdb_{name}").replace("_", "-")


WORKLOAD = [sys.executable, "-m", "mlps_harness.benchmarks.vector_database.workload"]


@dataclass(kw_only=True)
class VectorDBPlan(SuitePlan):
    """What the suite will do; `load_argv`/`run_argv` give the equivalent workload commands (shown by --what-if)."""

    defaults_only: bool            #: no vector database option given: the embedded default
    engine: str                    #: milvus-lite, or what a real server reports (detected up front)
    host: str | None
    port: int | None
    index_type: str
    metric_type: str
    num_vectors: int
    dimension: int
    distribution: str
    runtime_s: float
    num_query_processes: int
    batch_size: int
    search_ef: int
    collection: str
    force: bool
    runs: int
    data_dir: Path
    data_dir_given: bool
    datasize: dict[str, Any]

    @property
    def milvus_data_dir(self) -> Path:
        """Where the embedded server keeps its data (its log is `<dir>.server.log` next to it)."""
        return self.data_dir / "vectordb" / ENGINE_MILVUS_LITE

    @property
    def model(self) -> str:
        """The `<engine>/<INDEX>` part of the results path (the submission group)."""
        return f"{self.engine}/{self.index_type}"

    @property
    def slots(self) -> list[str]:
        """Planned run slots: `run/0` .. `run/<runs-1>` (the vector database has no warm-up)."""
        return [f"run/{i}" for i in range(self.runs)]

    def layout_dir(self, command: str) -> Path:
        """`<results>/vector_database/<engine>/<INDEX>/<command>` (the datetime dirs go below)."""
        return self.results_dir / BENCHMARK / self.engine / self.index_type / command

    def _connection(self) -> list[str]:
        if self.embedded:
            return ["--data-dir", str(self.milvus_data_dir)]
        argv = ["--vdb-host", str(self.host), "--vdb-port", str(self.port)]
        return argv + (["--data-dir", str(self.data_dir)] if self.data_dir_given else [])

    def load_argv(self, output_dir: Path | str) -> list[str]:
        """The `load` command equivalent to the suite's load stage."""
        return [*WORKLOAD, "load", *self._connection(), "--vdb-collection", self.collection,
                "--vdb-num-vectors", str(self.num_vectors), "--vdb-dimension", str(self.dimension),
                "--vdb-distribution", self.distribution, "--vdb-index-type", self.index_type,
                "--vdb-metric-type", self.metric_type, *(["--vdb-force"] if self.force else []),
                "--output-dir", str(output_dir)]

    def run_argv(self, output_dir: Path | str) -> list[str]:
        """The `run` command equivalent to one of the suite's runs."""
        return [*WORKLOAD, "run", *self._connection(), "--vdb-collection", self.collection,
                "--vdb-runtime", f"{self.runtime_s:g}", "--vdb-query-processes", str(self.num_query_processes),
                "--vdb-batch-size", str(self.batch_size), "--vdb-search-ef", str(self.search_ef),
                "--vdb-dimension", str(self.dimension), "--output-dir", str(output_dir)]

    def recorded_args(self, command: str, run_number: int) -> dict[str, Any]:
        """The `args` of a metadata file: every option, as used."""
        return {"program": "vectordb", "command": command, "model": self.model, "engine": self.engine,
                "embedded_engine": self.embedded, "embedded_default": self.defaults_only,
                "vdb_host": self.host, "vdb_port": self.port, "index_type": self.index_type,
                "metric_type": self.metric_type, "num_vectors": self.num_vectors, "dimension": self.dimension,
                "distribution": self.distribution, "runtime": self.runtime_s,
                "num_query_processes": self.num_query_processes, "num_processes": self.num_query_processes,
                "batch_size": self.batch_size, "search_ef": self.search_ef, "collection": self.collection,
                "force": self.force, "loops": self.runs, "data_dir": str(self.data_dir),
                "milvus_data_dir": str(self.milvus_data_dir) if self.embedded else None,
                "results_dir": str(self.results_dir), "closed": self.division == "closed",
                "open": self.division == "open", "run_number": run_number}



def _from_workload(error: VectorDBError) -> pytest.UsageError:
    """The workload's own message (it already names the option and the fix) as a usage error."""
    return pytest.UsageError(str(error))


def _check_numbers(values: dict[str, Any]) -> None:
    for option, key, what in (("--vdb-num-vectors", "num_vectors", "vectors to load"),
                              ("--vdb-dimension", "dimension", "dimensions"),
                              ("--vdb-query-processes", "num_query_processes", "query processes"),
                              ("--vdb-batch-size", "batch_size", "query vectors per search"),
                              ("--vdb-search-ef", "search_ef", "HNSW search ef"),
                              ("--vdb-port", "port", "TCP port")):
        value = values[key]
        if value is not None and value < 1:
            raise usage(option, f"expected 1 or more {what}, got {value}", f"e.g. {option} "
                                 f"{EMBEDDED_SIZES.get(key, 2) if key != 'port' else DEFAULT_MILVUS_PORT}")
    runtime = values["runtime"]
    if runtime is not None and not (0 < runtime < float("inf")):
        raise usage("--vdb-runtime", f"expected a positive number of seconds, got {runtime}", "e.g. --vdb-runtime 60")


def _detect_engine(host: str, port: int) -> str:
    """Check that a Milvus listens at host:port and ask it what it is; a usage error names both if not."""
    from mlps_harness.benchmarks.vector_database.workload import backend
    from mlps_harness.benchmarks.vector_database.workload.server import MilvusEndpoint

    endpoint = MilvusEndpoint(host, port)
    try:
        client = backend.connect(endpoint)
    except VectorDBError as error:
        raise _from_workload(error) from None
    try:
        return backend.detect_engine(client)
    finally:
        client.close()


def _check_division(plan: VectorDBPlan) -> None:
    """With --division=closed, refuse what can only be OPEN or INVALID before spending time on it."""
    if plan.division != "closed":
        return
    rs = vectordb_rules(plan.rules_version)
    if plan.engine not in rs.closed_engines:
        raise usage("--division=closed", f"{plan.engine} is OPEN only (not a storage system under test)",
                     "pass --vdb-host/--vdb-port of a Milvus server whose data lives on the storage under test, "
                     "or drop --division=closed")
    if plan.index_type not in rs.closed_index_types:
        raise usage("--vdb-index-type", f"{plan.index_type} is OPEN only, and --division=closed was given",
                     f"use one of {', '.join(rs.closed_index_types)}")
    if plan.runtime_s < rs.min_runtime_seconds:
        raise usage("--vdb-runtime", f"{plan.runtime_s:g} s is shorter than the {rs.min_runtime_seconds:g} s a CLOSED "
                     "run needs", f"pass --vdb-runtime {rs.min_runtime_seconds:g} or more")


def build_plan(config: pytest.Config) -> VectorDBPlan:
    """Read and check every option; a usage error names the option, the problem and the fix."""
    opt = config.getoption
    given = {name: opt(option_name(name)) for name in VDB_OPTIONS}
    for option in ("--model", "--params"):
        if opt(option):
            raise usage(option, "the vector database suite has no models or workload overrides",
                         "use its own options (--vdb-index-type, --vdb-num-vectors, --vdb-dimension, --vdb-runtime, ...; "
                         "see pytest --help)")
    common = common_settings(config, "v3.0")
    version = common["rules_version"]
    embedded = not (given["vdb_host"] or given["vdb_port"])
    defaults_only = all(value in (None, False) for value in given.values())
    sizes = EMBEDDED_SIZES if embedded else SERVER_SIZES
    values = {"num_vectors": given["num_vectors"], "dimension": given["dimension"], "runtime": given["runtime"],
              "num_query_processes": given["num_query_processes"] or opt("--num-processes"),
              "batch_size": given["batch_size"], "search_ef": given["search_ef"], "port": given["vdb_port"]}
    _check_numbers(values)
    try:
        index_type = check_index_type(given["index_type"] or "HNSW", option_name("index_type"))
        metric_type = check_metric_type(given["metric_type"] or "COSINE", option_name("metric_type"))
        distribution = check_distribution(given["distribution"] or "uniform", option_name("distribution"))
        if embedded:
            check_index_supported_by_engine(index_type, ENGINE_MILVUS_LITE, option_name("index_type"))
    except VectorDBError as error:
        raise _from_workload(error) from None
    runs = opt("--loops") if opt("--loops") is not None else 5
    if runs < 1:
        raise usage("--loops", f"expected 1 or more runs, got {runs} (the vector database has no warm-up run)",
                     "e.g. --loops 5, the number of runs a submission needs")
    if not opt("--what-if"):
        missing = [name for name in ("pymilvus", "milvus_lite") if importlib.util.find_spec(name) is None]
        if missing:
            raise usage("vectordb", f"{' and '.join(missing)} not installed in this Python",
                         "install them with: bash scripts/setup.sh --with-vectordb")
    data_dir = common["data_dir"]
    results_dir = common["results_dir"]
    host = port = None
    engine = ENGINE_MILVUS_LITE
    if not embedded:
        host, port = given["vdb_host"] or "127.0.0.1", int(given["vdb_port"] or DEFAULT_MILVUS_PORT)
        engine = ENGINE_MILVUS if opt("--what-if") else _detect_engine(host, port)
        if engine == ENGINE_MILVUS_LITE:
            try:
                check_index_supported_by_engine(index_type, engine, option_name("index_type"))
            except VectorDBError as error:
                raise _from_workload(error) from None
    num_vectors = values["num_vectors"] or sizes["num_vectors"]
    dimension = values["dimension"] or sizes["dimension"]
    plan = VectorDBPlan(
        embedded=embedded, defaults_only=defaults_only, engine=engine, host=host, port=port, index_type=index_type,
        metric_type=metric_type, num_vectors=num_vectors, dimension=dimension, distribution=distribution,
        runtime_s=float(values["runtime"] or sizes["runtime"]),
        num_query_processes=values["num_query_processes"] or 1, batch_size=values["batch_size"] or 1,
        search_ef=values["search_ef"] or 64, collection=given["collection"] or DEFAULT_COLLECTION,
        force=bool(given["force"]) or defaults_only, runs=runs, data_dir=data_dir,
        data_dir_given=opt("--data-dir") is not None, results_dir=results_dir, rules_version=version,
        division=common["division"], datasize=datasize_report(num_vectors, dimension, index_type))
    _check_division(plan)
    if not opt("--what-if"):
        for option, path in (("--data-dir", data_dir), ("--results-dir", results_dir)):
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise usage(option, f"cannot create {path} ({exc.strerror})", "choose a writable directory") from None
    if opt("--hosts"):
        plan.warnings.append("--hosts is not used: the query processes run on this host")
    if opt("--run-timeout"):
        plan.warnings.append("--run-timeout is not used: each run stops after --vdb-runtime seconds")
    if engine == ENGINE_MILVUS_LITE:
        plan.warnings.append("milvus-lite is an embedded engine, not a storage system under test: OPEN only")
    return plan


def datasize_table(plan: VectorDBPlan) -> dict[str, int]:
    """Estimated bytes of the planned collection for every index type (the chosen one included)."""
    return {index: int(datasize_report(plan.num_vectors, plan.dimension, index)["estimated_bytes"])
            for index in INDEX_TYPES}
