"""Request sources beyond the synthetic users: a ShareGPT JSON file, a BurstGPT-format trace, a fixed request
rate and a --config YAML file; every one with a file the test writes (nothing is downloaded)."""
from __future__ import annotations

import json
import math

import pytest
from kv_cache import parse_config
from kv_cache.errors import BenchmarkUsageError
from kv_cache.sources import estimate_tokens, load_burst_trace, load_sharegpt

from .helpers import run_json, run_script

SMALL = ["--model", "tiny-1b", "--num-users", "2", "--generation-mode", "none", "--seed", "7",
         "--gpu-mem-gb", "0", "--cpu-mem-gb", "0", "--disable-prefix-caching"]


def _sharegpt(path, conversations: int = 3):
    entries = [{"id": f"c{n}", "conversations": [
        {"from": "human", "value": "q" * (400 * (n + 1))}, {"from": "gpt", "value": "a" * 200},
        {"from": "human", "value": "again " * 20}, {"from": "gpt", "value": "b" * 80}]}
        for n in range(conversations)]
    entries.append({"id": "empty", "conversations": [{"from": "system", "value": "only a system line"}]})
    path.write_text(json.dumps(entries))
    return path


def _trace(path, rows: int = 4):
    lines = ["Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type"]
    lines += [f"{10 + 0.2 * n},ChatGPT,{300 + 100 * n},{20 + n},0,Conversation log" for n in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_sharegpt_turns_carry_the_conversation_history(tmp_path):
    conversations = load_sharegpt(_sharegpt(tmp_path / "sg.json"), max_conversations=2)
    assert len(conversations) == 2
    first = conversations[0]
    assert first[0].context_tokens == estimate_tokens("q" * 400) == 100
    assert first[0].generation_tokens == 50
    assert first[1].context_tokens == 100 + 50 + estimate_tokens("again " * 20)
    assert conversations[1][0].context_tokens == 200


def test_sharegpt_run_replays_the_file(tmp_path):
    data = _sharegpt(tmp_path / "sg.json")
    result = run_json(tmp_path, [*SMALL, "--duration", "3", "--cache-dir", str(tmp_path),
                                 "--dataset-path", str(data), "--max-conversations", "2"])
    source = result["run_info"]["request_source"]
    assert source["kind"] == "sharegpt" and source["conversations"] == 2
    assert result["requests_completed"] > 0
    assert result["multi_turn_cache_hits"] + result["multi_turn_cache_misses"] > 0  # second turns re-read the first


@pytest.mark.parametrize("content,problem", [
    ("{not json", "not valid UTF-8 JSON"),
    ('{"conversations": []}', "expected a list"),
    ('[{"conversations": [{"from": "gpt", "value": "x"}]}]', "no conversation"),
])
def test_bad_sharegpt_file_is_a_usage_error(tmp_path, content, problem):
    path = tmp_path / "bad.json"
    path.write_text(content)
    proc = run_script(["--dataset-path", str(path), "--cache-dir", str(tmp_path)], timeout=30)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--dataset-path" in proc.stderr and problem in proc.stderr and str(path) in proc.stderr


def test_trace_rows_start_at_zero_and_keep_their_sizes(tmp_path):
    rows = load_burst_trace(_trace(tmp_path / "t.csv"))
    assert [round(t, 3) for t, _ in rows] == [0.0, 0.2, 0.4, 0.6]
    assert [turn.context_tokens for _, turn in rows] == [300, 400, 500, 600]


def test_trace_replay_cycles_and_speedup(tmp_path):
    trace = _trace(tmp_path / "t.csv", rows=3)
    result = run_json(tmp_path, [*SMALL, "--duration", "4", "--cache-dir", str(tmp_path), "--use-burst-trace",
                                 "--burst-trace-path", str(trace), "--trace-speedup", "4", "--replay-cycles", "2"])
    assert result["run_info"]["request_source"]["kind"] == "burst_trace"
    assert result["requests_completed"] == 6     # 3 rows x 2 cycles, all due within 0.5 s


@pytest.mark.parametrize("content,problem", [
    ("a,b\n1,2\n", "lacks the column"),
    ("Timestamp,Request tokens,Response tokens\nx,1,2\n", "line 2"),
    ("Timestamp,Request tokens,Response tokens\n", "no data rows"),
])
def test_bad_trace_is_a_usage_error(tmp_path, content, problem):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    proc = run_script(["--use-burst-trace", "--burst-trace-path", str(path), "--cache-dir", str(tmp_path)],
                      timeout=30)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and problem in proc.stderr


def test_request_rate_paces_arrivals(tmp_path):
    result = run_json(tmp_path, [*SMALL, "--duration", "60", "--cache-dir", str(tmp_path), "--request-rate", "50",
                                 "--max-requests", "5"])
    assert result["requests_completed"] >= 5 and result["run_info"]["exit_reason"] == "max_requests"
    assert result["run_info"]["request_source"]["request_rate"] == 50


def test_config_yaml_sets_defaults_and_the_command_line_wins(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("num-users: 3\nduration: 7\ndisable_prefix_caching: true\nmodel: tiny-1b\n")
    parsed = parse_config(["--config", str(config), "--duration", "2"])
    assert parsed.num_users == 3 and parsed.duration == 2 and parsed.prefix_caching is False
    assert parsed.config_file == config and parsed.model == "tiny-1b"


@pytest.mark.parametrize("content,problem", [
    ("num-userz: 3\n", "unknown key"),
    ("- 1\n", "expected a mapping"),
    ("num-users: [1, 2]\n", "single value"),
    ("disable-multi-turn: 3\n", "true or false"),
    ("num-users: lots\n", "expected an integer"),
])
def test_bad_config_yaml(tmp_path, content, problem):
    config = tmp_path / "c.yaml"
    config.write_text(content)
    with pytest.raises(BenchmarkUsageError) as caught:
        parse_config(["--config", str(config)])
    assert problem in str(caught.value)


def test_trace_gap_model_is_finite(tmp_path):
    rows = load_burst_trace(_trace(tmp_path / "t.csv", rows=1))
    assert rows == [(0.0, rows[0][1])] and math.isfinite(rows[0][0])
