"""A realistic v3.0 submission tree for audit-speed measurements (issue #14), cloned from upstream-written runs.

    python benchmarks/realistic_tree.py DEST [--runs 1000] [--seed 0] [--source DIR]

Every run directory is a clone of a run that upstream `mlpstorage` v2.0 + DLIO really wrote
(`/work/shared/samples/upstream-v2.0-unet3d-3runs`, see its README): every file of the run (metadata, summary.json,
per-rank `*_output.json` / `*_per_epoch_stats.json`, dlio.log, stdout/stderr logs, `dlio_config/*.yaml`) with
the same sizes and structure. The tree is laid out as a v3.0 submission:

    closed/<org>/results/<system>/training/unet3d/datagen/<YYYYMMDD_HHMMSS>/    one per system
    closed/<org>/results/<system>/training/unet3d/run/<YYYYMMDD_HHMMSS>/        6 per system (1 warm-up + 5)
    closed/<org>/systems/<system>.yaml + <system>.pdf

`runs` run directories in ceil(runs / 6) systems (1,000 runs -> 167 systems; the last one holds the remainder),
about 8 systems per organisation.

What is changed in each clone, consistently in every file that holds it:
* time: every ISO timestamp and every `YYYYMMDD_HHMMSS` name (directory, `training_<dt>_metadata.json`,
  metadata `run_datetime`, hydra run dir) is shifted by one whole-second offset per run, so that the six runs of a
  system follow each other like a `--loops` sequence (2.9-7 s idle between runs, as in the sample);
* paths: results dir `/srv/mlperf/results`, run paths under `closed/<org>/results/<system>/`, the data dir and
  checkpoint folder per system;
* what a passing CLOSED v3.0 run needs and the 2-accelerator sample run lacks: accelerator `b200` (config
  `unet3d_b200`, computation_time 0.162), `dataset.num_files_train=7200` (>= 500 steps x 2 x 7 = 7,000 required;
  datagen likewise) and AU 92-97 % in `summary.json`, with each rank's per-epoch AU block in `<rank>_output.json`
  set to agree (the summary's AU is DLIO's mean over the ranks, which the audit checks; the per-step compute times
  DLIO measured on the h100 run stay in the per-rank files and dlio.log);
* a system description that follows the v3.0 schema (capacity, availability, deployment, storage location,
  itemized storage nodes with PSUs, rack units that add up);
* findings, like a real tree: every run overrides `reader.data_loader=pytorch` (the reference value), which the
  v2.0 and v3.0 rules put on the OPEN list: one OPEN finding per run. Every system has one INVALID finding,
  alternating by system: one measured run keeps the AU upstream measured (42-50 % < 90 %), or one measured run
  lacks its `dlio.log`. A last, incomplete system (runs not a multiple of 6) has the run-count finding instead.
Only source runs 1 and 2 of the sample are cloned: run 3 lasted 47 s, and at 2x the shortest run (15 s) the v3.0
gap rule (2.1.18) would flag the run after it.

Files whose final bytes equal an already written file (config.yaml, overrides.yaml, the empty stdout log, the
system PDFs) are hard links to the first copy; the rest differ per run (timestamps) and are written. 1,000 runs:
13,420 files (4,082 links), 65 MB, about 65 KB per run, built in ~7 s.

Upstream `mlpstorage reports reportgen --results-dir DEST` reads this tree as it is: its `get_runs_files()` walks
the whole results dir (`os.walk`) and takes every directory holding one `*_metadata.json` and a `summary.json`, so
the `closed/<org>/results/<system>/` prefix needs no v2.0-layout twin (datagen dirs have no summary.json and are
skipped, as in a v2.0 tree). Note that reportgen writes `results.json` and `results.csv` into the results dir:
remove them before auditing the same tree (a v3.0 tree's top level holds only closed/open).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

SOURCE = Path("/work/shared/samples/upstream-v2.0-unet3d-3runs")
MODEL = "unet3d"
RUNS_PER_SYSTEM = 6
SYSTEMS_PER_ORG = 8
NUM_FILES = 7200
ACCELERATOR = "b200"
COMPUTATION_TIME = "0.162"  # unet3d on b200 (rules.md / v3.0 ruleset); the h100 sample used 0.323
OPEN_OVERRIDE = ("reader.data_loader", "pytorch")
SOURCE_RUNS = (0, 1)  # indices into the sample's run dirs (see the module docstring for run 3)

SYSTEM_YAML = """\
# System description (v3.0 submission schema: systems/<system>.yaml)
system_under_test:
  solution:
    submission_name: {system}
    friendly_description: {org} parallel file system, {nodes} storage nodes, one client
    architecture:
      storage_location: remote
      benchmark_API: file
      product_API: file
      client_footprint: open_source
      client_installation: in_box
    usable_capacity_tib: {capacity}
    availability: available
  deployment: onprem
  product_nodes:
    - friendly_description: {org} storage node
      quantity: {nodes}
      chassis:
        model_name: {org} SN-2U
        rack_units: 2
        cpu_model: AMD EPYC 9354
        cpu_qty: 2
        cpu_cores: 64
        memory_capacity: 512
        power:
          min_psus_active: 1
          psus_configured:
            - unit_count: 2
              inlet_voltage: 220
              nameplate_power_watts: 1600
              efficiency: Titanium
  total_rack_units: {rack_units}
  clients:
    - friendly_description: benchmark client
      quantity: 1
      chassis:
        cpu_model: AMD EPYC
        cpu_qty: 1
        cpu_cores: 2
        memory_capacity: 24
