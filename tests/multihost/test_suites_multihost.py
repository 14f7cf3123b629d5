"""The suites across real (namespace) hosts: training on 2 hosts, checkpointing on 3 with uneven slots, KV cache
on 2; then what the written results say about hosts, memory and leftovers. Also: two hosts with one hostname, and
hosts that cannot be reached (a name that does not resolve, a host whose sshd is stopped) failing fast.

Each suite runs as a real `pytest suites/<name>` subprocess launching real mpirun over ssh into the namespaces;
sizes are the embedded defaults with one loop, so the module costs about two minutes.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mlps_harness.cluster.collect import STDOUT_MARKER, total_memory_bytes

from . import netns_hosts as nh

pytestmark = [pytest.mark.multihost, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
STAGE_TESTS = ("test_datagen", "test_run", "test_plan", "test_trial", "test_summary")


@pytest.fixture(scope="module")
def cluster(openmpi):
    reason = nh.check_available()
    if reason:
        pytest.skip(f"netns hosts unavailable: {reason}")
    with nh.netns_cluster(3) as built:
        yield built


def mpi_params(cluster: nh.NetnsCluster) -> str:
    """Only what these hosts need: mpirun's agent (their ssh config) and the bridge subnet for MPI traffic."""
    return shlex.join(["--mca", "plm_rsh_agent", cluster.rsh_agent,
                       "--mca", "oob_tcp_if_include", str(cluster.subnet),
                       "--mca", "btl_tcp_if_include", str(cluster.subnet)])


def run_suite(cluster, suite: str, hosts: str, tmp: Path, *extra: str, timeout: float = 600):
    junit = tmp / f"{suite}.xml"
    argv = [sys.executable, "-m", "pytest", f"suites/{suite}", "-p", "no:cacheprovider", "-q", "-rN",
            f"--hosts={hosts}", f"--mpi-params={mpi_params(cluster)}", f"--results-dir={tmp / 'results'}",
            f"--data-dir={tmp / 'data'}", f"--junitxml={junit}", *extra]
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    return proc, junit, time.monotonic() - started


def stage_failures(junit: Path) -> list[str]:
    """Stage tests (launches) that failed or errored; rule tests may be INVALID (embedded sizes are tiny)."""
    bad = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        if problem is not None and (case.get("name", "").startswith(STAGE_TESTS) or problem.tag == "error"):
            bad.append(f"{case.get('name')}: {problem.get('message', '')[:500]}")
    return bad


def metadata_files(root: Path, benchmark: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((root / benchmark).rglob("*_metadata.json"))]


def assert_nothing_left(cluster) -> None:
    deadline = time.monotonic() + 15
    left = {}
    while time.monotonic() < deadline:
        left = {h.name: cluster.processes_left(h) for h in cluster.hosts}
        if not any(left.values()):
            return
        time.sleep(0.2)
    raise AssertionError(f"processes left on the hosts: {left}")


def local_memory() -> int:
    import psutil

    return psutil.virtual_memory().total


def test_training_on_two_hosts(cluster, tmp_path):
    h1, h2, _ = cluster.hosts
    proc, junit, _ = run_suite(cluster, "training", f"{h1.address},{h2.address}", tmp_path, "--loops", "1")
    assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
    assert stage_failures(junit) == [], proc.stdout[-3000:]
    assert "PYTHONPATH" not in proc.stdout + proc.stderr  # no -x warning for an unset variable
    runs = [m for m in metadata_files(tmp_path / "results", "training") if m["args"]["command"] == "run"]
    assert len(runs) == 2  # warm-up + 1 loop
    for meta in runs:
        info = meta["cluster_information"]
        assert info["source"] == "mpi" and info["warnings"] == []
        assert sorted(h["hostname"] for h in info["hosts"]) == ["h1", "h2"]
        # the datasize the suite used is the collected figure: every host's memory
        assert meta["datasize"]["total_memory_bytes"] == total_memory_bytes(info) == 2 * local_memory()
        assert meta["args"]["num_client_hosts"] == 2
    # ... and so is the figure the audit's dataset-size rule computed (its finding names the source)
    size_rule = [c for c in ET.parse(junit).getroot().iter("testcase") if "3.1.2-dataset-size" in c.get("name", "")]
    assert size_rule and all("collected over mpi (2 host(s))" in ET.tostring(c, encoding="unicode")
                             for c in size_rule)
    run_dirs = {p.parent for p in (tmp_path / "results" / "training" / "unet3d" / "run").rglob("summary.json")}
    assert len(run_dirs) == 2
    for run_dir in run_dirs:
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["num_hosts"] == 2  # DLIO's own count agrees with the collected one
        per_rank = [json.loads(p.read_text()) for p in run_dir.glob("*_output.json")]
        assert sorted(r["hostname"] for r in per_rank) == ["h1", "h2"]
    assert_nothing_left(cluster)


