"""Submission-tree rules for v3.0 trees (`closed|open/<org>/results/<system>/...`, rules.md §7)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