"""

# a one-page PDF (valid structure, blank page)
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


class _Writer:
    """Writes files, hard-linking any whose bytes were already written once in this tree."""

    def __init__(self) -> None:
        self.first: dict[bytes, str] = {}
        self.files = self.links = self.bytes = 0

    def write(self, path: Path, data: bytes) -> None:
        self.files += 1
        self.bytes += len(data)
        existing = self.first.get(data)
        if existing is not None:
            os.link(existing, path)
            self.links += 1
            return
        with open(path, "wb") as f:
            f.write(data)
        self.first[data] = str(path)


def _load_source(source: Path) -> tuple[dict, list[dict]]:
    """The sample's datagen dir and run dirs as {name, dt, start, end, files: {relpath: (name, text) templates}}."""
    base = source / "training" / MODEL

    def load(d: Path) -> dict:
        files = {}
        for p in sorted(d.rglob("*")):
            if p.is_file():
                rel = str(p.relative_to(d))
                text = _rewrite(p.read_text(), ORG, SYSTEM)
                if rel.endswith("_metadata.json"):
                    text = _edit_metadata(text)
                files[rel] = (_Template(rel), _Template(text))
        entry = {"name": d.name, "dt": datetime.strptime(d.name, "%Y%m%d_%H%M%S"), "files": files}
        if "summary.json" in files:
            s = json.loads((d / "summary.json").read_text())
            entry["start"] = datetime.fromisoformat(s["start"])
            entry["end"] = datetime.fromisoformat(s["end"])
        return entry

    datagen = sorted((base / "datagen").iterdir())
    runs = sorted((base / "run").iterdir())
    return load(datagen[0]), [load(r) for r in runs]


ORG, SYSTEM = "@@ORG@@", "@@SYSTEM@@"  # placeholders in the pre-rewritten templates


class _Template:
    """One source file, rewritten once (see `_rewrite`, with org/system placeholders) and split at its timestamps,
    so that each clone only formats the shifted timestamps and joins the pieces."""

    def __init__(self, text: str) -> None:
        self.parts: list[str] = []
        self.stamps: list[tuple[datetime, str]] = []  # (time, strftime format + fraction)
        pos = 0
        for m in STAMP.finditer(text):
            self.parts.append(text[pos:m.start()])
            if m.group("iso"):
                self.stamps.append((datetime.strptime(m.group("iso"), "%Y-%m-%dT%H:%M:%S"),
                                    "%Y-%m-%dT%H:%M:%S" + (m.group("frac") or "")))
            else:
                self.stamps.append((datetime.strptime(m.group("name"), "%Y%m%d_%H%M%S"), "%Y%m%d_%H%M%S"))
            pos = m.end()
        self.parts.append(text[pos:])
        self.has_placeholders = ORG in text or SYSTEM in text

    def render(self, delta: timedelta, org: str, system: str) -> str:
        out = [self.parts[0]]
        for (t, fmt), part in zip(self.stamps, self.parts[1:]):
            out.append((t + delta).strftime(fmt))
            out.append(part)
        text = "".join(out)
        if self.has_placeholders:
            text = text.replace(ORG, org).replace(SYSTEM, system)
        return text


