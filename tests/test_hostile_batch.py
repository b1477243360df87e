"""Hostile inputs of `tarifrules batch` (issue 15, items 1 and 2): files that used to be destroyed or
silently computed wrong, signals and a full disk during the writing.

The small CSV files are in `tests/hostile/batch/`; the big ones (1.5 M rows, 5 000-digit cells) are made
here in `tmp_path`. Every case runs through the command line (`hostile_support.run_cli`: no exit 70, no
traceback, bounded time) and, where the library has a door for it, through `RuleSet.evaluate_table`.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tarifrules
from tarifrules.batch.files import FileProblem, read_population

from .helpers import EXAMPLES
from .hostile_support import HOSTILE, TARIFRULES, assert_handled, run_cli

CANTINE = str(EXAMPLES / "restauration-scolaire.tarif")
CASES = HOSTILE / "batch"
DATE = ("--date", "01/09/2025")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path) -> list[str]:
    """Temporary files of a results file left in a folder."""
    return sorted(name for name in os.listdir(folder) if name.endswith(".partiel"))


def csv_rows(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    separator = "\t" if "\t" in lines[0] else ";" if ";" in lines[0] else ","
    return [line.split(separator) for line in lines]


# ------------------------------------------------------------------ 1. the output


@pytest.mark.parametrize("how", ["même chemin", "chemin relatif", "lien symbolique", "lien physique"])
def test_an_output_that_is_the_input_is_refused(tmp_path: Path, how: str) -> None:
    source = tmp_path / "menages.csv"
    source.write_text("quotient_familial,demandeur_emploi\n650,non\n", encoding="utf-8")
    before = digest(source)
    output = {"même chemin": source, "chemin relatif": tmp_path / "." / "menages.csv",
              "lien symbolique": tmp_path / "lien.csv", "lien physique": tmp_path / "physique.csv"}[how]
    if how == "lien symbolique":
        output.symlink_to(source)
    elif how == "lien physique":
        os.link(source, output)
    result = run_cli(["batch", CANTINE, source, "-o", output, *DATE], cwd=tmp_path)
    assert_handled(result, 2, "est le fichier d'entrée", "autre fichier")
    assert digest(source) == before
    assert leftovers(tmp_path) == []


def test_an_input_given_through_a_link_is_refused_as_output(tmp_path: Path) -> None:
    source = tmp_path / "menages.csv"
    source.write_text("quotient_familial,demandeur_emploi\n650,non\n", encoding="utf-8")
    (tmp_path / "lien.csv").symlink_to(source)
    result = run_cli(["batch", CANTINE, tmp_path / "lien.csv", "-o", source, *DATE])
    assert_handled(result, 2, "est le fichier d'entrée")


def test_results_replace_an_older_file_only_when_complete(tmp_path: Path) -> None:
    source = tmp_path / "menages.csv"
    source.write_text("quotient_familial,demandeur_emploi\n650,non\n", encoding="utf-8")
    output = tmp_path / "tarifs.csv"
    output.write_text("ancien\n", encoding="utf-8")
    output.chmod(0o640)
    result = run_cli(["batch", CANTINE, source, "-o", output, *DATE])
    assert_handled(result, 0, "Résultats écrits dans")
    assert csv_rows(output)[1][2] == "2.10"
    assert output.stat().st_mode & 0o777 == 0o640  # (the older file's permissions kept)
    assert leftovers(tmp_path) == []


@pytest.fixture(scope="module")
def big_population(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """1.5 M households, as CSV and as Parquet (made once: a few seconds)."""
    folder = tmp_path_factory.mktemp("population")
    size = 1_500_000
    rng = np.random.default_rng(3)
    table = pa.table({"dossier": pa.array(np.arange(size)).cast(pa.string()),
                      "quotient_familial": pa.array(rng.integers(0, 3000, size)).cast(pa.string()),
                      "demandeur_emploi": pa.array(np.where(rng.random(size) < 0.3, "oui", "non"))})
    import pyarrow.csv as csv

    csv.write_csv(table, folder / "menages.csv", write_options=csv.WriteOptions(quoting_style="none"))
    pq.write_table(table, folder / "menages.parquet")
    return {".csv": folder / "menages.csv", ".parquet": folder / "menages.parquet", "size": Path(str(size))}


def _complete(output: Path, size: int) -> bool:
    if output.suffix == ".parquet":
        return pq.ParquetFile(output).metadata.num_rows == size
    with open(output, "rb") as file:
        data = file.read()
    return data.endswith(b"\n") and data.count(b"\n") == size + 1


def _interrupted_run(source: Path, output: Path, number: int, delay: float | None) -> tuple[int, str]:
    """`batch` on `source`, sent signal `number` after `delay` seconds (None: as soon as its temporary
    file holds something, i.e. while the results are being written)."""
    process = subprocess.Popen([TARIFRULES, "batch", CANTINE, str(source), "-o", str(output), *DATE],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    while process.poll() is None and time.monotonic() - started < 60:
        if delay is None:
            if any((output.parent / name).stat().st_size > 0 for name in leftovers(output.parent)
                   if (output.parent / name).exists()):
                break
            time.sleep(0.002)
        elif time.monotonic() - started >= delay:
            break
        else:
            time.sleep(0.01)
    if process.poll() is None:
        process.send_signal(number)
    out, err = process.communicate(timeout=60)
    both = out + err
    assert "Traceback" not in both and "erreur interne" not in both, both
    return process.returncode, both


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_leaves_a_complete_file_or_none(tmp_path: Path, big_population: dict[str, Path], suffix: str,
                                                 number: int) -> None:
    source, size = big_population[suffix], int(big_population["size"].name)
    before = digest(source)
    code = {signal.SIGTERM: 143, signal.SIGINT: 130}[number]
    interrupted = 0
    for delay in (None, 0.6, 1.0, 1.4):
        output = tmp_path / f"tarifs{suffix}"
        output.unlink(missing_ok=True)
        returncode, both = _interrupted_run(source, output, number, delay)
        if returncode == 0:
            assert _complete(output, size), f"{delay} s : fichier incomplet sous le nom final"
        else:
            interrupted += 1
            assert returncode == code, both
            if "ce fichier est complet" in both:  # the signal came after the rename: the file is there, whole
                assert _complete(output, size)
            else:
                assert "interrompu" in both and "aucun fichier" in both, both
                assert not output.exists(), f"{delay} s : {output.name} existe après « {both.strip()} »"
        assert leftovers(tmp_path) == [], delay
    assert digest(source) == before
    assert interrupted, "aucun passage n'a été interrompu : le test n'a rien vérifié"


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_leaves_the_previous_results_untouched(tmp_path: Path, big_population: dict[str, Path],
                                                        number: int) -> None:
    output = tmp_path / "tarifs.parquet"
    interrupted = 0
    for delay in (None, 0.7, 1.0):
        output.write_bytes(b"anciens resultats")
        returncode, both = _interrupted_run(big_population[".parquet"], output, number, delay)
        if returncode != 0 and "ce fichier est complet" not in both:
            interrupted += 1
            assert output.read_bytes() == b"anciens resultats", delay
            assert "inchangé" in both
        assert leftovers(tmp_path) == []
    assert interrupted, "aucun passage n'a été interrompu : le test n'a rien vérifié"


@pytest.fixture
def full_disk(tmp_path: Path) -> Path:
    """A 3 MiB tmpfs (as root), removed after the test."""
    folder = tmp_path / "disque"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("disque plein simulé par un tmpfs de 3 Mio : il faut lancer les tests en root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"impossible de monter un tmpfs ({mounted.stderr.decode(errors='replace').strip()})")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("previous", [False, True], ids=["sans fichier", "avec un ancien fichier"])
def test_a_full_disk_leaves_the_input_and_no_partial_output(full_disk: Path, suffix: str, previous: bool) -> None:
    source = full_disk / "menages.csv"  # on the full disk too: it must stay whole
    rng = np.random.default_rng(5)
    with open(source, "w", encoding="utf-8") as file:  # ~2 MB, the results more (random files: no compression)
        file.write("dossier;quotient_familial;demandeur_emploi\n")
        file.writelines(f"{rng.bytes(18).hex()};{q};{'oui' if q % 3 else 'non'}\n"
                        for q in rng.integers(0, 3000, 45_000))
    before = digest(source)
    output = full_disk / f"tarifs{suffix}"
    if previous:
        output.write_bytes(b"anciens resultats")
    result = run_cli(["batch", CANTINE, source, "-o", output, *DATE])
    assert_handled(result, 2, "le disque est plein", "libérez de la place")
    assert digest(source) == before
    assert leftovers(full_disk) == []
    if previous:
        assert output.read_bytes() == b"anciens resultats"
        assert "inchangé" in result.stderr
    else:
        assert not output.exists()


# ------------------------------------------------------------------ 2. the columns


@pytest.mark.parametrize(("case", "separator"), [("espaces-autour-des-separateurs.csv", "point-virgule"),
                                                 ("tabulations.csv", "tabulation")])
def test_headers_are_read_whatever_the_spaces_and_separator(tmp_path: Path, case: str, separator: str) -> None:
    """Used to give every household the `à défaut` tariff (5.40) and exit 0."""
    result = run_cli(["batch", CANTINE, CASES / case, "-o", tmp_path / "t.csv", *DATE])
    assert_handled(result, 0, f"séparateur : {separator}", "3 foyers : 3 calculé(s)")
    rows = csv_rows(tmp_path / "t.csv")
    assert [row[3] for row in rows] == ["tarif_repas", "2.10", "1.05", "5.40"]


def test_a_datum_without_column_is_refused(tmp_path: Path) -> None:
    result = run_cli(["batch", CANTINE, CASES / "colonnes-sans-donnee.csv", "-o", tmp_path / "t.csv", *DATE])
    assert_handled(result, 2, "aucune colonne d'ENTREE", "colonnes trouvées : « dossier », « qf », « emploi »",
                   "données attendues : « quotient_familial », « demandeur_emploi »", "--map")
    assert not (tmp_path / "t.csv").exists()
    result = run_cli(["batch", CANTINE, CASES / "colonnes-sans-donnee.csv", "-o", tmp_path / "t.csv", *DATE,
                      "--map", "qf=quotient_familial", "--map", "emploi=demandeur_emploi"])
    assert_handled(result, 0, "quotient_familial ← colonne « qf »")


@pytest.mark.parametrize(("case", "words"), [
    ("colonnes-en-double.csv", ("colonne(s) en double", "« quotient_familial »")),
    ("colonne-statut.csv", ("déjà une colonne « statut »", "renommez")),
    ("colonne-resultat.csv", ("déjà une colonne « tarif_repas »", "renommez")),
])
def test_columns_that_would_be_lost_are_refused(tmp_path: Path, case: str, words: tuple[str, ...]) -> None:
    before = digest(CASES / case)
    result = run_cli(["batch", CANTINE, CASES / case, "-o", tmp_path / "t.csv", *DATE])
    assert_handled(result, 2, *words)
    assert not (tmp_path / "t.csv").exists()
    assert digest(CASES / case) == before


def test_duplicate_columns_of_a_parquet_file_are_refused(tmp_path: Path) -> None:
    table = pa.Table.from_arrays([pa.array([650]), pa.array([700])], names=["quotient_familial", "quotient_familial"])
    pq.write_table(table, tmp_path / "m.parquet")
    result = run_cli(["batch", CANTINE, tmp_path / "m.parquet", "-o", tmp_path / "t.csv", *DATE])
    assert_handled(result, 2, "colonne(s) en double")


def test_bad_rows_are_reported_with_their_line_and_the_run_goes_on(tmp_path: Path) -> None:
    result = run_cli(["batch", CANTINE, CASES / "lignes-mal-formees.csv", "-o", tmp_path / "t.csv", *DATE])
    assert_handled(result, 1, "5 foyers : 2 calculé(s), 0 indéterminé(s), 3 en erreur",
                   "ligne 3 : 2 champ(s) au lieu de 3", "ligne 4 : 4 champ(s) au lieu de 3",
                   "ligne 5 : guillemet ouvert")
    assert [row[0] for row in csv_rows(tmp_path / "t.csv")[1:]] == ["A-001", "A-005"]


def test_rows_over_several_lines_keep_the_numbering_of_the_file(tmp_path: Path) -> None:
    result = run_cli(["batch", CANTINE, CASES / "valeur-sur-deux-lignes.csv", "-o", tmp_path / "t.csv", *DATE])
    assert_handled(result, 1, "ligne 5 : « quotient_familial » n'est pas un nombre")


def test_a_byte_order_mark_and_empty_lines_change_no_name_nor_line(tmp_path: Path) -> None:
    """A spreadsheet's CSV: byte order mark, CRLF, empty lines (skipped, but counted in the numbering)."""
    result = run_cli(["batch", CANTINE, CASES / "bom-et-lignes-vides.csv", "-o", tmp_path / "t.csv", *DATE])
    assert_handled(result, 1, "2 foyers : 1 calculé(s), 0 indéterminé(s), 1 en erreur",
                   "ligne 4 : « quotient_familial » n'est pas un nombre")
    assert csv_rows(tmp_path / "t.csv")[1][3] == "2.10"


