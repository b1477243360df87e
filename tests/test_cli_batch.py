"""`tarifrules batch`: files in and out, the summary, bad rows, `--map`, `--compare`, exit codes."""

from __future__ import annotations

import contextlib
import io
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tarifrules
from tarifrules.batch import run as batch_run
from tarifrules.cli import main

from .helpers import EXAMPLES

CANTINE = str(EXAMPLES / "restauration-scolaire.tarif")
TAUX = str(EXAMPLES / "accueil-loisirs-taux-effort.tarif")


def run(*argv: str) -> tuple[str, int]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        try:
            main(list(argv))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
    return buffer.getvalue(), code


def test_csv_in_csv_out(tmp_path: Path) -> None:
    source = tmp_path / "menages.csv"
    source.write_text("id,qf,demandeur_emploi\n1,650,non\n2,650,oui\n3,,oui\n4,1200,\n5,abc,non\n", encoding="utf-8")
    out, code = run("batch", CANTINE, str(source), "-o", str(tmp_path / "t.csv"), "--map", "qf=quotient_familial",
                    "--date", "01/09/2025")
    assert code == 1, out  # a bad row
    assert "5 foyers : 3 calculé(s), 1 indéterminé(s), 1 en erreur" in out
    assert "ligne 6 : « quotient_familial » n'est pas un nombre" in out
    assert "Traceback" not in out
    lines = (tmp_path / "t.csv").read_text(encoding="utf-8").splitlines()
    assert lines == [
        "id,qf,demandeur_emploi,tarif_repas,statut,données_manquantes",
        "1,650,non,2.10,ok,",
        "2,650,oui,1.05,ok,",
        "3,,oui,5.40,ok,",
        "4,1200,,,indéterminé,demandeur_emploi",
        "5,abc,non,,erreur,",
    ]