STAMP = re.compile(r"(?<!\d)(?:(?P<iso>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?P<frac>\.\d+)?"
                   r"|(?P<name>\d{8}_\d{6})(?!\d))")


def _rewrite(text: str, org: str, system: str) -> str:
    """Paths, accelerator, dataset size and the OPEN override: the same in every run of a system."""
    prefix = f"closed/{org}/results/{system}"
    text = text.replace("/srv/mlperf/results/d-three-runs/training/", f"/srv/mlperf/results/{prefix}/training/")
    text = text.replace("/srv/mlperf/results/d-three-runs", "/srv/mlperf/results")
    text = text.replace("/srv/mlperf/work/d-three-runs", f"/srv/mlperf/work/{system}")
    text = text.replace("/srv/mlperf/ckpt/d-three-runs", f"/srv/mlperf/ckpt/{system}")
    text = text.replace("/srv/mlperf/data/u56", f"/srv/mlperf/data/{system}")
    # dataset size: overrides, config, metadata (string and int forms), summary, command lines, dlio.log
    text = re.sub(r'(num_files_train(?:=|: |": "?))56(?!\d)', rf"\g<1>{NUM_FILES}", text)
    text = text.replace("Max steps per epoch: 4 = 1 * 56 / 7 / 2",
                        f"Max steps per epoch: {NUM_FILES // 14} = 1 * {NUM_FILES} / 7 / 2")
    # accelerator
    text = text.replace("unet3d_h100", f"unet3d_{ACCELERATOR}")
    text = text.replace('"accelerator_type": "h100"', f'"accelerator_type": "{ACCELERATOR}"')
    text = re.sub(r"computation_time(\"?): 0\.323(?!\d)", rf"computation_time\1: {COMPUTATION_TIME}", text)
    text = text.replace("'mean': 0.323}", f"'mean': {COMPUTATION_TIME}}}")
    # the OPEN override, next to the existing reader.read_threads one (command lines, overrides.yaml, hydra.yaml)
    key, value = OPEN_OVERRIDE
    extra = f"++workload.{key}={value}"
    text = text.replace("++workload.reader.read_threads=1 ", f"++workload.reader.read_threads=1 {extra} ")
    text = re.sub(r"(?m)^(\s*)- \+\+workload\.reader\.read_threads=1$", rf"\g<0>\n\1- {extra}", text)
    text = text.replace(",++workload.reader.read_threads=1,", f",{extra},++workload.reader.read_threads=1,")
    return text


def _edit_metadata(text: str) -> str:
    meta = json.loads(text)
    key, value = OPEN_OVERRIDE
    if meta.get("args", {}).get("command") == "run":
        meta["args"]["params"].append(f"{key}={value}")
        # params_dict keeps upstream's order: the --params first, then the injected data_folder
        items = list(meta["params_dict"].items())
        items.insert(len(meta["args"]["params"]) - 1, (key, value))
        meta["params_dict"] = dict(items)
    return json.dumps(meta, indent=2)


def _edit_summary(text: str, rng: random.Random, keep_au: bool) -> str:
    summary = json.loads(text)
    if not keep_au:
        m = summary["metric"]
        target = rng.uniform(92.0, 97.0)
        au = [min(99.5, target + rng.gauss(0.0, 1.0)) for _ in m["train_au_percentage"]]
        m["train_au_percentage"] = au
        m["train_au_mean_percentage"] = statistics.fmean(au)
        m["train_au_stdev_percentage"] = statistics.pstdev(au)
        m["train_au_meet_expectation"] = "success"
    return json.dumps(summary, indent=4)


def _rank_au(text: str, au: list[float]) -> str:
    """A rank's `<rank>_output.json` with each epoch's AU block set to the summary's AU of that epoch, so that
    the summary stays DLIO's mean over the ranks (the per-rank files are checked against it)."""
    doc = json.loads(text)
    for epoch, value in enumerate(au, start=1):
        block = doc.get(str(epoch), {}).get("au")
        if isinstance(block, dict) and len(block) == 1:
            block[next(iter(block))] = value
    return json.dumps(doc, indent=4)