def test_huge_numbers_are_computed_row_by_row(tmp_path: Path) -> None:
    """A 19-digit cell used to end the whole batch with exit 70 (NotVectorisable)."""
    result = run_cli(["batch", CANTINE, CASES / "dix-neuf-chiffres.csv", "-o", tmp_path / "t.csv", *DATE])
    assert_handled(result, 0, "3 foyers : 3 calculé(s)")
    assert [row[3] for row in csv_rows(tmp_path / "t.csv")[1:]] == ["5.40", "2.10", "2.70"]


def test_a_5000_digit_cell_among_many_rows(tmp_path: Path) -> None:
    """Only the rows around the huge cell go through the interpreter: the others keep NumPy's speed."""
    size = 300_000
    qf = (np.arange(size) * 7) % 3000
    cells = qf.astype(str).astype(object)
    cells[123_456] = "9" * 5000
    cells[200_000] = "9223372036854775807"
    source = tmp_path / "menages.parquet"
    pq.write_table(pa.table({"quotient_familial": pa.array(list(cells), type=pa.string()),
                             "demandeur_emploi": pa.array(np.arange(size) % 2 == 0)}), source)
    result = run_cli(["batch", CANTINE, source, "-o", tmp_path / "t.parquet", *DATE], timeout=60)
    # The 5 000-digit cell is a row in error (D008: at most 30 digits, as for `eval`); the 19-digit one is computed.
    assert_handled(result, 1, "300 000 foyers : 299 999 calculé(s), 0 indéterminé(s), 1 en erreur",
                   "ligne 123457 : « quotient_familial » a trop de chiffres")
    table = pq.read_table(tmp_path / "t.parquet")
    assert table.num_rows == size
    values, statuses = table.column("tarif_repas").to_pylist(), table.column("statut").to_pylist()
    assert (values[123_456], statuses[123_456]) == (None, "erreur")
    ruleset = tarifrules.load(CANTINE)
    for row in (0, 1, 123_455, 123_457, 200_000, size - 1):
        expected = ruleset.evaluate({"quotient_familial": cells[row], "demandeur_emploi": row % 2 == 0},
                                    date="01/09/2025").outputs["tarif_repas"].value
        assert values[row] == expected, row


