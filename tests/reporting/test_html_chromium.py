"""The HTML report in a real headless Chromium: it loads with no console message, shows one card per group with an
SVG chart, labels rule rows CLOSED / OPEN / INVALID, and renders a screenshot."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import SAMPLES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it: .ci/run)"),
              pytest.mark.skipif(not SAMPLES.is_dir(), reason="the upstream samples are not beside this checkout")]


def _chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    profile.mkdir()
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                           *args, page.as_uri()], capture_output=True, text=True, timeout=120)


def test_report_loads_without_console_errors_with_one_card_and_chart_per_group(audit, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for sample in ("upstream-v2.0-unet3d-3runs", "upstream-v2.0-llama3-8b-checkpointing"):
        shutil.copytree(SAMPLES / sample, tree, dirs_exist_ok=True)
    page = tmp_path / "report.html"
    audit(tree, f"--html={page}", "--self-contained-html").assert_clean()
    text = page.read_text()
    assert not re.search(r'src="https?://|<link[^>]+href="https?://|url\(["\']?https?://|@import', text)   # nothing to fetch

    dom = _chromium(tmp_path, page, "--virtual-time-budget=15000", "--dump-dom")   # let the page's scripts finish
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console
    chunks = dom.stdout.split('<div class="mlps-card" data-group="')[1:]
    cards = [(chunk.split('"', 1)[0], chunk.split('<div class="mlps-card"')[0].split("Findings by rule")[0])
             for chunk in chunks]
    assert sorted(group for group, _ in cards) == ["checkpointing/llama3-8b", "training/unet3d"]
    for group, body in cards:
        assert "<svg" in body, group
    assert "OPEN → CLOSED" in dom.stdout or "OPEN &rarr; CLOSED" in dom.stdout or "OPEN \u2192 CLOSED" in dom.stdout
    labels = set(re.findall(r'class="col-result[^"]*" data-mlps="([A-Z/]+)"', dom.stdout))
    assert {"CLOSED", "INVALID"} <= labels

    shot = tmp_path / "shot.png"
    taken = _chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=1400,2000")
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
