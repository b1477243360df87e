"""The code stays ruff- and mypy --strict-clean (STYLE.md); skipped where the tools are not installed."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from .helpers import ROOT


@pytest.mark.parametrize("command", [
    [sys.executable, "-m", "ruff", "check", "src", "tests", "benchmarks"],
    [sys.executable, "-m", "mypy", "src"],
])
def test_linters_are_clean(command: list[str]) -> None:
    tool = command[2]
    if shutil.which(tool) is None and subprocess.run([sys.executable, "-m", tool, "--version"],
                                                     capture_output=True).returncode != 0:
        pytest.skip(f"{tool} n'est pas installé (pip install -e '.[dev]')")
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
