"""What the wheel ships: hatch leaves out what .gitignore ignores, so no source file may match it."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .helpers import ROOT


def test_no_source_file_is_ignored_by_gitignore() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("pas un dépôt git : rien à vérifier")
    tracked = subprocess.run(["git", "ls-files", "src", "grammars"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    assert tracked
    ignored = subprocess.run(["git", "check-ignore", "--no-index", "--stdin"], cwd=ROOT, input="\n".join(tracked),
                             capture_output=True, text=True).stdout.split()
    assert ignored == [], f"fichiers source ignorés par .gitignore (absents de la roue) : {ignored}"