def test_checkpointing_on_three_hosts_with_uneven_slots(cluster, tmp_path):
    h1, h2, h3 = cluster.hosts
    hosts = f"{h1.address}:2,{h2.address}:1,{h3.address}:1"
    proc, junit, _ = run_suite(cluster, "checkpointing", hosts, tmp_path, "--num-processes", "4",
                               f"--checkpoint-folder={tmp_path / 'ckpt'}")
    assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
    assert stage_failures(junit) == [], proc.stdout[-3000:]
    (meta,) = metadata_files(tmp_path / "results", "checkpointing")
    info = meta["cluster_information"]
    assert info["source"] == "mpi" and info["num_ranks"] == 4
    by_host = {h["hostname"]: len(h["ranks"]) for h in info["hosts"]}
    assert sorted(by_host) == ["h1", "h2", "h3"] and sum(by_host.values()) == 4 and max(by_host.values()) == 2
    run_dir = next((tmp_path / "results" / "checkpointing").rglob("summary.json")).parent
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["num_hosts"] == len(info["hosts"]) == 3
    per_rank = sorted(json.loads(p.read_text())["hostname"] for p in run_dir.glob("*_output.json"))
    assert sorted(set(per_rank)) == ["h1", "h2", "h3"] and len(per_rank) == 4
    assert_nothing_left(cluster)


def test_kv_cache_on_two_hosts(cluster, tmp_path):
    h1, _, h3 = cluster.hosts
    proc, junit, _ = run_suite(cluster, "kv_cache", f"{h1.address},{h3.address}", tmp_path, "--num-processes", "2",
                               "--kv-options=1", "--kv-duration=3", "--kv-delay-between-options=0")
    assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
    assert stage_failures(junit) == [], proc.stdout[-3000:]
    (meta,) = metadata_files(tmp_path / "results", "kv_cache")
    assert sorted(h["hostname"] for h in meta["cluster_information"]["hosts"]) == ["h1", "h3"]
    rank_files = list((tmp_path / "results" / "kv_cache").rglob("rank_*/kvcache_results.json"))
    assert rank_files
    hostnames = {json.loads(p.read_text())["hostname"] for p in rank_files}
    assert hostnames == {"h1", "h3"}
    assert_nothing_left(cluster)


def test_same_hostname_hosts_are_counted_apart_with_a_warning(openmpi, netns_cluster_factory, tmp_path):
    twins = netns_cluster_factory(hostnames=["twin", "twin"])
    hosts = ",".join(f"{h.address}:1" for h in twins.hosts)
    argv = ["mpirun", *twins.mpi_params, "-n", "2", "-H", hosts, "-x", "PATH",
            sys.executable, "-m", "mlps_harness.cluster", "--data-dir", str(tmp_path), "--results-dir", str(tmp_path)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith(STDOUT_MARKER))
    doc = json.loads(line[len(STDOUT_MARKER):])
    assert [h["hostname"] for h in doc["hosts"]] == ["twin", "twin"]  # two nodes, not one
    assert total_memory_bytes(doc) == 2 * local_memory()
    assert any("same hostname 'twin'" in w for w in doc["warnings"]), doc["warnings"]
    assert "same hostname 'twin'" in proc.stderr
    assert_nothing_left(twins)


@pytest.mark.parametrize("bad", ["stopped", "blackholed", "no-such-host.invalid"])
def test_unreachable_host_is_a_usage_error_in_seconds(cluster, tmp_path, bad):
    h1, h2, h3 = cluster.hosts
    expected = {"stopped": "refused the connection", "blackholed": "did not answer"}.get(bad, "does not resolve")
    if bad == "stopped":
        cluster.stop_sshd(h3)
        bad = h3.address
    elif bad == "blackholed":  # h2 never answers: its replies to the launcher are dropped, as with a dead node
        subprocess.run(["ip", "-n", h2.netns, "route", "add", "blackhole", f"{cluster.bridge_address}/32"], check=True)
        bad = h2.address
    proc, _, elapsed = run_suite(cluster, "training", f"{h1.address},{bad}", tmp_path, "--loops", "1", timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4, out[-3000:]  # pytest's usage-error exit code
    assert bad in out and "cannot be reached by mpirun" in out, out[-3000:]
    assert expected in out, out[-3000:]
    assert elapsed < 30, elapsed
    assert not (tmp_path / "results" / "training").exists()  # nothing was launched
    assert_nothing_left(cluster)
