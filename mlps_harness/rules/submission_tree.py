"""Submission-tree rules for v3.0 trees (`closed|open/<org>/results/<system>/...`, rules.md §7)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlps_harness.loader.safe_io import read_yaml
from mlps_harness.model import RunGroup
from mlps_harness.outcomes import Finding, NotApplicable, closed, invalid
from mlps_harness.rules.registry import rule


def submitter_dir(group: RunGroup) -> tuple[Path, str, str]:
    """(the `<division>/<org>` directory, the system name, its path relative to the results dir)."""
    ref = next((r.ref for r in group.runs if r.ref.prefix), None)
    if ref is None:
        raise NotApplicable("not a v3.0 submission tree (no closed|open/<org>/results/<system>/ prefix)")
    division, org, _results, system = ref.prefix.split("/")
    depth = len(ref.run_id.split("/"))
    root = Path(ref.path).parents[depth - 1]
    return root / division / org, system, f"{division}/{org}"


@rule("H8.1", "system-description", benchmark="*", scope="group", category="submission", commands=None,
      versions=("v3.0",))
def system_description(group: RunGroup) -> Iterator[Finding]:
    """The system under test is described: `systems/<system>.yaml` (a mapping) and `systems/<system>.pdf`."""
    submitter, system, shown = submitter_dir(group)
    yaml_path = submitter / "systems" / f"{system}.yaml"
    data, problem = read_yaml(str(yaml_path), f"{shown}/systems/{system}.yaml")
    if problem is not None:
        yield problem.model_copy(update={"fix": f"add the system description {shown}/systems/{system}.yaml "
                                                "(system_under_test: ...)"})
    elif not isinstance(data, dict):
        yield invalid(f"{shown}/systems/{system}.yaml must be a YAML mapping", file=f"{shown}/systems/{system}.yaml",
                      fix="describe the system under test as a mapping (system_under_test: ...)")
    if not (submitter / "systems" / f"{system}.pdf").is_file():
        yield invalid(f"{shown}/systems/{system}.pdf is missing", parameter="systems/", file=f"{shown}/systems",
                      expected=f"{system}.pdf", actual="absent", fix="add the PDF system description")
    else:
        yield closed("system description present", parameter="systems/", actual=system)


AVAILABILITY = ("available", "preview", "RDI")


def _at(data: Any, dotted: str) -> Any:
    node = data
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _number(value: Any, integer: bool = False) -> bool:
    return not isinstance(value, bool) and isinstance(value, int if integer else (int, float))


def _node_problems(nodes: Any, where: str) -> Iterator[tuple[str, str, str]]:
    """(field, expected, actual) for each missing or mistyped field of `product_nodes`-style entries."""
    if not isinstance(nodes, list) or not nodes:
        yield where, "a non-empty list", repr(nodes) if nodes is not None else "absent"
        return
    for i, node in enumerate(nodes):
        base = f"{where}[{i}]"
        if not _number(_at(node, "quantity"), True) or _at(node, "quantity") < 1:
            yield f"{base}.quantity", "an integer >= 1", repr(_at(node, "quantity"))
        for key, integer in (("model_name", None), ("rack_units", True), ("cpu_model", None), ("cpu_qty", True),
                             ("cpu_cores", True), ("memory_capacity", False)):
            value = _at(node, f"chassis.{key}")
            ok = isinstance(value, str) and value.strip() if integer is None else _number(value, integer)
            if not ok:
                yield f"{base}.chassis.{key}", "a string" if integer is None else "a number", repr(value)
        psus = _at(node, "chassis.power.psus_configured")
        if not isinstance(psus, list) or not psus:
            yield f"{base}.chassis.power.psus_configured", "a non-empty list of PSUs", repr(psus)
            continue
        for j, psu in enumerate(psus):
            for key in ("unit_count", "nameplate_power_watts"):
                if not _number(_at(psu, key)):
                    yield f"{base}.chassis.power.psus_configured[{j}].{key}", "a number", repr(_at(psu, key))


def _rack_units(sut: dict) -> tuple[float | None, str]:
    """Sum of rack units over product_nodes (x quantity) and product_switches, or None when not computable."""
    total = 0.0
    for where in ("product_nodes", "product_switches"):
        for entry in sut.get(where) or []:
            units = _at(entry, "chassis.rack_units") if _at(entry, "chassis.rack_units") is not None \
                else _at(entry, "rack_units")
            count = _at(entry, "quantity") if _at(entry, "quantity") is not None else _at(entry, "count") or 1
            if not _number(units) or not _number(count):
                return None, f"{where} entry without numeric rack_units / quantity"
            total += units * count
    return total, "product_nodes and product_switches"


def system_schema_problems(data: Any) -> list[tuple[str, str, str]]:
    """Every (field, expected, actual) the v3.0 round's system-description schema would reject (2.1.7)."""
    sut = _at(data, "system_under_test")
    if not isinstance(sut, dict):
        return [("system_under_test", "a mapping", "absent" if sut is None else type(sut).__name__)]
    out: list[tuple[str, str, str]] = []
    capacity = _at(sut, "solution.usable_capacity_tib")
    if not _number(capacity) or capacity <= 0:
        out.append(("solution.usable_capacity_tib", "a number of TiB > 0", repr(capacity)))
    if _at(sut, "solution.availability") not in AVAILABILITY:
        out.append(("solution.availability", " | ".join(AVAILABILITY), repr(_at(sut, "solution.availability"))))
    location = _at(sut, "solution.architecture.storage_location")
    if location not in ("local", "remote"):
        out.append(("solution.architecture.storage_location", "local | remote", repr(location)))
    deployment = sut.get("deployment")
    if deployment not in ("onprem", "cloud"):
        out.append(("deployment", "onprem | cloud", repr(deployment)))
    if "product_nodes" in sut or (deployment == "onprem" and location == "remote"):
        out += list(_node_problems(sut.get("product_nodes"), "product_nodes"))
    if sut.get("product_nodes"):
        declared = sut.get("total_rack_units")
        total, source = _rack_units(sut)
        if not _number(declared, True):
            out.append(("total_rack_units", "an integer", repr(declared)))
        elif total is not None and declared != total:
            out.append(("total_rack_units", f"{total:g} (sum over {source})", repr(declared)))
    return out


