"""Command line: ``python -m mlps_harness.benchmarks.vector_database.workload <datasize|load|run>``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Optional, Sequence

from mlps_harness.argtypes import non_negative_int, positive_float, positive_int

from ..options import FLAGS
from .options import (
    DEFAULT_DATA_SEED,
    DEFAULT_QUERY_SEED,
    VECTOR_DTYPES,
    VectorDBError,
    build_index_params,
    check_distribution,
    check_index_type,
    check_metric_type,
)

EXIT_USAGE = 2


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Milvus server (default: embedded milvus-lite in --data-dir)")
    group.add_argument("--data-dir", help="data directory of the embedded milvus-lite server "
                       "(with --vdb-host: only used to pick the device for disk I/O stats)")
    for name in ("vdb-host", "vdb-port", "collection"):
        FLAGS.add_to_workload(group.add_argument, name)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser for all three subcommands; the options shared with the suite come from `FLAGS` (each
    also accepts the suite's `--vdb-*` spelling, so a command the suite prints runs as shown)."""
    parser = argparse.ArgumentParser(prog="python -m mlps_harness.benchmarks.vector_database.workload",
                                     description="MLPerf Storage vector database workload.")
    commands = parser.add_subparsers(dest="command", required=True)

    size = commands.add_parser("datasize", help="bytes needed for a collection and its index")
    for name in ("dimension", "num-vectors", "index-type"):
        FLAGS.add_to_workload(size.add_argument, name)
    size.add_argument("--num-shards", type=positive_int, default=1, help="recorded only; does not multiply the size")
    size.add_argument("--vector-dtype", choices=VECTOR_DTYPES, default="FLOAT_VECTOR")

    load = commands.add_parser("load", aliases=["datagen"], help="create, index and fill a collection")
    _add_connection_options(load)
    for name in ("dimension", "num-vectors", "distribution"):
        FLAGS.add_to_workload(load.add_argument, name)
    load.add_argument("--seed", type=non_negative_int, default=DEFAULT_DATA_SEED, help="data seed")
    for name in ("index-type", "metric-type"):
        FLAGS.add_to_workload(load.add_argument, name)
    load.add_argument("--M", dest="hnsw_m", type=positive_int, default=16, help="HNSW max links per node")
    load.add_argument("--ef-construction", type=positive_int, default=200, help="HNSW build beam width")
    load.add_argument("--nlist", type=positive_int, default=128, help="IVF cluster count")
    load.add_argument("--max-degree", type=positive_int, default=16, help="DISKANN/AISAQ graph degree")
    load.add_argument("--search-list-size", type=positive_int, default=200, help="DISKANN/AISAQ build list")
    load.add_argument("--inline-pq", type=positive_int, default=16, help="AISAQ inline PQ vectors")
    load.add_argument("--batch-size", type=positive_int, default=1000, help="rows per insert call")
    load.add_argument("--chunk-size", type=positive_int, default=10000, help="rows generated at a time")
    load.add_argument("--num-shards", type=positive_int, default=1)
    load.add_argument("--vector-dtype", choices=VECTOR_DTYPES, default="FLOAT_VECTOR")
    FLAGS.add_to_workload(load.add_argument, "force")
    load.add_argument("--index-timeout", type=positive_float, default=600.0, help="seconds to wait for the index")
    load.add_argument("--output-dir", help="write load_summary.json here")

    run = commands.add_parser("run", help="benchmark searches, recall and disk I/O")
    _add_connection_options(run)
    mode = run.add_mutually_exclusive_group()
    FLAGS.add_to_workload(mode.add_argument, "runtime", note="timed mode")
    mode.add_argument("--queries", type=positive_int, help="query-count mode: total queries over all processes")
    for name in ("num-query-processes", "batch-size", "search-ef"):
        FLAGS.add_to_workload(run.add_argument, name)
    run.add_argument("--search-limit", type=positive_int, default=10, help="top-k returned per query")
    run.add_argument("--nprobe", type=positive_int, default=16, help="IVF clusters probed")
    run.add_argument("--search-list", type=positive_int, default=100, help="DISKANN/AISAQ search_list")
    run.add_argument("--recall-k", type=positive_int, help="k of recall@k (default: --search-limit)")
    run.add_argument("--num-query-vectors", type=positive_int, default=1000)
    run.add_argument("--query-seed", type=non_negative_int, default=DEFAULT_QUERY_SEED)
    FLAGS.add_to_workload(run.add_argument, "dimension", default=None, note="must match the loaded collection")
    run.add_argument("--output-dir", required=True, help="where the result files are written")
    return parser


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _dispatch(args: argparse.Namespace) -> dict[str, object]:
    if args.command == "datasize":
        from .datasize import datasize_report

        return datasize_report(args.num_vectors, args.dimension, args.index_type, args.vector_dtype,
                               args.num_shards)
    from .server import milvus_endpoint

    if args.command in ("load", "datagen"):  # validate before starting a server
        args.index_type = check_index_type(args.index_type)
        args.metric_type = check_metric_type(args.metric_type)
        args.distribution = check_distribution(args.distribution)
    with milvus_endpoint(args.vdb_host, args.vdb_port, args.data_dir) as endpoint:
        if args.command in ("load", "datagen"):
            from .load import load_collection

            params = build_index_params(args.index_type, hnsw_m=args.hnsw_m,
                                        ef_construction=args.ef_construction, nlist=args.nlist,
                                        max_degree=args.max_degree, search_list_size=args.search_list_size,
                                        inline_pq=args.inline_pq)
            return load_collection(
                endpoint, collection=args.collection, num_vectors=args.num_vectors,
                dimension=args.dimension, distribution=args.distribution, seed=args.seed,
                index_type=args.index_type, metric_type=args.metric_type, index_params=params,
                batch_size=args.batch_size, chunk_size=args.chunk_size, num_shards=args.num_shards,
                force=args.force, index_timeout_s=args.index_timeout, output_dir=args.output_dir, log=_log)
        from .run import run_benchmark

        return run_benchmark(
            endpoint, output_dir=args.output_dir, collection=args.collection, runtime_s=args.runtime,
            num_queries=args.queries, num_query_processes=args.num_query_processes,
            batch_size=args.batch_size, search_limit=args.search_limit, search_ef=args.search_ef,
            nprobe=args.nprobe, search_list=args.search_list, recall_k=args.recall_k,
            num_query_vectors=args.num_query_vectors, query_seed=args.query_seed,
            dimension=args.dimension, log=_log)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI; returns the exit status (2 for user errors, no traceback)."""
    args = build_parser().parse_args(argv)
    try:
        result = _dispatch(args)
    except VectorDBError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - e.g. MilvusException: one line, no traceback
        print(f"error: {args.command} failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, default=str))
    return 0
