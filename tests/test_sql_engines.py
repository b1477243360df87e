"""The generated SQL gives the Python evaluator's results on DuckDB and on a real PostgreSQL.

For every example file: generated households (a few thousand; 100 000 with
TARIFRULES_SLOW=1), unknown data and refused values included, loaded into the engine,
computed by `tarifrules.sql`'s query and by `RuleSet.evaluate`: zero differences, on every
output and on `statut`. A rule file of rounding ties (positive and negative halves, every
mode, a quotient rounded half-up) is checked the same way on both engines.
"""

from __future__ import annotations

import datetime
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import tarifrules
from tarifrules.ruleset import RuleSet
from tarifrules.sql import to_sql

from .helpers import EXAMPLES
from .postgres_server import SKIP_REASON, binaries, postgres_cluster
from .sql_support import HOUSEHOLDS, column_types, differences, evaluation_day, households, write_csv

FILES = sorted(EXAMPLES.glob("*.tarif"))

Runner = Callable[[RuleSet, Path, datetime.date], dict[int, dict[str, Any]]]


def run_duckdb(ruleset: RuleSet, csv_file: Path, day: datetime.date) -> dict[int, dict[str, Any]]:
    import duckdb

    con = duckdb.connect()
    try:
        columns = ", ".join(f"'{name}': '{kind}'" for name, kind in column_types(ruleset).items())
        con.execute(f"CREATE TABLE menages AS SELECT * FROM read_csv('{csv_file}', header = true, "
                    f"columns = {{{columns}}}, nullstr = '')")
        cursor = con.execute(to_sql(ruleset, dialect="duckdb", date=day, keep=("__id",)))
        names = [d[0] for d in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
    finally:
        con.close()


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    if binaries() is None:
        pytest.skip(SKIP_REASON)
    pytest.importorskip("psycopg", reason="pilote psycopg absent : pip install -e '.[dev]'")
    try:
        with postgres_cluster() as dsn:
            yield dsn
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:  # pragma: no cover - cannot start one
        pytest.skip(f"PostgreSQL ne démarre pas ici : {exc}")


def postgres_runner(dsn: str) -> Runner:
    def run(ruleset: RuleSet, csv_file: Path, day: datetime.date) -> dict[int, dict[str, Any]]:
        import psycopg

        types = {"DECIMAL(24, 6)": "NUMERIC(24, 6)", "BIGINT": "BIGINT", "BOOLEAN": "BOOLEAN", "DATE": "DATE",
                 "VARCHAR": "VARCHAR"}
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute("DROP TABLE IF EXISTS menages")
            columns = ", ".join(f'"{name}" {types[kind]}' for name, kind in column_types(ruleset).items())
            con.execute(f"CREATE TABLE menages ({columns})")  # type: ignore[arg-type]
            with con.cursor() as cursor, cursor.copy("COPY menages FROM STDIN (FORMAT csv, HEADER true)") as copy:
                copy.write(csv_file.read_bytes())
            cursor = con.execute(to_sql(ruleset, dialect="postgres", date=day, keep=("__id",)))  # type: ignore
            names = [d.name for d in cursor.description or ()]
            return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}

    return run


def compare(ruleset: RuleSet, run: Runner, rows: list[dict[str, Any]]) -> list[str]:
    day = evaluation_day(ruleset)
    with tempfile.TemporaryDirectory() as folder:
        csv_file = Path(folder) / "menages.csv"
        write_csv(ruleset, rows, csv_file)
        result = run(ruleset, csv_file, day)
    assert len(result) == len(rows)
    return differences(ruleset, rows, result, day)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_duckdb_matches_the_evaluator(path: Path) -> None:
    ruleset = tarifrules.load(path)
    found = compare(ruleset, run_duckdb, list(households(ruleset, HOUSEHOLDS)))
    assert not found, f"{len(found)} différence(s) : " + "\n".join(found[:10])


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_postgres_matches_the_evaluator(path: Path, postgres_dsn: str) -> None:
    ruleset = tarifrules.load(path)
    found = compare(ruleset, postgres_runner(postgres_dsn), list(households(ruleset, HOUSEHOLDS)))
    assert not found, f"{len(found)} différence(s) : " + "\n".join(found[:10])


TIES = """\
délibération "Arrondis aux demis"
  collectivité : "Commune d'Essai"
  applicable à partir du 01/01/2025
  note : "montants fictifs"

données
  x : décimal, déclaré par la famille
  d : décimal au minimum 1, déclaré par la famille

résultats
  proche : montant, arrondi au centime le plus proche
  dessous : montant, arrondi au centime inférieur
  dessus : montant, arrondi au centime supérieur
  cinq : montant, arrondi aux 5 centimes
  euro : montant, arrondi à l'euro
  quotient : montant, quotient arrondi
  brut : montant, quotient non arrondi

article 1 "Arrondis"
  ecart : (x − 5) × 1 €
  proche : ecart, arrondi au centime le plus proche
  dessous : ecart, arrondi au centime inférieur
  dessus : ecart, arrondi au centime supérieur
  cinq : ecart, arrondi au multiple de 0,05 € le plus proche
  euro : ecart, arrondi à l'euro le plus proche
  quotient : ecart / d, arrondi au centime le plus proche
  brut : ecart / d
"""

