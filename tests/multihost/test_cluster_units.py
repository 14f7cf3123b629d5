"""Host identity, the stdout document, host-count warnings, the host check and the submission layout, without
namespaces (these run everywhere)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from mlps_harness.cluster.collect import (
    STDOUT_MARKER,
    host_count_warning,
    merge_host_reports,
    node_key,
    shared_hostname_warnings,
)
from mlps_harness.launch.hostcheck import check_hosts, local_addresses, rsh_agent
from mlps_harness.suite.cluster import document_from_stdout, summary_host_count_warning
from mlps_harness.suite.submission import split_run_root, system_skeleton, write_system_skeleton

REPO = Path(__file__).resolve().parents[2]


def test_nodes_not_hostnames_make_hosts():
    reports = [(0, {"hostname": "c", "node": "mpi-shm:0"}), (1, {"hostname": "c", "node": "mpi-shm:1"}),
               (2, {"hostname": "c", "node": "mpi-shm:0"})]
    hosts = merge_host_reports(reports)
    assert [(h["hostname"], h["ranks"]) for h in hosts] == [("c", [0, 2]), ("c", [1])]
    (warning,) = shared_hostname_warnings(hosts)
    assert "'c'" in warning and "0,2; 1" in warning
    assert shared_hostname_warnings([{"hostname": "a"}, {"hostname": "b"}]) == []


def test_node_key_falls_back_to_boot_id_then_hostname():
    assert node_key({"hostname": "a", "boot_id": "X"}) == "boot:X:a"
    assert node_key({"hostname": "a"}) == "hostname:a"
    assert node_key({"hostname": "a", "boot_id": "X", "node": "mpi-shm:4"}) == "mpi-shm:4"


def test_host_count_warning_only_for_collected_mismatch():
    doc = {"source": "mpi", "hosts": [{"hostname": "a"}]}
    assert "1 host(s) collected" in host_count_warning(doc, 2, "--hosts")
    assert host_count_warning(doc, 1, "--hosts") is None
    assert host_count_warning({"source": "declared", "hosts": []}, 2, "--hosts") is None


def test_document_from_stdout_takes_the_marked_line():
    doc = {"source": "mpi", "hosts": [{"hostname": "h"}]}
    text = f"noise\n[1,0]<stdout>:{STDOUT_MARKER}{json.dumps(doc)}\nmore noise\n"
    assert document_from_stdout(text) == doc
    assert document_from_stdout("nothing here") is None
    assert document_from_stdout(STDOUT_MARKER + "{broken") is None


def test_summary_host_count_warning(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps({"num_hosts": 1}))
    doc = {"source": "mpi", "hosts": [{"hostname": "a"}, {"hostname": "b"}]}
    assert "num_hosts" in summary_host_count_warning(tmp_path, doc)
    (tmp_path / "summary.json").write_text(json.dumps({"num_hosts": 2}))
    assert summary_host_count_warning(tmp_path, doc) is None


def test_rsh_agent_from_params_then_environment():
    assert rsh_agent(["--mca", "plm_rsh_agent", "ssh -F /c"], {}) == ["ssh", "-F", "/c"]
    assert rsh_agent([], {"OMPI_MCA_plm_rsh_agent": "rsh"}) == ["rsh"]
    assert rsh_agent([], {}) == ["ssh"]
    assert rsh_agent(["--mca", "plm_rsh_agent", "ssh : rsh"], {}) == ["ssh"]


def test_local_hosts_are_not_probed():
    assert "127.0.0.1" in local_addresses()
    assert check_hosts(["127.0.0.1", "localhost"], environ={"OMPI_MCA_plm_rsh_agent": "false"}) == []


def test_host_check_names_a_failing_host_quickly(tmp_path):
    agent = tmp_path / "agent"
    agent.write_text("#!/bin/sh\necho 'ssh: connect to host $1 port 22: Connection refused' >&2\nexit 255\n")
    agent.chmod(0o755)
    hanging = tmp_path / "hang"
    hanging.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'import time; time.sleep(60)'\n")
    hanging.chmod(0o755)
    (problem,) = check_hosts(["far.invalid"], ["--mca", "plm_rsh_agent", str(agent)])
    assert problem.host == "far.invalid" and "refused the connection" in problem.problem
    started = time.monotonic()
    (problem,) = check_hosts(["far.invalid"], ["--mca", "plm_rsh_agent", str(hanging)], timeout=1.5)
    assert "did not answer" in problem.problem and time.monotonic() - started < 5


def test_submission_run_root_and_skeleton(tmp_path):
    root = tmp_path / "r" / "closed" / "Acme" / "results" / "sys1"
    assert split_run_root(root) == (tmp_path / "r", ("closed", "Acme", "sys1"))
    assert split_run_root(tmp_path / "plain") == (tmp_path / "plain", None)
    cluster = {"source": "mpi", "hosts": [{"hostname": "a", "memory_total_bytes": 2 * 1024 ** 3, "cpu_count": 4,
                                           "cpu_model": "X", "filesystems": {"data_dir": {"fstype": "nfs"}}},
                                          {"hostname": "b", "memory_total_bytes": 2 * 1024 ** 3, "cpu_count": 4,
                                           "cpu_model": "X", "filesystems": {}}]}
    path = write_system_skeleton(root, cluster)
    assert path == tmp_path / "r" / "closed" / "Acme" / "systems" / "sys1.yaml"
    data = yaml.safe_load(path.read_text())
    assert data == system_skeleton(cluster, "sys1")
    assert data["system_under_test"]["clients"]["count"] == 2
    assert data["system_under_test"]["clients"]["memory_per_client_GiB"] == 2.0
    path.write_text("mine: true\n")  # a submitter's own description is never overwritten
    write_system_skeleton(root, cluster)
    assert path.read_text() == "mine: true\n"
    assert write_system_skeleton(tmp_path / "plain", cluster) is None


@pytest.mark.parametrize(("args", "named"), [(["--org=Acme"], "--system"), (["--system=s"], "--org"),
                                             (["--org=a/b", "--system=s"], "--org")])
def test_org_and_system_usage_errors(args, named, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pytest", "suites/training", "-p", "no:cacheprovider", "--what-if",
                           f"--results-dir={tmp_path}", *args], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert named in proc.stderr and "Traceback" not in proc.stderr
