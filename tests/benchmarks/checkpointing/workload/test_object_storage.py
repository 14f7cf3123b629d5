"""The checkpoint workload's object mode (`--storage object`) against a real S3-compatible server started here on
loopback: moto's standalone server (`moto_server`, from PyPI), a separate process speaking the S3 HTTP API.
docs/FROM_MLPSTORAGE.md says why this server. The workload talks to it through boto3 over real sockets."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import REPO, run_pytest

boto3 = pytest.importorskip("boto3")
MOTO_SERVER = shutil.which("moto_server") or str(Path(sys.executable).with_name("moto_server"))
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "harness-test", "AWS_SECRET_ACCESS_KEY": "harness-test-secret",
               "AWS_DEFAULT_REGION": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory) -> Iterator[str]:
    """A moto S3 server on a free loopback port for this module; stopped (by its pid) at the end."""
    if not Path(MOTO_SERVER).exists():
        pytest.skip("moto_server not installed (pip install 'moto[server]')")
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with open(log, "w") as handle:
        server = subprocess.Popen([MOTO_SERVER, "-H", "127.0.0.1", "-p", str(port)], stdout=handle,
                                  stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(f"moto_server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, request) -> Iterator[object]:
    """A fresh bucket (credentials in the environment, as a user would set them)."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    name = f"ckpt-{request.node.name.lower().replace('_', '-')[:40]}-{os.getpid()}"
    client.create_bucket(Bucket=name)
    yield client, name


def _objects(client, name: str, prefix: str = "") -> dict[str, int]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=name, Prefix=prefix)
    return {item["Key"]: item["Size"] for page in pages for item in page.get("Contents", [])}


def test_workload_writes_and_reads_objects(run_checkpoint_workload, bucket, s3_endpoint: str) -> None:
    client, name = bucket
    run = run_checkpoint_workload("--num-checkpoints-write", "2", "--num-checkpoints-read", "2", "--size-scale",
                                  "0.003", "--storage", "object", "--s3-bucket", name, "--s3-endpoint", s3_endpoint)
    assert run.returncode == 0, run.stderr[-3000:]
    objects = _objects(client, name)
    from mlps_harness.benchmarks.checkpointing.workload.sizing import plan_checkpoint

    plan = plan_checkpoint("llama3-8b", 2, size_scale=0.003)
    expected = {f"llama3-8b/checkpoint_{n}/rank_{s.rank}.{kind}.bin": size for n in (1, 2) for s in plan.shards
                for kind, size in (("model", s.model_bytes), ("optimizer", s.optimizer_bytes)) if size}
    assert objects == expected
    assert max(expected.values()) > 16 * 2 ** 20          # the optimizer shards went up as multipart uploads
    summary = json.loads((run.output_dir / "summary.json").read_text())
    assert summary["metric"]["load_checkpoint_io_mean_GB_per_second"] > 0
    assert not any(run.checkpoint_folder.iterdir())        # nothing landed on the file system


def test_read_only_run_finds_the_written_checkpoint(run_checkpoint_workload, bucket, s3_endpoint: str) -> None:
    client, name = bucket
    common = ("--size-scale", "0.0003", "--storage", "object", "--s3-bucket", name, "--s3-endpoint", s3_endpoint,
              "--s3-prefix", "shared")
    missing = run_checkpoint_workload("--num-checkpoints-write", "0", "--num-checkpoints-read", "1", *common)
    assert missing.returncode == 2 and "no complete checkpoint" in missing.stderr
    assert f"s3://{name}/shared" in missing.stderr
    written = run_checkpoint_workload("--num-checkpoints-write", "1", "--num-checkpoints-read", "0", *common)
    assert written.returncode == 0, written.stderr[-2000:]
    again = run_checkpoint_workload("--num-checkpoints-write", "0", "--num-checkpoints-read", "1", *common)
    assert again.returncode == 0, again.stderr[-2000:]
    assert all(key.startswith("shared/checkpoint_1/") for key in _objects(client, name))


def test_bad_bucket_and_endpoint_are_usage_errors(run_checkpoint_workload, bucket, s3_endpoint: str) -> None:
    no_bucket = run_checkpoint_workload("--storage", "object", "--s3-bucket", "no-such-bucket-here",
                                        "--s3-endpoint", s3_endpoint, "--size-scale", "0.0001")
    assert no_bucket.returncode == 2 and "--s3-bucket" in no_bucket.stderr and "Traceback" not in no_bucket.stderr
    closed_port = _free_port()
    nowhere = run_checkpoint_workload("--storage", "object", "--s3-bucket", bucket[1], "--s3-endpoint",
                                      f"http://127.0.0.1:{closed_port}", "--size-scale", "0.0001")
    assert nowhere.returncode == 2 and "--s3-endpoint" in nowhere.stderr and "Traceback" not in nowhere.stderr


def test_suite_object_mode_runs_audits_and_cleans_up(tmp_path: Path, bucket, s3_endpoint: str) -> None:
    client, name = bucket
    results = tmp_path / "results"
    done = run_pytest(tmp_path, str(REPO / "suites" / "checkpointing"), "--checkpoint-storage=object",
                      f"--checkpoint-s3-bucket={name}", f"--checkpoint-s3-endpoint={s3_endpoint}",
                      f"--results-dir={results}", f"--mlps-json={tmp_path / 'v.json'}", timeout=600)
    verdict = json.loads((tmp_path / "v.json").read_text())
    assert f"in s3://{name}/llama3-8b at {s3_endpoint}" in done.stdout
    assert verdict["verdict"] == "OPEN", done.stdout[-4000:]        # scaled-down checkpoint: OPEN, nothing INVALID
    assert _objects(client, name) == {}                             # the session's checkpoints were removed
    meta = json.loads(next(results.rglob("checkpointing_*_metadata.json")).read_text())
    assert meta["args"]["checkpoint_folder"] == f"s3://{name}/llama3-8b" and meta["args"]["storage"] == "object"
    assert not (results / "llama3-8b").exists()


def test_suite_refuses_object_options_in_file_mode(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, str(REPO / "suites" / "checkpointing"), "--checkpoint-s3-bucket=x", "--what-if")
    assert done.returncode == 4 and "--checkpoint-s3-bucket: only used with --checkpoint-storage object" in done.stderr
    missing = run_pytest(tmp_path, str(REPO / "suites" / "checkpointing"), "--checkpoint-storage=object", "--what-if")
    assert missing.returncode == 4 and "--checkpoint-s3-bucket" in missing.stderr