# ------------------------------------------------------------------ the Python side


@pytest.mark.parametrize("case", sorted(path.name for path in CASES.glob("*.csv")))
def test_reading_a_hostile_file_raises_only_its_own_error(case: str) -> None:
    """`batch.files.read_population` reads the file or says why (FileProblem), nothing else."""
    try:
        population = read_population(str(CASES / case))
    except FileProblem as problem:
        assert problem.message and problem.hint
        return
    assert all(name == name.strip() for name in population.table.column_names)


@pytest.mark.parametrize("cell", ["9223372036854775807", "-9223372036854775809", "9" * 40, "1" * 5000])
def test_evaluate_table_with_huge_numbers_gives_evaluate_results(cell: str) -> None:
    """The library: `evaluate_table` never lets NotVectorisable out (only TarifError, for a bad value)."""
    ruleset = tarifrules.load(CANTINE)
    table = pa.table({"quotient_familial": [cell, "650"], "demandeur_emploi": ["non", "oui"]})
    try:
        result = ruleset.evaluate_table(table, date="01/09/2025")
    except tarifrules.TarifError:
        return
    for row, situation in enumerate(table.to_pylist()):
        try:
            expected = ruleset.evaluate(situation, date="01/09/2025").outputs["tarif_repas"].value
        except tarifrules.TarifError:
            assert result.statuses()[row] == "erreur"
            continue
        assert result.outputs["tarif_repas"].value(row) == expected


