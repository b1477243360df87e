"""The command line's cache of checked rule files: same rule set as `load`, never stale,
never an error kept, never a failure of its own."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tarifrules import rulecache
from tarifrules.diagnostics import TarifError
from tarifrules.ruleset import load

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "deliberations"
CANTINE = EXAMPLES / "restauration-scolaire.tarif"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("TARIFRULES_CACHE", str(folder))
    return folder


def _copy(tmp_path: Path, source: Path = CANTINE, name: str = "regles.tarif") -> Path:
    target = tmp_path / name
    target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return target


@pytest.mark.parametrize("file", sorted(EXAMPLES.glob("*.tarif")), ids=lambda p: p.stem)
def test_a_rule_set_read_back_is_the_one_load_gives(cache: Path, file: Path) -> None:
    written = rulecache.load_cached(file)
    assert len(list(cache.glob("*.pickle"))) == 1
    read_back = rulecache.load_cached(file)
    reference = load(file)
    for ruleset in (written, read_back):
        assert ruleset.program == reference.program
        assert ruleset.warnings == reference.warnings
        assert ruleset.source == reference.source
        assert ruleset.unreliable == reference.unreliable
    situation = {d: None for d in reference.data_names}
    day = reference.valid_from
    assert read_back.evaluate(situation, date=day).to_json() == reference.evaluate(situation, date=day).to_json()


def test_a_negative_answer_before_mid_october_stays_unknown_when_read_back(cache: Path) -> None:
    boursier = Path(__file__).parent / "golden" / "diagnostics" / "T064-boursier-avant-mi-octobre.tarif"
    rulecache.load_cached(boursier)
    read_back, reference = rulecache.load_cached(boursier), load(boursier)
    assert [u.datum for u in read_back.unreliable] == ["boursier"]  # (catalogue: unreliable until 15/10)
    for day, set_aside in (("01/09/2025", ("boursier",)), ("20/10/2025", ())):
        expected = reference.evaluate({"boursier": False}, date=day)
        got = read_back.evaluate({"boursier": False}, date=day)
        assert got.set_aside == expected.set_aside == set_aside
        assert got.to_json() == expected.to_json()


def test_a_hit_loads_neither_the_grammar_nor_the_checks_nor_the_catalogue(cache: Path) -> None:
    code = ("import sys\nfrom tarifrules.rulecache import load_cached\n"
            f"load_cached({str(CANTINE)!r})\n"
            "print(sorted(m for m in sys.modules if m == 'lark' or m.startswith(('tarifrules.parser', "
            "'tarifrules.checks.grids', 'tarifrules.checks.names', 'tarifrules.checks.catalogue', "
            "'tarifrules.catalogue.loading', 'tarifrules.catalogue.entries'))))")
    env = {**os.environ, "TARIFRULES_CACHE": str(cache)}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert first.stdout.strip() != "[]"  # a miss parses and checks
    assert second.stdout.strip() == "[]"


def test_an_edited_file_is_checked_again(cache: Path, tmp_path: Path) -> None:
    file = _copy(tmp_path)
    before = rulecache.load_cached(file)
    file.write_text(file.read_text(encoding="utf-8").replace("1,00 €", "1,10 €", 1), encoding="utf-8")
    after = rulecache.load_cached(file)
    assert after.program != before.program
    assert after.program == load(file).program
    assert len(list(cache.glob("*.pickle"))) == 2


def test_the_same_text_under_another_name_keeps_its_own_name(cache: Path, tmp_path: Path) -> None:
    one, other = _copy(tmp_path, name="un.tarif"), _copy(tmp_path, name="autre.tarif")
    assert rulecache.load_cached(one).file == str(one)
    assert rulecache.load_cached(other).file == str(other)


def test_a_file_with_errors_is_never_kept(cache: Path, tmp_path: Path) -> None:
    file = _copy(tmp_path)
    file.write_text(file.read_text(encoding="utf-8").replace("tarif_repas : tarif_base", "tarif_repas : tarif_bas"),
                    encoding="utf-8")
    with pytest.raises(TarifError) as reference:
        load(file)
    for _ in range(2):
        with pytest.raises(TarifError) as caught:
            rulecache.load_cached(file)
        assert caught.value.diagnostics == reference.value.diagnostics
    assert not cache.exists() or not list(cache.glob("*.pickle"))


def test_an_unreadable_file_is_the_error_load_gives(cache: Path, tmp_path: Path) -> None:
    with pytest.raises(TarifError) as caught:
        rulecache.load_cached(tmp_path / "absent.tarif")
    assert [d.code for d in caught.value.diagnostics] == ["F001"]


def test_a_damaged_entry_is_only_a_miss(cache: Path) -> None:
    rulecache.load_cached(CANTINE)
    (entry,) = cache.glob("*.pickle")
    for damage in (b"", b"not a pickle", entry.read_bytes()[:100]):
        entry.write_bytes(damage)
        assert rulecache.load_cached(CANTINE).program == load(CANTINE).program
    assert rulecache.load_cached(CANTINE).program == load(CANTINE).program  # rewritten whole


def test_a_folder_that_cannot_be_written_is_no_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "fichier"
    blocked.write_text("pas un dossier", encoding="utf-8")
    monkeypatch.setenv("TARIFRULES_CACHE", str(blocked / "cache"))
    assert rulecache.load_cached(CANTINE).program == load(CANTINE).program


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARIFRULES_CACHE", "non")
    assert rulecache.cache_folder() is None
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    rulecache.load_cached(CANTINE)
    assert not any(tmp_path.iterdir())


def test_the_default_folder_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TARIFRULES_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert rulecache.cache_folder() == tmp_path / "xdg" / "tarifrules"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert rulecache.cache_folder() == tmp_path / ".cache" / "tarifrules"


def test_another_tarifrules_reads_no_entry_of_this_one(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rulecache.load_cached(CANTINE)
    monkeypatch.setattr(rulecache, "_code_stamp", lambda: b"another version")
    rulecache.load_cached(CANTINE)
    assert len(list(cache.glob("*.pickle"))) == 2


def test_the_stamp_covers_the_code_the_grammar_and_the_catalogue() -> None:
    rulecache._code_stamp.cache_clear()
    try:
        seen: list[str] = []
        real_stat = Path.stat

        def recording(self: Path, *args: object, **kwargs: object) -> os.stat_result:
            seen.append(self.name)
            return real_stat(self, *args, **kwargs)  # type: ignore[arg-type]

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(Path, "stat", recording)
            rulecache._code_stamp()
        assert {"tarif.lark", "catalogue.json", "grids.py", "rulecache.py"} <= set(seen)
    finally:
        rulecache._code_stamp.cache_clear()


def test_old_entries_are_removed_beyond_the_limit(cache: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rulecache, "MAX_ENTRIES", 2)
    for name in ("a.tarif", "b.tarif", "c.tarif"):
        rulecache.load_cached(_copy(tmp_path, name=name))
    assert len(list(cache.glob("*.pickle"))) == 2
    assert not list(cache.glob("*.tmp"))


def test_a_stamp_that_cannot_be_taken_turns_the_cache_off(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def vanished() -> bytes:
        raise FileNotFoundError("a file of tarifrules was just removed")

    monkeypatch.setattr(rulecache, "_code_stamp", vanished)
    assert rulecache.load_cached(CANTINE).program == load(CANTINE).program
    assert not cache.exists()


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="owner and mode bits: POSIX only")
def test_a_folder_others_may_write_in_is_never_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "partagé"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("TARIFRULES_CACHE", str(shared))
    for _ in range(2):
        assert rulecache.load_cached(CANTINE).program == load(CANTINE).program
    assert not list(shared.iterdir())


# ------------------------------------------------------------------ no code run, no price changed

class _RunsCode:
    """A pickle that runs a command when read by `pickle.loads`."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def _signed(cache: Path, entry: Path, data: bytes) -> bytes:
    """`data` signed as tarifrules signs an entry: what a thief of the key could write."""
    import hashlib
    import hmac

    key = (cache / rulecache.KEY_NAME).read_bytes()
    mac = hmac.new(key, rulecache.MAGIC + entry.name.encode() + b"\0" + data, hashlib.sha256).digest()
    return rulecache.MAGIC + mac + data


