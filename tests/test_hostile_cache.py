"""Hostile cache entries through the command line: no code run, the price the text says, said on stderr."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from .helpers import EXAMPLES
from .hostile_support import assert_handled, run_cli

CANTINE = EXAMPLES / "restauration-scolaire.tarif"
EVAL = ["eval", CANTINE, "--set", "quotient_familial=650", "--set", "demandeur_emploi=non", "--date", "01/10/2025",
        "--json"]


class _RunsCode:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (os.system, (f"touch {self.marker}",))


def _code(folder: Path, marker: Path) -> None:
    for file in folder.iterdir():
        file.write_bytes(pickle.dumps(_RunsCode(marker)))


def _price(folder: Path, marker: Path) -> None:
    for entry in folder.glob("*.pickle"):
        entry.write_bytes(entry.read_bytes().replace(b"2.10", b"0.01"))


def _shared(folder: Path, marker: Path) -> None:
    for entry in folder.glob("*.pickle"):
        entry.chmod(0o666)


@pytest.mark.parametrize(("damage", "said"), [
    (_code, "entrée du cache ignorée"),
    (_price, "modifiée hors de tarifrules"),
    pytest.param(_shared, "d'autres peuvent y écrire",
                 marks=pytest.mark.skipif(not hasattr(os, "getuid"), reason="droits POSIX")),
], ids=["code", "prix", "partagé"])
def test_a_tampered_cache_never_runs_code_nor_changes_a_price(tmp_path: Path, damage: object, said: str) -> None:
    folder = tmp_path / "cache"
    env = {"TARIFRULES_CACHE": str(folder)}
    assert_handled(run_cli(EVAL, env=env), 0, '"2.10"')
    marker = tmp_path / "code-exécuté"
    damage(folder, marker)  # type: ignore[operator]
    result = run_cli(EVAL, env=env)
    assert not marker.exists()
    assert_handled(result, 0, '"2.10"', said)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="droits POSIX")
def test_a_cache_in_a_folder_everyone_may_write_in_is_not_used(tmp_path: Path) -> None:
    shared = tmp_path / "partagé"
    shared.mkdir()
    shared.chmod(0o777)
    result = run_cli(EVAL, env={"TARIFRULES_CACHE": str(shared / "cache")})
    assert_handled(result, 0, '"2.10"', "cache des fichiers vérifiés ignoré", "TARIFRULES_CACHE")
    assert not (shared / "cache").exists()