@rule("2.1.7", "system-schema", benchmark="*", scope="group", category="submission", commands=None,
      versions=("v3.0",))
def system_schema(group: RunGroup) -> Iterator[Finding]:
    """The system YAML follows the round's schema (capacity, availability, itemized storage nodes with PSUs for
    on-prem remote storage, rack units that add up), and every PDF in `systems/` has a same-named YAML."""
    submitter, system, shown = submitter_dir(group)
    yaml_shown = f"{shown}/systems/{system}.yaml"
    systems = submitter / "systems"
    for pdf in _unmatched_pdfs(str(systems)):
        stem = pdf[:-len(".pdf")]
        yield invalid(f"{shown}/systems/{pdf} has no matching {stem}.yaml", parameter="systems/",
                      expected=f"{stem}.yaml", actual="absent", file=f"{shown}/systems/{pdf}",
                      fix="add the YAML, or keep supplementary documents outside systems/")
    data, problem = read_yaml(str(systems / f"{system}.yaml"), yaml_shown)
    if problem is not None:
        raise NotApplicable(f"{yaml_shown} is missing or unreadable (H8.1 reports it)")
    problems = system_schema_problems(data)
    for field, expected, actual in problems:
        yield invalid(f"{yaml_shown}: {field} is missing or invalid", parameter=field, expected=expected,
                      actual=actual, file=yaml_shown, fix=f"declare {field} in {yaml_shown}")
    if not problems:
        yield closed("system description follows the schema", parameter="systems/", actual=system)


def _unmatched_pdfs(systems: str) -> list[str]:
    """The `*.pdf` names in a `systems/` directory without a same-named `.yaml` file (one directory listing, not a
    glob and a stat per PDF)."""
    try:
        with os.scandir(systems) as it:
            entries = [(e.name, e.is_file()) for e in it]
    except OSError:
        return []
    yamls = {name for name, is_file in entries if is_file and name.endswith(".yaml")}
    return sorted(name for name, _ in entries
                  if name.endswith(".pdf") and f"{name[:-len('.pdf')]}.yaml" not in yamls)


CODE_POINTER = ".mlps-code-image"


@rule("H8.3", "code-image-pointer", benchmark="*", scope="group", category="submission", commands=None,
      versions=("v3.0",))
def code_image_pointer(group: RunGroup) -> Iterator[Finding]:
    """Every run's `.mlps-code-image` pointer (`md5-tree-v2:<md5>`) resolves to `<org>/code-<md5[:8]>/` in the
    results repository's code pool (the v3.0 review's CHECK-01 poolPointerResolution)."""
    submitter, _system, shown = submitter_dir(group)
    root, org = submitter.parents[1], submitter.name
    pointers = [r for r in group.runs if CODE_POINTER in r.file_names()]
    if not pointers:
        raise NotApplicable(f"no run of the group has a {CODE_POINTER} pointer")
    for run in pointers:
        where = f"{run.run_id}/{CODE_POINTER}"
        try:
            text = (Path(run.ref.path) / CODE_POINTER).read_text(encoding="utf-8", errors="replace")[:200].strip()
        except OSError as exc:
            yield invalid(f"{where} cannot be read: {exc.strerror}", parameter=CODE_POINTER, file=where,
                          fix="restore the pointer the tool wrote")
            continue
        kind, _, digest = text.partition(":")
        if kind != "md5-tree-v2" or len(digest) != 32 or any(c not in "0123456789abcdef" for c in digest):
            yield invalid(f"{where} is not an md5-tree-v2 pointer", parameter=CODE_POINTER,
                          expected="md5-tree-v2:<32 hex digits>", actual=text[:60], file=where,
                          fix="restore the pointer the tool wrote")
            continue
        pool = f"{org}/code-{digest[:8]}"
        if not (root / pool).is_dir():
            yield invalid(f"{where} points to {pool}/, which is not in the code pool", parameter=CODE_POINTER,
                          expected=f"{pool}/ beside {shown.split('/')[0]}/", actual="absent", file=where,
                          fix=f"upload the code image {pool}/ to the results repository")
        else:
            yield closed(f"{where} resolves to {pool}/", parameter=CODE_POINTER, actual=pool)
