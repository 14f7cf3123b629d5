"""mpirun argv building: hosts, slots, mapping, oversubscription, root, exported variables."""
from __future__ import annotations

import os
import subprocess

import pytest

from mlps_harness.launch import (
    LaunchConfigError,
    MpiLaunchSpec,
    build_mpirun_argv,
    explain_failure,
    parse_hosts,
    resolve_host_slots,
    run_process,
)

from .conftest import subprocess_env


def _value_after(argv: list[str], flag: str) -> str:
    assert flag in argv, f"{flag} missing from {argv}"
    return argv[argv.index(flag) + 1]


@pytest.fixture
def as_user(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)


def test_single_host_uses_socket_mapping_and_local_core_count(as_user):
    argv = build_mpirun_argv(MpiLaunchSpec(num_ranks=1), ["python", "-V"])
    assert argv[:3] == ["mpirun", "-n", "1"]
    assert _value_after(argv, "-host") == f"127.0.0.1:{os.cpu_count()}"
    assert _value_after(argv, "--bind-to") == "none"
    assert _value_after(argv, "--map-by") == "socket"
    assert "--oversubscribe" not in argv and "--allow-run-as-root" not in argv
    assert argv[-2:] == ["python", "-V"]
    assert all(isinstance(part, str) for part in argv)


def test_multi_host_splits_ranks_evenly_and_maps_by_node(as_user):
    argv = build_mpirun_argv(MpiLaunchSpec(num_ranks=5, hosts=["node1", "node2"]), ["x"])
    assert _value_after(argv, "-host") == "node1:3,node2:3"
    assert _value_after(argv, "--map-by") == "node"
    assert "--oversubscribe" not in argv


def test_comma_string_hosts_and_explicit_slots(as_user):
    hosts = resolve_host_slots(4, "a:1,b", slots_per_host=2)
    assert [(h.name, h.slots) for h in hosts] == [("a", 1), ("b", 2)]


def test_oversubscribe_only_when_ranks_exceed_slots(as_user):
    over = build_mpirun_argv(MpiLaunchSpec(num_ranks=4, hosts="127.0.0.1:2"), ["x"])
    fits = build_mpirun_argv(MpiLaunchSpec(num_ranks=2, hosts="127.0.0.1:2"), ["x"])
    assert "--oversubscribe" in over
    assert "--oversubscribe" not in fits


def test_run_as_root_flag_follows_euid(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert "--allow-run-as-root" in build_mpirun_argv(MpiLaunchSpec(num_ranks=1), ["x"])
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "--allow-run-as-root" not in build_mpirun_argv(MpiLaunchSpec(num_ranks=1), ["x"])


def test_exports_path_pythonpath_and_requested_variables(monkeypatch, as_user):
    monkeypatch.setenv("PATH", "/usr/bin")
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    monkeypatch.setenv("DLIO_X", "1")
    monkeypatch.delenv("DLIO_UNSET", raising=False)
    argv = build_mpirun_argv(MpiLaunchSpec(num_ranks=2, export_variables=["DLIO_X", "DLIO_UNSET", "PYTHONPATH",
                                                                          "OMP_NUM_THREADS=1"]), ["x"])
    exported = [argv[i + 1] for i, part in enumerate(argv) if part == "-x"]
    assert exported == ["PATH", "PYTHONPATH", "DLIO_X", "OMP_NUM_THREADS=1"]  # unset names are not forwarded


def test_pythonpath_not_exported_when_unset(monkeypatch, as_user):
    monkeypatch.delenv("PYTHONPATH", raising=False)
    argv = build_mpirun_argv(MpiLaunchSpec(num_ranks=1), ["x"])
    assert [argv[i + 1] for i, part in enumerate(argv) if part == "-x"] == ["PATH"]


def test_mpi_params_are_split_and_placed_before_command(as_user):
    argv = build_mpirun_argv(MpiLaunchSpec(num_ranks=1, mpi_params="--mca btl tcp,self"), ["prog", "arg"])
    assert argv[-5:] == ["--mca", "btl", "tcp,self", "prog", "arg"]


@pytest.mark.parametrize("hosts", ["a;rm -rf /", "a b", "a,,b", "", ",", "h:0", "h:x", "$(id)", "a|b",
                                   "a&&b", "a,a", "h`x`", ":3"])
def test_bad_host_names_are_rejected_with_a_clear_message(hosts):
    with pytest.raises(LaunchConfigError, match="--hosts"):
        build_mpirun_argv(MpiLaunchSpec(num_ranks=2, hosts=hosts), ["x"])


def test_bad_export_name_and_rank_count_rejected():
    with pytest.raises(LaunchConfigError, match="environment variable"):
        build_mpirun_argv(MpiLaunchSpec(num_ranks=1, export_variables=["1BAD;"]), ["x"])
    with pytest.raises(LaunchConfigError, match="--num-processes"):
        build_mpirun_argv(MpiLaunchSpec(num_ranks=0), ["x"])


def test_parse_hosts_accepts_ipv6_and_defaults():
    assert parse_hosts(None) == [("127.0.0.1", None)]
    assert parse_hosts("fe80::1,host-2.example:4") == [("fe80::1", None), ("host-2.example", 4)]


def test_built_argv_is_accepted_by_real_mpirun(mpirun_path, tmp_path):
    # 3 ranks on 2 slots: only works because --oversubscribe is added automatically.
    # Each rank writes its own file (ranks' stdout lines may interleave through mpirun).
    script = ("import os, sys; rank = os.environ['OMPI_COMM_WORLD_RANK']; "
              "open(os.path.join(sys.argv[1], 'rank' + rank), 'w').write(os.environ['OMPI_COMM_WORLD_SIZE'])")
    argv = build_mpirun_argv(MpiLaunchSpec(num_ranks=3, hosts="127.0.0.1:2"),
                             ["python3", "-c", script, str(tmp_path)])
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=subprocess_env())
    assert completed.returncode == 0, completed.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rank0", "rank1", "rank2"]
    assert {p.read_text() for p in tmp_path.iterdir()} == {"3"}


def test_real_not_enough_slots_failure_is_explained(mpirun_path, tmp_path):
    argv = build_mpirun_argv(MpiLaunchSpec(num_ranks=3, hosts="127.0.0.1:2", oversubscribe=False),
                             ["true"])
    result = run_process(argv, tmp_path, "training", "run", timeout=60, env=subprocess_env())
    assert result.returncode != 0
    message = explain_failure(result, "training run")
    assert "hint:" in message and "slots" in message