def test_parquet_in_parquet_out_agrees_with_evaluate(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    size = 2000
    qf = rng.integers(0, 3001, size)
    known = rng.random(size) > 0.1
    pq.write_table(pa.table({"quotient_familial": pa.array(qf, mask=~known)}), tmp_path / "in.parquet")
    out, code = run("batch", TAUX, str(tmp_path / "in.parquet"), "-o", str(tmp_path / "out.parquet"),
                    "--date", "01/09/2025")
    assert code == 0, out
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.schema.field("tarif_journee").type == pa.decimal128(38, 2)
    ruleset = tarifrules.load(TAUX)
    for row, value in enumerate(table.column("tarif_journee").to_pylist()):
        situation = {"quotient_familial": int(qf[row])} if known[row] else {}
        assert value == ruleset.evaluate(situation, date="01/09/2025").outputs["tarif_journee"].value
    assert set(table.column("statut").to_pylist()) == {"ok"}


def test_compare_shows_the_impact(tmp_path: Path) -> None:
    source = tmp_path / "menages.csv"
    source.write_text("quotient_familial,demandeur_emploi\n100,\n1000,\n2000,\n", encoding="utf-8")
    out, code = run("batch", CANTINE, str(source), "-o", str(tmp_path / "t.parquet"), "--date", "01/09/2025",
                    "--compare", TAUX)
    assert code == 0, out
    assert "aucun résultat chiffré commun" in out  # tarif_repas vs tarif_journee
    other = tmp_path / "autre.tarif"
    other.write_text(Path(CANTINE).read_text(encoding="utf-8").replace("2,10 €", "2,50 €").replace(
        "4,10 €", "4,00 €"), encoding="utf-8")
    source.write_text("quotient_familial,demandeur_emploi\n100,non\n500,non\n1000,non\n2000,non\n", encoding="utf-8")
    out, code = run("batch", CANTINE, str(source), "-o", str(tmp_path / "t.parquet"), "--date", "01/09/2025",
                    "--compare", str(other))
    assert "paient plus : 1 foyer ; paient moins : 1 foyer ; même montant : 2 foyers" in out, out
    assert "écart +0,30 €" in out


@pytest.mark.parametrize(("args", "words"), [
    (["--map", "nope=quotient_familial"], "pas de colonne « nope »"),
    (["--map", "qf=nope"], "« nope » n'est pas une donnée"),
    (["--map", "qf"], "écrivez colonne=donnée"),
    (["--date", "01/01/2020"], "hors de la période d'application"),
])
def test_usage_problems_exit_2(tmp_path: Path, args: list[str], words: str) -> None:
    source = tmp_path / "m.csv"
    source.write_text("qf\n650\n", encoding="utf-8")
    out, code = run("batch", CANTINE, str(source), "-o", str(tmp_path / "t.csv"), *args)
    assert code == 2, out
    assert words in out


def test_files_that_cannot_be_read_exit_2(tmp_path: Path) -> None:
    out, code = run("batch", CANTINE, str(tmp_path / "absent.csv"), "-o", str(tmp_path / "t.csv"))
    assert code == 2 and "fichier introuvable" in out
    (tmp_path / "m.txt").write_text("x", encoding="utf-8")
    out, code = run("batch", CANTINE, str(tmp_path / "m.txt"), "-o", str(tmp_path / "t.csv"))
    assert code == 2 and "format de fichier non reconnu" in out
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    out, code = run("batch", CANTINE, str(tmp_path / "bad.parquet"), "-o", str(tmp_path / "t.csv"))
    assert code == 2 and "fichier illisible" in out
    out, code = run("batch", CANTINE, str(tmp_path / "m.txt"))
    assert code == 2 and "-o SORTIE est obligatoire" in out


def test_long_runs_show_progress(tmp_path: Path) -> None:
    size = 150_000
    pq.write_table(pa.table({"quotient_familial": np.arange(size) % 3000}), tmp_path / "in.parquet")
    out, code = run("batch", TAUX, str(tmp_path / "in.parquet"), "-o", str(tmp_path / "out.parquet"),
                    "--date", "01/09/2025")
    assert code == 0, out
    assert "Calcul (accueil-loisirs-taux-effort.tarif)" in out
    assert "150 000 foyers : 150 000 calculé(s)" in out
    total = sum(pq.read_table(tmp_path / "out.parquet").column("tarif_journee").to_pylist(), Decimal(0))
    assert f"total {tarifrules.values.format_decimal(total, min_places=2)} €" in out


def test_duckdb_engine_gives_the_numpy_results(tmp_path: Path) -> None:
    """`--moteur duckdb` computes with the query of `tarifrules sql`: same tariffs as the NumPy path."""
    rng = np.random.default_rng(7)
    size = 3000
    qf = rng.integers(0, 3001, size)
    known = rng.random(size) > 0.05
    table = pa.table({"id": np.arange(size), "quotient_familial": pa.array(qf, mask=~known),
                      "demandeur_emploi": pa.array(rng.random(size) < 0.2, mask=rng.random(size) < 0.1)})
    pq.write_table(table, tmp_path / "in.parquet")
    sql_out, code = run("batch", CANTINE, str(tmp_path / "in.parquet"), "-o", str(tmp_path / "sql.parquet"),
                        "--moteur", "duckdb", "--date", "15/09/2025")
    assert code == 0, sql_out
    assert f"{size} foyer(s) calculé(s) par le moteur SQL" in sql_out and "Répartition de tarif_repas :" in sql_out
    out, code = run("batch", CANTINE, str(tmp_path / "in.parquet"), "-o", str(tmp_path / "np.parquet"),
                    "--date", "15/09/2025")
    assert code == 0, out
    sql, numpy = pq.ParquetFile(tmp_path / "sql.parquet").read(), pq.ParquetFile(tmp_path / "np.parquet").read()
    assert sql.column("id").to_pylist() == list(range(size))
    assert sql.column("tarif_repas").to_pylist() == numpy.column("tarif_repas").to_pylist()
    undetermined = sum(value is None for value in numpy.column("tarif_repas").to_pylist())
    assert undetermined > 0 and f"Foyers sans résultat complet : {undetermined}" in sql_out


@pytest.mark.parametrize(("extra", "message"), [
    (["--moteur", "postgres"], "--moteur postgres demande --dsn"),
    (["--moteur", "duckdb", "--compare", TAUX], "qu'avec --moteur numpy"),
])
def test_engine_usage_errors(tmp_path: Path, extra: list[str], message: str) -> None:
    pq.write_table(pa.table({"quotient_familial": [650]}), tmp_path / "in.parquet")
    out, code = run("batch", CANTINE, str(tmp_path / "in.parquet"), "-o", str(tmp_path / "o.csv"), *extra)
    assert code == 2 and message in out and "Traceback" not in out


def test_auto_engine_streams_only_large_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tarifrules.batch import engines

    pq.write_table(pa.table({"quotient_familial": [650, 1200], "demandeur_emploi": [True, None]}),
                   tmp_path / "in.parquet")
    (tmp_path / "in.csv").write_text("quotient_familial\n650\n", encoding="utf-8")
    assert engines.choose_engine(str(tmp_path / "in.parquet")) == "numpy"
    assert engines.choose_engine(str(tmp_path / "in.csv")) == "numpy"
    assert engines.choose_engine(str(tmp_path / "absent.parquet")) == "numpy"  # NumPy's reader says why
    monkeypatch.setattr(engines, "LARGE_ROWS", 1)
    monkeypatch.setattr(engines, "LARGE_CSV_BYTES", 4)
    assert engines.choose_engine(str(tmp_path / "in.parquet")) == "duckdb"
    assert engines.choose_engine(str(tmp_path / "in.csv")) == "duckdb"
    out, code = run("batch", CANTINE, str(tmp_path / "in.parquet"), "-o", str(tmp_path / "o.parquet"),
                    "--date", "15/09/2025")
    assert code == 0 and "calculé(s) par le moteur SQL" in out


def _population(path: Path, size: int = 300) -> None:
    rng = np.random.default_rng(7)
    qf = rng.integers(0, 3001, size)
    pq.write_table(pa.table({"id": np.arange(size), "quotient_familial": pa.array(qf, mask=rng.random(size) < 0.1),
                             "demandeur_emploi": pa.array(rng.random(size) < 0.3, mask=rng.random(size) < 0.1)}),
                   path)


def test_parquet_results_are_written_slice_by_slice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each slice is a row group written while the next one is computed: same rows, same summary."""
    _population(tmp_path / "in.parquet")
    whole_out, code = run("batch", CANTINE, str(tmp_path / "in.parquet"), "-o", str(tmp_path / "whole.parquet"),
                          "--date", "01/09/2025")
    assert code == 0, whole_out
    monkeypatch.setattr(batch_run, "SLICE", 64)
    sliced_out, code = run("batch", CANTINE, str(tmp_path / "in.parquet"), "-o", str(tmp_path / "sliced.parquet"),
                           "--date", "01/09/2025")
    assert code == 0, sliced_out
    assert sliced_out.replace("sliced", "whole") == whole_out
    assert pq.ParquetFile(tmp_path / "whole.parquet").num_row_groups == 1
    assert pq.ParquetFile(tmp_path / "sliced.parquet").num_row_groups == 5
    sliced, whole = pq.read_table(tmp_path / "sliced.parquet"), pq.read_table(tmp_path / "whole.parquet")
    assert sliced.schema == whole.schema
    assert sliced.to_pylist() == whole.to_pylist()
    assert {"indéterminé", "ok"} <= set(sliced.column("statut").to_pylist())


def test_a_slice_of_other_types_has_the_file_written_at_once(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Amounts with more places in a later slice (rows evaluated one by one) stop the stream: the file
    is then written whole, with one type per column."""
    _population(tmp_path / "in.parquet")
    run("batch", CANTINE, str(tmp_path / "in.parquet"), "-o", str(tmp_path / "whole.parquet"), "--date", "01/09/2025")
    slice_table = batch_run.slice_table
    calls = []

    def more_places_in_the_second(ruleset: tarifrules.RuleSet, rows: pa.Table, part: object) -> pa.Table:
        table = slice_table(ruleset, rows, part)  # type: ignore[arg-type]
        calls.append(table.num_rows)
        if len(calls) == 2:
            index = table.column_names.index("tarif_repas")
            table = table.set_column(index, "tarif_repas", table.column(index).cast(pa.decimal128(38, 3)))
        return table

    monkeypatch.setattr(batch_run, "SLICE", 64)
    monkeypatch.setattr(batch_run, "slice_table", more_places_in_the_second)
    out, code = run("batch", CANTINE, str(tmp_path / "in.parquet"), "-o", str(tmp_path / "out.parquet"),
                    "--date", "01/09/2025")
    assert code == 0, out
    assert len(calls) == 5
    assert pq.ParquetFile(tmp_path / "out.parquet").num_row_groups == 1
    assert pq.read_table(tmp_path / "out.parquet").equals(pq.read_table(tmp_path / "whole.parquet"))


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_results_that_cannot_be_written_exit_2(tmp_path: Path, suffix: str) -> None:
    _population(tmp_path / "in.parquet")
    out, code = run("batch", CANTINE, str(tmp_path / "in.parquet"), "-o", str(tmp_path / "absent" / f"t{suffix}"),
                    "--date", "01/09/2025")
    assert code == 2, out
    assert "impossible d'écrire" in out and "Traceback" not in out
