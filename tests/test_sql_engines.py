"""The generated SQL gives the Python evaluator's results on DuckDB and on a real PostgreSQL.

For every example file: 100 000 generated households (`sql_households`: edge values at
grid bounds, half-cent ties, unknown data, refused values), loaded into the engine (DuckDB
from Arrow, PostgreSQL by COPY), computed by `tarifrules.sql`'s query and compared in bulk
with `RuleSet.evaluate_table`: zero differences, on every output and on `statut`. The
reference itself is compared with the interpreter (`RuleSet.interpret`) on a random sample.
TARIFRULES_SLOW=1: 1 000 000 households per file, and the interpreter on 100 000 of them.

A rule file of rounding ties (positive and negative halves, every mode, a quotient
rounded half-up) is checked the same way on both engines.
"""

from __future__ import annotations

import datetime
import functools
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import tarifrules
from tarifrules import nodes as n
from tarifrules.ruleset import RuleSet

from .helpers import EXAMPLES
from .postgres_server import SKIP_REASON, binaries, postgres_cluster
from .sql_households import household_table, places
from .sql_reference import Expected, differences_in_bulk, expected, sample_differences
from .sql_runners import rows_table, run_duckdb, run_postgres
from .sql_support import HOUSEHOLDS, SAMPLE, TIES, differences, evaluation_day, literals

FILES = sorted(EXAMPLES.glob("*.tarif"))


@functools.cache
def reference(path: Path) -> Expected:
    """The households of a file and what the query must give them (computed once for both engines)."""
    ruleset = tarifrules.load(path)
    return expected(ruleset, household_table(ruleset, HOUSEHOLDS), evaluation_day(ruleset))


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


def shown(found: list[str]) -> str:
    return "différences avec l'évaluateur :\n" + "\n".join(found[:40])


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_the_households_reach_the_edges(path: Path) -> None:
    """Unknown and refused values, every number the file writes, half cents: what the comparison relies on."""
    wanted = reference(path)
    assert any(s.startswith("erreur ") for s in wanted.status.drop_null().to_pylist())
    written = literals(wanted.ruleset)
    for declaration in wanted.ruleset.program.data:
        column = wanted.table.column(declaration.name)
        assert column.null_count > 0, declaration.name
        if declaration.type.kind in (n.Kind.BOOLEEN, n.Kind.ENUM, n.Kind.DATE):
            continue
        values = set(column.drop_null().to_pylist())
        step = Decimal(1).scaleb(-places(declaration.type))
        low, high = declaration.type.minimum, declaration.type.maximum
        reachable = [v for v in written if v % step == 0 and v >= (low.value if low else 0)
                     and (high is None or v <= high.value)]
        assert not set(reachable) - values, declaration.name
        if step < Decimal("0.01"):
            assert any(v % Decimal("0.01") == Decimal("0.005") for v in values), declaration.name


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_the_reference_is_the_interpreter(path: Path) -> None:
    """`evaluate_table` (the reference of the engines) agrees with `RuleSet.interpret` on a random sample."""
    wanted = reference(path)
    found = sample_differences(wanted, SAMPLE)
    assert not found, shown(found)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_duckdb_matches_the_evaluator(path: Path) -> None:
    wanted = reference(path)
    found = differences_in_bulk(wanted, run_duckdb(wanted.ruleset, wanted.table, wanted.day))
    assert not found, shown(found)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_postgres_matches_the_evaluator(path: Path, postgres_dsn: str) -> None:
    wanted = reference(path)
    found = differences_in_bulk(wanted, run_postgres(postgres_dsn, wanted.ruleset, wanted.table, wanted.day))
    assert not found, shown(found)


SPARK_DIVISIONS = [(10**38 - 1, 1), (10**38 - 1, 7), (10**38 - 1, 10**19 - 1), (10**38 - 1, 10**19),
                   (10**38 - 1, 10**38 - 2), (12_345_678_901_234_567_890_123_456_789, 12), (2 * 10**25, 3_932_132_000),
                   (5, 7), (0, 3), (10**19 * 7 + 6, 7)]


def test_the_spark_division_in_halves_is_exact(postgres_dsn: str) -> None:
    """The algebra of Spark's integer division (two halves of 19 digits), run on PostgreSQL's exact NUMERIC."""
    import psycopg
    from sqlglot import exp

    from tarifrules.sql import numeric

    quotient = numeric.trunc_div(exp.column("n"), exp.column("d"), "spark").sql("postgres")
    rows = ", ".join(f"(CAST({a} AS NUMERIC(38, 0)), CAST({b} AS NUMERIC(38, 0)))" for a, b in SPARK_DIVISIONS)
    with psycopg.connect(postgres_dsn) as con:
        got = [row[0] for row in con.execute(f"SELECT {quotient} FROM (VALUES {rows}) AS t(n, d)")]  # type: ignore
    assert got == [Decimal(a // b) for a, b in SPARK_DIVISIONS]


def compare(ruleset: RuleSet, got: pa.Table, rows: list[dict[str, Any]], day: datetime.date) -> list[str]:
    """Written rows, one by one, against `RuleSet.evaluate`."""
    assert got.num_rows == len(rows)
    return differences(ruleset, rows, dict(enumerate(got.to_pylist())), day)


TIE_VALUES = ["0.005", "0.015", "0.025", "4.995", "5.005", "5.015", "5.025", "2.5", "7.5", "3.5", "6.5", "5.075",
              "4.925", "0.125", "9.995", "5", "0", "4.994", "5.006", "5.0249", "4.9751"]
DIVISORS = ["1", "2", "3", "4", "8", "1.5", "7", "12"]


def tie_rows() -> list[dict[str, Any]]:
    return [{"x": Decimal(x), "d": Decimal(d)} for x in TIE_VALUES for d in DIVISORS] + [{"x": None, "d": Decimal(2)}]


@pytest.fixture(scope="module")
def ties() -> RuleSet:
    return tarifrules.load(TIES, file="arrondis.tarif")


def test_ties_on_duckdb(ties: RuleSet) -> None:
    day = evaluation_day(ties)
    rows = tie_rows()
    assert not compare(ties, run_duckdb(ties, rows_table(ties, rows), day), rows, day)


def test_ties_on_postgres(ties: RuleSet, postgres_dsn: str) -> None:
    day = evaluation_day(ties)
    rows = tie_rows()
    assert not compare(ties, run_postgres(postgres_dsn, ties, rows_table(ties, rows), day), rows, day)


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
    got = run_duckdb(ruleset, rows_table(ruleset, rows), day)
    assert not compare(ruleset, got, rows, day)
    unknown = [r for r in got.to_pylist() if r["aide"] is None and r["boursier"] is not None and r["échelon"]]
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
