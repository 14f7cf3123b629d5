"""Bad input: exit code 2, a message naming the option, never a traceback."""
from __future__ import annotations

import os

import pytest
from kv_cache.tiers import FAULT_ENV_ENOSPC_AFTER_BYTES

from .helpers import TINY_RUN, run_script

BAD_ARGS = [
    (["--model", "gpt-17"], "--model"),
    (["--cpu-mem-gb", "-1"], "--cpu-mem-gb"),
    (["--gpu-mem-gb", "1e12"], "--gpu-mem-gb"),
    (["--storage-capacity-gb", "nan"], "--storage-capacity-gb"),
    (["--num-users", "0"], "--num-users"),
    (["--num-users", "many"], "--num-users"),
    (["--duration", "-5"], "--duration"),
    (["--max-concurrent-allocs", "-2"], "--max-concurrent-allocs"),
    (["--tensor-parallel", "4", "--num-gpus", "1"], "--tensor-parallel"),
    (["--prefill-only", "--decode-only"], "--prefill-only"),
    (["--enable-rag"], "--enable-rag"),
    (["--use-burst-trace"], "--burst-trace-path"),          # the default trace file is not here
    (["--dataset-path", "sharegpt.json"], "--dataset-path"),  # no such file
    (["--rag-num-docs", "3"], "--rag-num-docs"),
    (["--autoscaler-mode", "qos"], "--autoscaler-mode"),
    (["--target-saturation", "0.5"], "--target-saturation"),
    (["--max-conversations", "3"], "--max-conversations"),
    (["--burst-trace-path", "t.csv"], "--burst-trace-path"),
    (["--trace-speedup", "2"], "--trace-speedup"),
    (["--replay-cycles", "1"], "--replay-cycles"),
    (["--request-rate", "-1"], "--request-rate"),
    (["--config", "missing.yaml"], "--config"),
    (["--xlsx-output", "x.xlsx"], "--xlsx-output"),
    (["--enable-autoscaling"], "--enable-autoscaling"),
    (["--cache-dir", "/proc"], "--cache-dir"),
    (["--output", "/nonexistent_dir_kv/out.json"], "--output"),
]


def _assert_clean_usage_error(proc, option: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert option in proc.stderr
    assert "fix" in proc.stderr.lower()


@pytest.mark.parametrize("args,option", BAD_ARGS, ids=[" ".join(a) for a, _ in BAD_ARGS])
def test_bad_argument_exits_2_with_message(args, option):
    _assert_clean_usage_error(run_script(args, timeout=30), option)


def test_missing_cache_dir_is_created_with_a_line_saying_so(tmp_path):
    missing = tmp_path / "does" / "not" / "exist"
    proc = run_script(["--cache-dir", str(missing), "--output", str(tmp_path / "o.json"), *TINY_RUN,
                       "--duration", "1", "--gpu-mem-gb", "0", "--cpu-mem-gb", "0"], timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert missing.is_dir() and f"created --cache-dir {missing}" in proc.stderr


def test_cache_dir_that_cannot_be_created(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run_script(["--cache-dir", str(blocker / "sub")], timeout=30)
    _assert_clean_usage_error(proc, "--cache-dir")
    assert "cannot be created" in proc.stderr


def test_cache_dir_that_is_a_file(tmp_path):
    target = tmp_path / "plain_file"
    target.write_text("x")
    proc = run_script(["--cache-dir", str(target)], timeout=30)
    _assert_clean_usage_error(proc, "--cache-dir")
    assert "not a directory" in proc.stderr


def test_storage_capacity_above_free_space(tmp_path):
    proc = run_script(["--cache-dir", str(tmp_path), "--storage-capacity-gb", "1000000"],
                      timeout=30)
    _assert_clean_usage_error(proc, "--storage-capacity-gb")


def test_cache_dir_filling_up_mid_run_stops_cleanly_and_removes_files(tmp_path):
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    (cache_dir / "unrelated.txt").write_text("keep me")
    out = tmp_path / "out.json"
    proc = run_script([*TINY_RUN, "--gpu-mem-gb", "0", "--cpu-mem-gb", "0", "--duration", "20",
                       "--cache-dir", str(cache_dir), "--output", str(out)], timeout=60,
                      env_extra={FAULT_ENV_ENOSPC_AFTER_BYTES: str(40 * 2**20)})
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "full" in proc.stderr and "removed" in proc.stderr
    assert sorted(os.listdir(cache_dir)) == ["unrelated.txt"]
    assert not out.exists()


def test_sigterm_stops_the_run_and_removes_block_files(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from .helpers import SCRIPT
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    proc = subprocess.Popen([sys.executable, str(SCRIPT), *TINY_RUN, "--gpu-mem-gb", "0",
                             "--cpu-mem-gb", "0", "--duration", "60", "--cache-dir",
                             str(cache_dir), "--output", str(tmp_path / "out.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 15
    while not any(p.suffix == ".npy" for p in cache_dir.iterdir()):
        assert time.monotonic() < deadline and proc.poll() is None, "no block file appeared"
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert os.listdir(cache_dir) == []
