"""Files that are not files (issue 15, item 6): a named pipe, a device behind a `.tarif` or
`.json` symbolic link, a folder, a file larger than its announced size.

A FIFO blocks whoever opens it without `O_NONBLOCK` until a writer comes; `/dev/zero` never
ends. Rule files (exit 1, F001/F004), situations and identity files (exit 2) are all read by
`files.read_regular_file`. The inputs cannot be committed (a FIFO is not a git file, a link to
`/dev/zero` would hang any tool that reads the tests folder): each test makes them in its
temporary folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

import tarifrules
from tarifrules import files

from .helpers import ROOT
from .hostile_support import assert_handled, library_error, messages, run_cli

CANTINE = ROOT / "examples" / "deliberations" / "restauration-scolaire.tarif"
TIMEOUT = 20  # seconds: reading a FIFO or /dev/zero would never end


def _fifo(folder: Path, name: str) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("pas de tubes nommés sur ce système")
    path = folder / name
    os.mkfifo(path)
    return path


def _zero(folder: Path, name: str) -> Path:
    if not Path("/dev/zero").exists():
        pytest.skip("pas de /dev/zero sur ce système")
    path = folder / name
    path.symlink_to("/dev/zero")
    return path


def _folder(folder: Path, name: str) -> Path:
    path = folder / name
    path.mkdir()
    return path


MAKERS: dict[str, tuple[Callable[[Path, str], Path], str]] = {
    "fifo": (_fifo, "tube nommé"),
    "zero": (_zero, "périphérique"),
    "dossier": (_folder, "dossier"),
}


@pytest.mark.parametrize("kind", sorted(MAKERS))
@pytest.mark.parametrize("command", ["check", "eval", "explain"])
def test_a_rule_file_that_is_not_a_file(tmp_path: Path, kind: str, command: str) -> None:
    make, words = MAKERS[kind]
    path = make(tmp_path, "cantine.tarif")
    args = [command, path] if command == "check" else [command, path, "--set", "quotient_familial=650"]
    assert_handled(run_cli(args, timeout=TIMEOUT), 1, "F001", words)


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_the_library_refuses_a_rule_file_that_is_not_a_file(tmp_path: Path, kind: str) -> None:
    make, words = MAKERS[kind]
    path = make(tmp_path, "cantine.tarif")
    error = library_error(lambda: tarifrules.load(path))
    assert "F001" in messages(error) and words in messages(error)
    assert [d.code for d in tarifrules.check(path)] == ["F001"]


@pytest.mark.parametrize("kind", sorted(MAKERS))
@pytest.mark.parametrize("command", ["eval", "explain"])
def test_a_situation_that_is_not_a_file(tmp_path: Path, kind: str, command: str) -> None:
    make, words = MAKERS[kind]
    path = make(tmp_path, "foyer.json")
    assert_handled(run_cli([command, CANTINE, "--situation", path, "--date", "01/10/2025"], timeout=TIMEOUT), 2,
                   "impossible de lire la situation", words)


@pytest.mark.parametrize("kind", sorted(MAKERS))
@pytest.mark.parametrize("command", [["eval", "--fetch"], ["fetch"]])
def test_an_identity_file_that_is_not_a_file(tmp_path: Path, kind: str, command: list[str]) -> None:
    make, words = MAKERS[kind]
    path = make(tmp_path, "identite.json")
    result = run_cli([command[0], CANTINE, *command[1:], "--identite", path, "--date", "01/10/2025"],
                     timeout=TIMEOUT, env={"API_PARTICULIER_TOKEN": ""})
    assert_handled(result, 2, "impossible de lire le fichier d'identité", words)


def test_an_identity_file_beyond_the_limit(tmp_path: Path) -> None:
    identity = tmp_path / "identite.json"
    identity.write_text('{"note": "' + "x" * 1_200_000 + '"}', encoding="utf-8")
    result = run_cli(["fetch", CANTINE, "--identite", identity, "--date", "01/10/2025"], timeout=TIMEOUT)
    assert_handled(result, 2, "trop gros", "1 Mo")


def test_a_rule_file_beyond_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "export.tarif"
    big.write_text(CANTINE.read_text(encoding="utf-8") + "# " + "x" * 6_000_000 + "\n", encoding="utf-8")
    assert_handled(run_cli(["check", big], timeout=TIMEOUT), 1, "F004", "trop gros")


def test_the_limit_holds_whatever_stat_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file whose announced size is 0 (as in /proc) but that holds more than the limit."""
    path = tmp_path / "menteur.tarif"
    path.write_bytes(b"# x\n" * 1000)
    real_stat = os.stat

    def lying_stat(target: object, *args: object, **kwargs: object) -> os.stat_result:
        status = real_stat(target, *args, **kwargs)  # type: ignore[arg-type]
        return os.stat_result((status.st_mode, *status[1:6], 0, *status[7:10]))

    monkeypatch.setattr(files.os, "stat", lying_stat)
    with pytest.raises(files.FileProblem) as problem:
        files.read_regular_file(path, 1000)
    assert problem.value.reason == "too_large" and "plus de" in problem.value.message
    assert files.read_regular_file(path, 4000) == b"# x\n" * 1000


def test_a_regular_file_through_a_symbolic_link_is_read(tmp_path: Path) -> None:
    link = tmp_path / "lien.tarif"
    link.symlink_to(CANTINE)
    assert_handled(run_cli(["check", link], timeout=TIMEOUT), 0)


# ------------------------------------------------------------------ files written whole or not at all


def test_a_file_rewritten_by_fmt_is_whole_or_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `fmt` rewrote the rule file in place (`write_text`): a full disk or a kill left it cut in half.
    rule = tmp_path / "regles.tarif"
    rule.write_text("ancien texte\n", encoding="utf-8")
    rule.chmod(0o640)

    def failing(*args: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(files.os, "fsync", failing)
        with pytest.raises(OSError):
            files.write_atomically(rule, "nouveau texte\n" * 1000)
    assert rule.read_text(encoding="utf-8") == "ancien texte\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["regles.tarif"]  # no temporary file left
    files.write_atomically(rule, "nouveau texte\n")
    assert rule.read_text(encoding="utf-8") == "nouveau texte\n"
    assert rule.stat().st_mode & 0o777 == 0o640  # its permissions kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["regles.tarif"]


def test_system_errors_are_said_in_french(tmp_path: Path) -> None:
    long_name = tmp_path / ("a" * 300 + ".tarif")
    result = run_cli(["check", long_name])
    assert_handled(result, 1, "nom de fichier trop long")
    loop = tmp_path / "boucle.json"
    loop.symlink_to(tmp_path / "boucle2.json")
    (tmp_path / "boucle2.json").symlink_to(loop)
    result = run_cli(["eval", ROOT / "examples" / "deliberations" / "restauration-scolaire.tarif", "--situation", loop])
    assert_handled(result, 2)
    assert "Too many" not in result.stderr and "File name" not in result.stderr, result.stderr