def test_a_quote_never_closed_does_not_swallow_the_households_after_it(tmp_path: Path) -> None:
    # The last cell of line 2 opened a quote: the two households after it were read into that cell,
    # « 1 foyer : 1 calculé(s) » and exit 0 — two households lost without a word.
    result = run_cli(["batch", CANTINE, CASES / "guillemet-jamais-referme.csv", "-o", tmp_path / "t.csv", *DATE])
    assert_handled(result, 1, "3 foyers : 2 calculé(s), 0 indéterminé(s), 1 en erreur",
                   "ligne 2 : guillemet ouvert et jamais refermé")
    assert [row[0] for row in csv_rows(tmp_path / "t.csv")[1:]] == ["A-002", "A-003"]


def test_a_fifo_or_a_device_as_population_is_said_for_what_it_is(tmp_path: Path) -> None:
    fifo = tmp_path / "menages.csv"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.csv"
    zero.symlink_to("/dev/zero")
    assert_handled(run_cli(["batch", CANTINE, fifo, "-o", tmp_path / "t.csv", *DATE], timeout=30), 2,
                   "tube nommé (FIFO)")
    assert_handled(run_cli(["batch", CANTINE, zero, "-o", tmp_path / "t.csv", *DATE], timeout=30), 2,
                   "périphérique")
    assert not (tmp_path / "t.csv").exists()