def _clone(src: dict, dest_parent: Path, delta: timedelta, org: str, system: str, writer: _Writer,
           rng: random.Random, keep_au: bool = False, drop: tuple[str, ...] = ()) -> Path:
    new_name = (src["dt"] + delta).strftime("%Y%m%d_%H%M%S")
    run_dir = dest_parent / new_name
    (run_dir / "dlio_config").mkdir(parents=True)
    au: list[float] | None = None
    # summary.json first: the per-rank AU blocks follow its (edited) per-epoch AU
    for rel, (name, text) in sorted(src["files"].items(), key=lambda item: item[0] != "summary.json"):
        new_rel = name.render(delta, org, system)
        if new_rel in drop:
            continue
        out = text.render(delta, org, system)
        if rel == "summary.json":
            out = _edit_summary(out, rng, keep_au)
            if not keep_au:
                au = json.loads(out)["metric"]["train_au_percentage"]
        elif au is not None and rel.endswith("_output.json"):
            out = _rank_au(out, au)
        writer.write(run_dir / new_rel, out.encode())
    return run_dir


def build_realistic_tree(dest: Path, runs: int, seed: int = 0, source: Path = SOURCE) -> dict:
    """Build the tree (see the module docstring) under `dest`, which must not exist or be empty.

    Returns counts: runs, systems, orgs, files, hard links, bytes, the planted findings and build seconds.
    """
    t0 = time.perf_counter()
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    datagen, sample_runs = _load_source(source)
    sources = [sample_runs[i] for i in SOURCE_RUNS]
    writer = _Writer()
    systems = math.ceil(runs / RUNS_PER_SYSTEM)
    orgs = max(1, round(systems / SYSTEMS_PER_ORG))
    planted = {"open_override_runs": 0, "invalid_low_au": 0, "invalid_missing_dlio_log": 0,
               "invalid_run_count": 0}
    start = datetime(2026, 3, 2, 8, 0, 0)
    left = runs
    for s in range(systems):
        n = min(RUNS_PER_SYSTEM, left)
        left -= n
        org = f"org{s % orgs + 1:02d}"
        system = f"{org}-system{s // orgs + 1:02d}"
        sysdir = dest / "closed" / org / "systems"
        sysdir.mkdir(parents=True, exist_ok=True)
        writer.write(sysdir / f"{system}.yaml", SYSTEM_YAML.format(
            system=system, org=org, nodes=(nodes := rng.choice((2, 4, 8, 16))), capacity=rng.choice((250, 500, 1000)),
            rack_units=2 * nodes).encode())
        writer.write(sysdir / f"{system}.pdf", PDF)
        base = dest / "closed" / org / "results" / system / "training" / MODEL
        # each system starts a few hours after the previous one; datagen ~10 min before the first run
        start += timedelta(hours=3, minutes=rng.randrange(60), seconds=rng.randrange(60))
        first_start = start
        gen_delta = timedelta(seconds=round((first_start - timedelta(minutes=10) - sample_runs[0]["start"])
                                            .total_seconds()))
        _clone(datagen, base / "datagen", gen_delta, org, system, writer, rng)
        bad = 1 + rng.randrange(RUNS_PER_SYSTEM - 1)  # a measured run (not the warm-up)
        kind = "au" if s % 2 == 0 else "missing"
        if n < RUNS_PER_SYSTEM:
            kind = "count"
            planted["invalid_run_count"] += 1
        t = first_start
        for k in range(n):
            src = sources[k % len(sources)]
            delta = timedelta(seconds=round((t - src["start"]).total_seconds()))
            keep_au = kind == "au" and k == bad
            drop = ("dlio.log",) if kind == "missing" and k == bad else ()
            _clone(src, base / "run", delta, org, system, writer, rng, keep_au=keep_au, drop=drop)
            planted["open_override_runs"] += 1
            planted["invalid_low_au"] += keep_au
            planted["invalid_missing_dlio_log"] += bool(drop)
            t = src["end"] + delta + timedelta(seconds=rng.uniform(2.9, 7.2))
    return {"dest": str(dest), "runs": runs, "systems": systems, "orgs": orgs, "files": writer.files,
            "hard_links": writer.links, "bytes": writer.bytes, "bytes_per_run": round(writer.bytes / max(runs, 1)),
            "planted": planted, "seconds": round(time.perf_counter() - t0, 2)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", type=Path, default=SOURCE, help="upstream-written sample tree to clone")
    args = parser.parse_args(argv)
    print(json.dumps(build_realistic_tree(args.dest, args.runs, args.seed, args.source), indent=2))


if __name__ == "__main__":
    sys.exit(main())
