"""The audit on real v3.0 files (tests/data/v3, see tests/data/README.md): a published CLOSED training run and a
published split checkpointing pair come out CLOSED with the review's warnings; the v3.0 file kinds are read
(fs_separation.json, hydra.yaml, overrides-only counts, `.mlps-code-image`, systems YAML); the division of a tree
under closed/ decides the exit code when --division is not given."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from mlps_harness.loader import ResultsIndex
from mlps_harness.model import Run
from mlps_harness.rules import all_rules, evaluate
from mlps_harness.rules.submission_tree import system_schema_problems
from tests.helpers import REPO, run_pytest

V3 = REPO / "tests" / "data" / "v3"
ALLUXIO = "closed/Alluxio/results/aws_c5n18xlarge_i3en24xlarge_8c_10s_8a/training/unet3d"
ALLUXIO_RUN = f"{ALLUXIO}/run/20260704_050040"
NEWFW = "closed/NewFW/results/Solidigm_D5-P5336_61TB_Gen4_NVMe_QLC/checkpointing/llama3-8b"
INSPUR = V3 / "closed/InspurData/systems/InspurData_InDataOS_AS13000G7_KH-50000_10clients.yaml"


def _results(root: Path, target: str, scope: str) -> dict[str, object]:
    index = ResultsIndex(root)
    obj = index.group(target) if scope == "group" else index.run(target)
    benchmark = obj.benchmark if scope == "group" else obj.ref.benchmark
    command = None if scope == "group" else obj.ref.command
    out = {}
    for entry in all_rules():
        if entry.scope != scope or entry.benchmark not in ("*", benchmark):
            continue
        if scope == "run" and not entry.applies(benchmark, command):
            continue
        out[entry.name] = evaluate(entry, obj, obj.rules_version)
    return out


def _division(res) -> str:
    return res.division.value if res.applicable else "N/A"


def test_published_training_run_is_closed_with_values_read_from_v3_files() -> None:
    results = _results(V3, ALLUXIO_RUN, "run")
    bad = {name: [f.message for f in r.problems()] for name, r in results.items() if r.applicable and r.problems()}
    assert bad == {}
    run = ResultsIndex(V3).run(ALLUXIO_RUN)
    assert run.rules_version == "v3.0" and run.accelerator == "b200"
    fs = results["3.4.2-separate-filesystems"]
    assert _division(fs) == "CLOSED" and fs.findings[0].file.endswith("fs_separation.json")
    size = results["3.1.2-dataset-size"]
    assert "system_info.total_memory_bytes" in size.findings[0].message


def test_accelerator_and_file_count_from_hydra_and_summary(tmp_path: Path) -> None:
    """With the metadata and config.yaml gone, the accelerator comes from hydra.yaml (`workload=unet3d_b200`) and
    num_files_train from the overrides, then from summary.json; each finding names the file."""
    tree = tmp_path / "t"
    shutil.copytree(V3, tree)
    run_dir = tree / ALLUXIO_RUN
    (run_dir / "training_20260704_050040_metadata.json").unlink()
    (run_dir / "dlio_config" / "config.yaml").unlink()
    (run_dir / "dlio_config" / "overrides.yaml").unlink()
    run = ResultsIndex(tree, "v3.0").run(ALLUXIO_RUN)
    assert run.accelerator == "b200" and run.documents["accelerator_source"] == "dlio_config/hydra.yaml"
    from mlps_harness.benchmarks.training.documents import recorded_num_files

    assert recorded_num_files(run) == (55500, "summary.json")


def test_published_split_checkpointing_pair_is_closed_with_the_reviews_warnings() -> None:
    group = _results(V3, NEWFW, "group")
    runs = [_results(V3, f"{NEWFW}/{leaf}", "run") for leaf in ("20260713_104840", "20260713_105538")]
    problems = {n: [f.message for f in r.problems()] for res in [group, *runs] for n, r in res.items()
                if r.applicable and r.problems()}
    assert problems == {}
    structure = group["4.7.1-invocation-structure"]
    assert "write then read, 23." in structure.findings[0].message      # 10:55:20 -> 10:55:43
    assert _division(group["H4.10-checkpoint-totals"]) == "CLOSED"       # counts read from the split invocations
    warned = {n for res in [group, *runs] for n, r in res.items() if r.applicable and r.warnings()}
    assert {"4.3.1-clear-cache", "4.7.4-simultaneous-rw-support"} <= warned
    assert _division(runs[0]["4.4.2-separate-filesystems"]) == "CLOSED"
    assert _division(runs[0]["H6.1-documents-parse"]) == "CLOSED"      # "params": "" is no entries


def test_code_image_pointer(tmp_path: Path) -> None:
    res = _results(V3, ALLUXIO, "group")["H8.3-code-image-pointer"]
    assert _division(res) == "CLOSED" and "Alluxio/code-5d45230a" in res.findings[0].message
    tree = tmp_path / "t"
    shutil.copytree(V3, tree)
    shutil.rmtree(tree / "Alluxio")
    res = _results(tree, ALLUXIO, "group")["H8.3-code-image-pointer"]
    assert _division(res) == "INVALID" and res.problems()[0].parameter == ".mlps-code-image"
    assert _division(_results(V3, NEWFW, "group")["H8.3-code-image-pointer"]) == "N/A"


def test_system_schema_on_published_yamls() -> None:
    for path in (V3 / "closed/NewFW/systems/Solidigm_D5-P5336_61TB_Gen4_NVMe_QLC.yaml",
                 V3 / "closed/Alluxio/systems/aws_c5n18xlarge_i3en24xlarge_8c_10s_8a.yaml", INSPUR):
        assert system_schema_problems(yaml.safe_load(path.read_text())) == [], path.name


@pytest.mark.parametrize("edit, field", [
    (lambda s: s.pop("product_nodes"), "product_nodes"),                       # the YanRongTech / TuringData error
    (lambda s: s.update(total_rack_units=7), "total_rack_units"),              # 3 x 2 RU = 6
    (lambda s: s["product_nodes"][0]["chassis"].update(cpu_model=None), "product_nodes[0].chassis.cpu_model"),
    (lambda s: s["solution"].pop("usable_capacity_tib"), "solution.usable_capacity_tib"),
    (lambda s: s["solution"].update(availability="soon"), "solution.availability"),
    (lambda s: s["product_nodes"][0]["chassis"]["power"].pop("psus_configured"),
     "product_nodes[0].chassis.power.psus_configured"),
])
def test_system_schema_names_each_field(edit, field: str) -> None:
    data = yaml.safe_load(INSPUR.read_text())
    edit(data["system_under_test"])
    assert [p[0] for p in system_schema_problems(data)] == [field]


def test_system_schema_rule_and_pdf_pairing(tmp_path: Path) -> None:
    res = _results(V3, NEWFW, "group")["2.1.7-system-schema"]
    assert _division(res) == "CLOSED"
    tree = tmp_path / "t"
    shutil.copytree(V3, tree)
    (tree / "closed/NewFW/systems/AIStore_Disclosure.pdf").write_bytes(b"%PDF-1.4\n")
    res = _results(tree, NEWFW, "group")["2.1.7-system-schema"]
    assert _division(res) == "INVALID" and "AIStore_Disclosure.yaml" in res.problems()[0].expected


def _open_copy(tmp_path: Path, division: str) -> Path:
    """The NewFW pair copied under `division/`, its read invocation reading 5 checkpoints (an OPEN count in v3.0)."""
    tree = tmp_path / division
    shutil.copytree(V3 / "closed" / "NewFW", tree / division / "NewFW")
    read = tree / division / "NewFW" / NEWFW.split("/", 2)[2] / "20260713_105538"
    config = read / "dlio_config" / "config.yaml"
    config.write_text(config.read_text().replace("num_checkpoints_read: 10", "num_checkpoints_read: 5"))
    return tree


def test_division_taken_from_the_closed_dir_decides_the_exit_code(tmp_path: Path) -> None:
    """No --division: an OPEN finding fails under closed/ (the `declared or division_dir` choice in cases.py) and
    passes under open/. Real subprocesses, the CI gate's own command."""
    closed_tree, open_tree = _open_copy(tmp_path, "closed"), _open_copy(tmp_path, "open")
    closed_run = run_pytest(REPO, "compliance", f"--results-dir={closed_tree}", "-q", "-k", "H4.10")
    assert closed_run.returncode == 1, closed_run.stdout[-2000:]
    assert "verdict: OPEN" in closed_run.stdout and "1 failed" in closed_run.stdout
    open_run = run_pytest(REPO, "compliance", f"--results-dir={open_tree}", "-q", "-k", "H4.10")
    assert open_run.returncode == 0, open_run.stdout[-2000:]
    assert "MLPerf Storage verdict: OPEN" in open_run.stdout