def _notes(path: Path) -> tuple[str, ...]:
    loading = rulecache.start_loading([path], fork=False)
    loading.results()
    return loading.notes


def test_an_entry_that_would_run_code_is_never_unpickled(cache: Path, tmp_path: Path) -> None:
    rulecache.load_cached(CANTINE)
    (entry,) = cache.glob("*.pickle")
    marker = tmp_path / "code-exécuté"
    for payload in (pickle.dumps(_RunsCode(marker)), rulecache.MAGIC + bytes(32) + pickle.dumps(_RunsCode(marker))):
        entry.write_bytes(payload)
        notes = _notes(CANTINE)
        assert not marker.exists()
        assert rulecache.load_cached(CANTINE).program == load(CANTINE).program
    assert any("signature invalide" in note for note in notes)


def test_even_a_signed_entry_builds_only_the_values_of_a_program(cache: Path, tmp_path: Path) -> None:
    # The signature keeps out whoever cannot read the key; the unpickler keeps out code even then.
    rulecache.load_cached(CANTINE)
    (entry,) = cache.glob("*.pickle")
    marker = tmp_path / "code-exécuté"
    entry.write_bytes(_signed(cache, entry, pickle.dumps(_RunsCode(marker))))
    assert rulecache.load_cached(CANTINE).program == load(CANTINE).program
    assert not marker.exists()
    for foreign in (pickle.dumps(eval), pickle.dumps(("x", print)), pickle.dumps(rulecache._Cache)):
        with pytest.raises(pickle.UnpicklingError):
            rulecache._ProgramUnpickler(__import__("io").BytesIO(foreign)).load()


