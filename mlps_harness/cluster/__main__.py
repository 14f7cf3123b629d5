"""``[mpirun ...] python -m mlps_harness.cluster --data-dir D --results-dir R [--output F.json]``

Rank 0 prints the document on one stdout line starting with ``MLPS_CLUSTER_JSON `` (mpirun forwards every
rank's stdout to the launcher, so this works whatever host rank 0 lands on and whatever is shared) and, with
``--output``, also writes it to that file.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

from mlps_harness.cluster.collect import (
    STDOUT_MARKER,
    compare_with_declared,
    declared_cluster_info,
    gather_cluster_info_mpi,
    local_cluster_info,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mlps_harness.cluster",
        description="Describe every host (memory, CPUs, filesystems of the data and results dirs) "
                    "and write one JSON on rank 0. Run it under mpirun with ranks on every host.")
    parser.add_argument("--data-dir", required=True, help="directory the benchmark reads data from")
    parser.add_argument("--results-dir", required=True, help="directory the results are written to")
    parser.add_argument("--output", default=None, help="JSON file to write as well (rank 0 only)")
    parser.add_argument("--client-host-memory-gb", type=float, default=None,
                        help="declared memory per client host in GiB (fallback when MPI is unavailable)")
    parser.add_argument("--num-client-hosts", type=int, default=None,
                        help="declared number of client hosts (fallback when MPI is unavailable)")
    parser.add_argument("--no-mpi", action="store_true", help="do not try MPI; describe this host or declared hosts")
    return parser


def _write_json(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _fallback(args: argparse.Namespace, reason: str) -> dict:
    if args.client_host_memory_gb and args.num_client_hosts:
        return declared_cluster_info(args.client_host_memory_gb, args.num_client_hosts, reason=reason)
    return local_cluster_info(args.data_dir, args.results_dir,
                              warnings=[f"{reason}; only this host is described "
                                        "(pass --client-host-memory-gb and --num-client-hosts to declare hosts)"])


def main(argv: Sequence[str] | None = None) -> int:
    """Collect, then write ``--output`` on rank 0; exit 0 on success, 2 on bad input."""
    args = _parser().parse_args(argv)
    for option, value in (("--client-host-memory-gb", args.client_host_memory_gb),
                          ("--num-client-hosts", args.num_client_hosts)):
        if value is not None and value <= 0:
            print(f"mlps_harness.cluster: error: {option}: expected a positive number, got {value}",
                  file=sys.stderr)
            return 2
    output = Path(args.output) if args.output else None
    if output is not None and output.is_dir():
        print(f"mlps_harness.cluster: error: --output {output} is a directory; give a file name "
              "such as cluster_info.json", file=sys.stderr)
        return 2
    document: dict | None
    if args.no_mpi:
        document = _fallback(args, "--no-mpi given")
    else:
        try:
            document = gather_cluster_info_mpi(args.data_dir, args.results_dir)
        except (ImportError, RuntimeError) as error:
            document = _fallback(args, f"MPI collection impossible ({type(error).__name__}: {error})")
        else:
            if document is None:  # not rank 0
                return 0
            compare_with_declared(document, args.client_host_memory_gb, args.num_client_hosts)
    print(STDOUT_MARKER + json.dumps(document, sort_keys=False), flush=True)
    if output is not None:
        try:
            _write_json(output, document)
        except OSError as error:
            print(f"mlps_harness.cluster: error: --output {output}: cannot write ({error.strerror})",
                  file=sys.stderr)
            return 2
    for warning in document["warnings"]:
        print(f"mlps_harness.cluster: warning: {warning}", file=sys.stderr)
    print(f"mlps_harness.cluster: {len(document['hosts'])} host(s), source {document['source']}"
          + (f" -> {output}" if output else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