def test_pruned_placeholder_is_a_warning_not_a_loss(tmp_path: Path) -> None:
    """The review replaced oversized DLIO outputs by 16-byte `PRUNED BY STAFF` placeholders: present but pruned."""
    tree = tmp_path / "t"
    shutil.copytree(V3, tree)
    output = tree / ALLUXIO_RUN / "0_output.json"
    output.write_bytes(b"PRUNED BY STAFF\n")
    res = _results(tree, ALLUXIO_RUN, "run")["H6.3-required-files"]
    assert _division(res) == "CLOSED" and "pruned" in res.warnings()[0].message
    assert res.warnings()[0].actual == "0_output.json"
    output.write_bytes(b"PRUNED BY STAFF\n" + b" " * 100)          # not a placeholder: an ordinary (odd) file
    assert not _results(tree, ALLUXIO_RUN, "run")["H6.3-required-files"].warnings()
    output.unlink()                                                  # lost, not pruned
    assert _division(_results(tree, ALLUXIO_RUN, "run")["H6.3-required-files"]) == "INVALID"


SAMSUNG = "closed/SAMSUNG/results/MEMORY_AE/checkpointing/llama3-8b"


def test_published_combined_checkpoint_run_without_a_drop_is_invalid_by_choice() -> None:
    """SAMSUNG MEMORY_AE llama3-8b: one invocation writes and reads 104.7 GiB on a 377 GiB host with nothing
    recorded between; published CLOSED with the round's 4.3.1 advisory. Rules.md says the cache needs clearing, so
    we rate it INVALID (docs/V3_ROUND.md); the v2.0 checker agrees here (377 GiB > 3 x 104.7 GiB)."""
    run = f"{SAMSUNG}/20260721_000424"
    res = _results(V3, run, "run")["4.3.1-clear-cache"]
    assert _division(res) == "INVALID" and "104.7 GiB of checkpoint data per node" in res.problems()[0].message
    index = ResultsIndex(V3, "v2.0")
    from mlps_harness.testing import find_rule

    assert _division(evaluate(find_rule("4.3.1-clear-cache"), index.run(run), "v2.0")) == "INVALID"
    group = _results(V3, SAMSUNG, "group")                       # counts read from overrides.yaml alone
    assert _division(group["H4.10-checkpoint-totals"]) == "CLOSED"
    assert _division(group["4.7.1-invocation-structure"]) == "CLOSED"