def test_an_entry_whose_prices_were_changed_is_ignored(cache: Path) -> None:
    # The tampering the issue reproduced: `eval` printed 0,01 € for a file that says 2,10 €.
    rulecache.load_cached(CANTINE)
    (entry,) = cache.glob("*.pickle")
    raw = entry.read_bytes()
    assert b"2.10" in raw
    entry.write_bytes(raw.replace(b"2.10", b"0.01"))
    notes = _notes(CANTINE)
    assert any("modifiée hors de tarifrules" in note for note in notes)
    situation = {"quotient_familial": 650, "demandeur_emploi": False}
    assert rulecache.load_cached(CANTINE).evaluate(situation).outputs["tarif_repas"].value == Decimal("2.10")


def test_the_entry_of_another_file_moved_in_its_place_is_ignored(cache: Path, tmp_path: Path) -> None:
    cheap = _copy(tmp_path, name="bon-marche.tarif")
    cheap.write_text(cheap.read_text(encoding="utf-8").replace("2,10 €", "0,01 €"), encoding="utf-8")
    rulecache.load_cached(cheap)
    (cheap_entry,) = cache.glob("*.pickle")
    rulecache.load_cached(CANTINE)
    (entry,) = set(cache.glob("*.pickle")) - {cheap_entry}
    entry.write_bytes(cheap_entry.read_bytes())
    assert rulecache.load_cached(CANTINE).program == load(CANTINE).program


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="owner and mode bits: POSIX only")
def test_an_entry_others_may_write_in_is_ignored_and_said(cache: Path) -> None:
    rulecache.load_cached(CANTINE)
    (entry,) = cache.glob("*.pickle")
    entry.chmod(0o666)
    notes = _notes(CANTINE)
    assert any("d'autres peuvent y écrire" in note for note in notes)
    assert rulecache.load_cached(CANTINE).program == load(CANTINE).program


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="changer le propriétaire : root seulement")
def test_an_entry_of_another_user_is_ignored(cache: Path) -> None:
    rulecache.load_cached(CANTINE)
    (entry,) = cache.glob("*.pickle")
    os.chown(entry, 65534, 65534)
    assert any("appartient à un autre utilisateur" in note for note in _notes(CANTINE))


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="owner and mode bits: POSIX only")
def test_a_key_others_may_read_turns_the_cache_off(cache: Path) -> None:
    rulecache.load_cached(CANTINE)
    (cache / rulecache.KEY_NAME).chmod(0o644)
    notes = _notes(CANTINE)
    assert len(notes) == 1 and "la clé" in notes[0] and "TARIFRULES_CACHE" in notes[0]
    (entry,) = cache.glob("*.pickle")
    entry.unlink()
    rulecache.load_cached(CANTINE)
    assert not list(cache.glob("*.pickle"))  # nothing written with a key others may know


