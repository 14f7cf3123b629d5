"""``python -m mlps_harness.dlio <hydra args...>``: start DLIO 2.0.0 safely.

DLIO 2.0.0 imports TensorFlow's profiler unconditionally, even for PyTorch
workloads.  When TensorFlow is not installed and the workload does not need it
(framework, dataset.format and reader.data_loader all avoid TensorFlow), an
in-memory stub module named ``tensorflow`` is registered before DLIO is
imported.  When the workload does need TensorFlow and it is missing, or DLIO
itself is missing, a clear message is printed and the exit code is 2.

Unless the arguments already contain ``--config-dir``, this package's workload
YAMLs (``mlps_harness/configs/dlio``) are added with ``--config-dir``; they take
precedence over DLIO's own files of the same name.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import re
import shutil
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import yaml

PACKAGED_CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs" / "dlio"
SETUP_HINT = "bash scripts/setup.sh"
TENSORFLOW_SETUP_HINT = "bash scripts/setup.sh --with-tensorflow"
EXIT_USAGE = 2

# DLIO 2.0.0's own defaults when a workload does not set these keys.
_DLIO_DEFAULTS = {"framework": "tensorflow", "dataset.format": "tfrecord",
                  "reader.data_loader": "tensorflow", "workflow.generate_data": False}
_OVERRIDE = re.compile(r"^\+{0,2}workload\.(?P<key>[A-Za-z0-9_.]+)=(?P<value>.*)$")


class DlioLaunchError(Exception):
    """A problem that should end the entry point with a message and exit code 2."""


@dataclass
class WorkloadSettings:
    """The settings that decide which optional software a DLIO run needs."""

    workload: str
    yaml_path: Path | None
    framework: str
    dataset_format: str
    data_loader: str
    generate_data: bool

    def tensorflow_reasons(self) -> list[str]:
        reasons = []
        if self.framework == "tensorflow":
            reasons.append("framework: tensorflow")
        if self.dataset_format == "tfrecord":
            reasons.append("dataset.format: tfrecord")
        if self.data_loader == "tensorflow":
            reasons.append("reader.data_loader: tensorflow")
        return reasons


def module_available(name: str) -> bool:
    """True when ``name`` can be imported (without importing it); stubs do not count."""
    existing = sys.modules.get(name)
    if existing is not None:
        return not getattr(existing, "__mlps_stub__", False)
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def install_tensorflow_stub() -> types.ModuleType:
    """Register an empty in-memory ``tensorflow`` module; attribute use gives a clear error."""
    existing = sys.modules.get("tensorflow")
    if existing is not None:
        return existing
    stub = types.ModuleType("tensorflow", "Stand-in registered by mlps_harness.dlio; not TensorFlow.")
    stub.__spec__ = importlib.machinery.ModuleSpec("tensorflow", loader=None)
    stub.__mlps_stub__ = True

    def __getattr__(attribute: str):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        raise AttributeError(
            f"tensorflow.{attribute}: TensorFlow is not installed (mlps_harness.dlio put a stub in its "
            f"place because the workload did not seem to need it); install it with '{TENSORFLOW_SETUP_HINT}'")

    stub.__getattr__ = __getattr__
    sys.modules["tensorflow"] = stub
    return stub


def split_config_dir(args: Sequence[str]) -> tuple[list[str], list[str]]:
    """Return (config dirs named by --config-dir/-cd, all args unchanged)."""
    config_dirs: list[str] = []
    items = list(args)
    for index, arg in enumerate(items):
        if arg.startswith("--config-dir="):
            config_dirs.append(arg.split("=", 1)[1])
        elif arg in ("--config-dir", "-cd"):
            if index + 1 >= len(items):
                raise DlioLaunchError(f"{arg}: expected a directory after it")
            config_dirs.append(items[index + 1])
    return config_dirs, items


def _workload_name(args: Sequence[str]) -> str:
    name = "default"
    for arg in args:
        match = re.match(r"^\+{0,2}workload=(.+)$", arg)
        if match:
            name = match.group(1)
    return name


def find_workload_yaml(name: str, config_dirs: Sequence[str | os.PathLike]) -> Path | None:
    """Locate ``workload/<name>.yaml`` in the given dirs, ours, then DLIO's package."""
    search = [Path(d) for d in config_dirs] + [PACKAGED_CONFIG_DIR]
    spec = importlib.util.find_spec("dlio_benchmark") if module_available("dlio_benchmark") else None
    if spec is not None and spec.submodule_search_locations:
        search.append(Path(list(spec.submodule_search_locations)[0]) / "configs")
    for directory in search:
        candidate = directory / "workload" / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    return None