def test_memory_from_collector_staging_cluster_info(tmp_path: Path) -> None:
    """With no metadata memory and no host_memory_GB, client memory comes from collector-staging/cluster_info.json
    (hand-built here in the collector's shape: one key per host, meminfo.MemTotal in kB)."""
    from mlps_harness.rules.evidence import cluster_memory

    run = _run_with_cluster_info(tmp_path, {"cve-ThinkSystem-SR665-V3": {
        "hostname": "cve-ThinkSystem-SR665-V3", "meminfo": {"MemTotal": 395563184}}})
    assert cluster_memory(run) == (395563184 * 1024, "collector-staging/cluster_info.json meminfo.MemTotal (1 host(s))")


def _run_with_cluster_info(tmp_path: Path, cluster_info: dict) -> Run:
    """A NewFW v3.0 run with no metadata memory and no host_memory_GB, carrying this collector-staging document."""
    tree = tmp_path / "t"
    shutil.copytree(V3 / "closed" / "NewFW", tree / "closed" / "NewFW")
    run_dir = tree / NEWFW / "20260713_104840"
    (run_dir / "checkpointing_20260713_104840_metadata.json").unlink()
    summary = json.loads((run_dir / "summary.json").read_text())
    del summary["host_memory_GB"]
    (run_dir / "summary.json").write_text(json.dumps(summary))
    (run_dir / "collector-staging").mkdir()
    (run_dir / "collector-staging" / "cluster_info.json").write_text(json.dumps(cluster_info))
    return ResultsIndex(tree, "v3.0").run(f"{NEWFW}/20260713_104840")


@pytest.mark.parametrize(("mem_total", "expected"), [("1024 kB", 1024 * 1024), ("", None), ("\u00b2 kB", None),
                                                     ("9" * 5000, None), ("  ", None)])
def test_cluster_info_memory_as_text(tmp_path: Path, mem_total: str, expected: int | None) -> None:
    """MemTotal written as text: "<kB> kB" counts; an empty, Unicode-digit or 5,000-digit field is no figure."""
    from mlps_harness.rules.evidence import cluster_memory

    run = _run_with_cluster_info(tmp_path, {"h1": {"hostname": "h1", "meminfo": {"MemTotal": mem_total}}})
    found = cluster_memory(run)
    assert (found[0] if found else None) == expected