def test_a_damaged_key_is_replaced_and_older_entries_are_misses(cache: Path) -> None:
    rulecache.load_cached(CANTINE)
    key = cache / rulecache.KEY_NAME
    key.write_bytes(b"court")
    assert rulecache.load_cached(CANTINE).program == load(CANTINE).program
    assert len(key.read_bytes()) == rulecache.KEY_BYTES
    assert (key.stat().st_mode & 0o777) == 0o600
    assert rulecache.load_cached(CANTINE).program == load(CANTINE).program


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="owner and mode bits: POSIX only")
def test_a_folder_above_the_cache_that_others_may_write_in_is_refused(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "partagé"
    shared.mkdir()
    shared.chmod(0o777)  # others could rename the cache folder and put theirs in its place
    monkeypatch.setenv("TARIFRULES_CACHE", str(shared / "cache"))
    notes = _notes(CANTINE)
    assert len(notes) == 1 and "qui contient le cache" in notes[0]
    assert not (shared / "cache").exists()
    shared.chmod(0o1777)  # a sticky folder (/tmp): no one else may rename what is ours in it
    assert _notes(CANTINE) == ()
    assert len(list((shared / "cache").glob("*.pickle"))) == 1


def test_the_command_line_says_what_the_cache_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    env = {**os.environ, "TARIFRULES_CACHE": str(folder)}
    args = [str(Path(sys.executable).with_name("tarifrules")), "eval", str(CANTINE), "--set", "quotient_familial=650",
            "--set", "demandeur_emploi=non", "--date", "01/10/2025", "--json"]
    subprocess.run(args, capture_output=True, text=True, env=env, check=True)
    (entry,) = folder.glob("*.pickle")
    entry.write_bytes(entry.read_bytes().replace(b"2.10", b"0.01"))
    second = subprocess.run(args, capture_output=True, text=True, env=env)
    assert second.returncode == 0, second.stderr
    assert '"2.10"' in second.stdout
    assert "tarifrules: attention: entrée du cache ignorée" in second.stderr
    third = subprocess.run(args, capture_output=True, text=True, env=env)
    assert third.stderr == ""  # the entry was written again, signed


# ------------------------------------------------------------------ checked by child processes (`start_loading`)

# Run in a process of its own: the test process may have threads, and then nothing is forked.
LOADING = """
import os, pickle, sys
from tarifrules.diagnostics import TarifError
from tarifrules.rulecache import start_loading

loading = start_loading(sys.argv[2:])
children = loading.children
try:
    outcome = [(r.program, r.warnings, r.source, r.unreliable) for r in loading.results()]
except TarifError as problem:
    outcome = problem.diagnostics
try:
    os.waitpid(-1, os.WNOHANG)
    ended = False
except ChildProcessError:
    ended = True  # every child was waited for
checked_here = "tarifrules.parser" in sys.modules
with open(sys.argv[1], "wb") as out:
    pickle.dump((children, outcome, ended, checked_here), out)
"""


def _start_loading(tmp_path: Path, files: list[Path], cache: str, prelude: str = "") -> tuple[int, Any, bool]:
    """(children forked, rule sets or diagnostics, whether the parent parsed and checked itself)"""
    out = tmp_path / "outcome.pickle"
    subprocess.run([sys.executable, "-c", prelude + LOADING, str(out), *map(str, files)], check=True, timeout=120,
                   env={**os.environ, "TARIFRULES_CACHE": cache})
    children, outcome, ended, checked_here = pickle.loads(out.read_bytes())
    assert ended, "a child process was left behind"
    return children, outcome, checked_here


def _loaded(files: list[Path]) -> list[tuple[Any, ...]]:
    return [(r.program, r.warnings, r.source, r.unreliable) for r in map(load, files)]


def test_files_not_in_the_cache_are_checked_by_child_processes(tmp_path: Path) -> None:
    files = sorted(EXAMPLES.glob("*.tarif"))
    expected = _loaded(files)
    for cache in ("non", str(tmp_path / "cache")):
        children, outcome, checked_here = _start_loading(tmp_path, files, cache)
        assert (children, checked_here) == (len(files), False)  # the parent neither parsed nor checked
        assert outcome == expected
    children, outcome, checked_here = _start_loading(tmp_path, files, str(tmp_path / "cache"))
    assert (children, checked_here) == (0, False)  # the parent kept what the children sent
    assert outcome == expected


def test_a_file_with_errors_checked_by_a_child_raises_its_diagnostics(tmp_path: Path) -> None:
    broken = _copy(tmp_path)
    broken.write_text(broken.read_text(encoding="utf-8").replace("tarif_repas : tarif_base", "tarif_repas : x"),
                      encoding="utf-8")
    with pytest.raises(TarifError) as reference:
        load(broken)
    children, outcome, checked_here = _start_loading(tmp_path, [CANTINE, broken], "non")
    assert (children, checked_here) == (2, True)  # the parent checked the broken file again to say why
    assert outcome == reference.value.diagnostics


def test_nothing_is_forked_while_another_thread_runs_or_when_told_not_to(tmp_path: Path) -> None:
    assert rulecache.start_loading([CANTINE], fork=False).children == 0
    other_thread = "import threading\nthreading.Thread(target=threading.Event().wait, daemon=True).start()\n"
    children, outcome, checked_here = _start_loading(tmp_path, [CANTINE], "non", prelude=other_thread)
    assert (children, checked_here) == (0, True)
    assert outcome == _loaded([CANTINE])


def test_a_child_that_dies_leaves_the_checking_to_the_command(tmp_path: Path) -> None:
    dying_child = ("import os, signal\nimport tarifrules.ruleset as ruleset\nparent, checked = os.getpid(), "
                   "ruleset.checked\nruleset.checked = lambda *args: checked(*args) if os.getpid() == parent "
                   "else os.kill(os.getpid(), signal.SIGKILL)\n")
    children, outcome, checked_here = _start_loading(tmp_path, [CANTINE], str(tmp_path / "cache"), dying_child)
    assert (children, checked_here) == (1, True)
    assert outcome == _loaded([CANTINE])
    assert len(list((tmp_path / "cache").glob("*.pickle"))) == 1  # what the command checked is kept