def _lookup(mapping: Mapping, dotted: str):
    node = mapping
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def read_workload_settings(args: Sequence[str]) -> WorkloadSettings:
    """Work out framework/format/loader from the workload YAML plus ``workload.*`` overrides."""
    config_dirs, _ = split_config_dir(args)
    name = _workload_name(args)
    yaml_path = find_workload_yaml(name, config_dirs)
    content: Mapping = {}
    if yaml_path is not None:
        try:
            content = yaml.safe_load(yaml_path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise DlioLaunchError(f"workload file {yaml_path}: cannot be read as YAML: {error}") from None
        if not isinstance(content, Mapping):
            raise DlioLaunchError(f"workload file {yaml_path}: expected a mapping at the top level")
    values = {key: _lookup(content, key) for key in _DLIO_DEFAULTS}
    for arg in args:
        match = _OVERRIDE.match(arg)
        if match and match.group("key") in values:
            values[match.group("key")] = yaml.safe_load(match.group("value") or "null")
    resolved = {key: (default if values[key] is None else values[key])
                for key, default in _DLIO_DEFAULTS.items()}
    return WorkloadSettings(
        workload=name, yaml_path=yaml_path, framework=str(resolved["framework"]).lower(),
        dataset_format=str(resolved["dataset.format"]).lower(),
        data_loader=str(resolved["reader.data_loader"]).lower(),
        generate_data=str(resolved["workflow.generate_data"]).lower() in ("true", "1", "yes"))


def check_requirements(settings: WorkloadSettings) -> bool:
    """Raise DlioLaunchError when required software is missing; return True if a TF stub is needed."""
    if not module_available("dlio_benchmark"):
        raise DlioLaunchError(
            "DLIO (dlio-benchmark 2.0.0) is not installed in this Python "
            f"({sys.executable}); install it with '{SETUP_HINT}'")
    if not module_available("dftracer"):
        raise DlioLaunchError(f"DLIO needs pydftracer==1.0.2, which is missing; run '{SETUP_HINT}'")
    if settings.framework == "pytorch" and not module_available("torch"):
        raise DlioLaunchError(f"workload {settings.workload!r} uses framework pytorch but torch is "
                              f"missing; run '{SETUP_HINT}'")
    reasons = settings.tensorflow_reasons()
    if module_available("tensorflow"):
        if settings.dataset_format == "tfrecord" and settings.generate_data \
                and shutil.which("tfrecord2idx") is None:
            raise DlioLaunchError(
                f"workload {settings.workload!r} generates TFRecord files, which needs the 'tfrecord2idx' "
                f"tool on PATH; run '{TENSORFLOW_SETUP_HINT}' (it installs a small stand-in)")
        return False
    if reasons:
        where = f" ({settings.yaml_path})" if settings.yaml_path else ""
        raise DlioLaunchError(
            f"workload {settings.workload!r}{where} needs TensorFlow ({', '.join(reasons)}), which is not "
            f"installed; install it with '{TENSORFLOW_SETUP_HINT}', or for the OPEN division override "
            "++workload.framework=pytorch ++workload.reader.data_loader=pytorch ++workload.dataset.format=npz")
    return True


def with_packaged_config_dir(args: Sequence[str]) -> list[str]:
    """Append ``--config-dir=<our configs>`` unless a config dir is already given."""
    config_dirs, items = split_config_dir(args)
    if not config_dirs and PACKAGED_CONFIG_DIR.is_dir():
        items.append(f"--config-dir={PACKAGED_CONFIG_DIR}")
    return items


def build_dlio_command(workload: str, run_dir: str | os.PathLike,
                       overrides: Mapping[str, object] | None = None,
                       config_dir: str | os.PathLike | None = None,
                       python: str | None = None, output_subdir: str = "dlio_config") -> list[str]:
    """Return ``[python, -m, mlps_harness.dlio, workload=..., ++hydra.run.dir=..., ...]``."""
    command = [python or sys.executable, "-m", "mlps_harness.dlio", f"workload={workload}",
               f"++hydra.run.dir={os.fspath(run_dir)}", f"++hydra.output_subdir={output_subdir}"]
    for key, value in (overrides or {}).items():
        if isinstance(value, bool):
            value = "True" if value else "False"
        command.append(f"++workload.{key}={value}")
    command.append(f"--config-dir={os.fspath(config_dir or PACKAGED_CONFIG_DIR)}")
    return command


def main(argv: Sequence[str] | None = None) -> int:
    """Check requirements, install the TF stub if fitting, then run DLIO's main."""
    args = list(sys.argv[1:] if argv is None else argv)
    wants_help = any(arg in ("--help", "-h", "--hydra-help") for arg in args)
    try:
        settings = read_workload_settings(args)
        if settings.yaml_path is None and not wants_help:
            searched = split_config_dir(args)[0] + [str(PACKAGED_CONFIG_DIR), "DLIO's configs"]
            raise DlioLaunchError(
                f"workload={settings.workload}: no workload/{settings.workload}.yaml found in "
                f"{', '.join(searched)}; pass an existing name (e.g. workload=unet3d_h100) or --config-dir")
        needs_stub = check_requirements(settings) if not wants_help else not module_available("tensorflow")
    except DlioLaunchError as error:
        print(f"mlps_harness.dlio: error: {error}", file=sys.stderr, flush=True)
        return EXIT_USAGE
    if needs_stub:
        install_tensorflow_stub()
    from dlio_benchmark.main import (
        main as dlio_main,  # imported only after the stub is in place
    )

    sys.argv = ["dlio_benchmark"] + with_packaged_config_dir(args)
    dlio_main()
    return 0