TIE_VALUES = ["0.005", "0.015", "0.025", "4.995", "5.005", "5.015", "5.025", "2.5", "7.5", "3.5", "6.5", "5.075",
              "4.925", "0.125", "9.995", "5", "0", "4.994", "5.006", "5.0249", "4.9751"]
DIVISORS = ["1", "2", "3", "4", "8", "1.5", "7", "12"]


def tie_rows() -> list[dict[str, Any]]:
    return [{"x": Decimal(x), "d": Decimal(d)} for x in TIE_VALUES for d in DIVISORS] + [{"x": None, "d": Decimal(2)}]


@pytest.fixture(scope="module")
def ties() -> RuleSet:
    return tarifrules.load(TIES, file="arrondis.tarif")


def test_ties_on_duckdb(ties: RuleSet) -> None:
    assert not compare(ties, run_duckdb, tie_rows())


def test_ties_on_postgres(ties: RuleSet, postgres_dsn: str) -> None:
    assert not compare(ties, postgres_runner(postgres_dsn), tie_rows())


def test_the_ties_are_really_ties(ties: RuleSet) -> None:
    """The rows above do contain halves, for every rounding mode (else the test proves little)."""
    evaluation = ties.evaluate({"x": "5.005", "d": 1}, date="01/01/2025")
    assert evaluation.outputs["proche"].value == Decimal("0.01")
    assert evaluation.outputs["dessous"].value == Decimal("0.00")
    evaluation = ties.evaluate({"x": "4.995", "d": 1}, date="01/01/2025")
    assert evaluation.outputs["proche"].value == Decimal("-0.01")  # halves away from zero
    assert evaluation.outputs["dessus"].value == Decimal("0.00")
    assert ties.evaluate({"x": "7.5", "d": 1}, date="01/01/2025").outputs["euro"].value == Decimal(3)


MID_OCTOBER = """\
délibération "Aide aux boursiers"
  collectivité : "Commune d'Essai"
  applicable à partir du 01/09/2025
  note : "montants fictifs"

données
  boursier : booléen, élève boursier
  échelon : parmi (aucun, 1, 2, 3), échelon de bourse collège

résultats
  aide : montant, aide annuelle

article 1 "Aide"
  aide :
    si échelon est 3 : 200,00 €
    sinon si échelon est 1 ou 2 : 100,00 €
    sinon si boursier : 50,00 €
    sinon : 0,00 €
"""


@pytest.mark.parametrize("day", [datetime.date(2025, 9, 15), datetime.date(2025, 11, 15)])
def test_a_negative_answer_before_mid_october_is_unknown_in_sql_too(day: datetime.date) -> None:
    ruleset = tarifrules.load(MID_OCTOBER, file="boursiers.tarif")
    rows = [{"boursier": b, "échelon": e} for b in (True, False, None) for e in ("aucun", "1", "3", None)]
    with tempfile.TemporaryDirectory() as folder:
        csv_file = Path(folder) / "menages.csv"
        write_csv(ruleset, rows, csv_file)
        result = run_duckdb(ruleset, csv_file, day)
    assert not differences(ruleset, rows, result, day)
    unknown = [r for r in result.values() if r["aide"] is None and r["boursier"] is not None and r["échelon"]]
    assert bool(unknown) is (day.month == 9)  # « non, aucun » is not an answer yet in September


def test_batch_on_postgres_gives_the_evaluator_results(postgres_dsn: str, tmp_path: Path) -> None:
    """`tarifrules batch --moteur postgres --dsn …`: ENTREE is a table of the database."""
    import contextlib
    import io

    import psycopg

    from tarifrules.cli import main

    with psycopg.connect(postgres_dsn, autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS foyers_batch")
        con.execute("CREATE TABLE foyers_batch (quotient_familial BIGINT, demandeur_emploi BOOLEAN)")
        con.execute("INSERT INTO foyers_batch VALUES (650, true), (650, NULL), (NULL, true), (399, NULL)")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), pytest.raises(SystemExit) as done:
        main(["batch", str(EXAMPLES / "restauration-scolaire.tarif"), "foyers_batch",
              "-o", str(tmp_path / "out.csv"), "--moteur", "postgres", "--dsn", postgres_dsn, "--date", "15/09/2025"])
    assert done.value.code == 0, buffer.getvalue()
    lines = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[1:]
    tariffs = [line.split(",")[2] for line in lines]
    assert [t.rstrip("0") for t in tariffs] == ["1.05", "", "5.4", "1."]
    assert "Foyers sans résultat complet : 1" in buffer.getvalue()
