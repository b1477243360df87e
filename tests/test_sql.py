"""`tarifrules sql`: dialects from one tree, refusals with stable codes, errors per row, run_sql."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import sqlglot
from click.testing import CliRunner

import tarifrules
from tarifrules.cli import cli
from tarifrules.diagnostics import TarifError
from tarifrules.sql import DIALECTS, compile_query, run_sql, to_sql

from .helpers import EXAMPLES

FILES = sorted(EXAMPLES.glob("*.tarif"))
HEADER = """\
délibération "Essai"
  collectivité : "Commune d'Essai"
  applicable à partir du 01/01/2025
  note : "montants fictifs"

"""


def load(body: str) -> tarifrules.RuleSet:
    return tarifrules.load(HEADER + body, file="essai.tarif")


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_dialect_reads_back_as_the_same_tree(path: Path, dialect: str) -> None:
    ruleset = tarifrules.load(path)
    text = to_sql(ruleset, dialect=dialect, date=ruleset.valid_from)
    tree = sqlglot.parse_one(text.rstrip(";"), read=dialect)
    assert tree.sql(dialect=dialect, pretty=True) + ";" == text
    upper = text.upper()
    assert "DOUBLE" not in upper and "FLOAT" not in upper and "ROUND(" not in upper


def test_spark_and_trino_say_the_same_as_duckdb() -> None:
    """Both read back into the DuckDB dialect and give the evaluator's tariffs there."""
    ruleset = tarifrules.load(EXAMPLES / "accueil-loisirs-taux-effort.tarif")
    con = duckdb.connect()
    con.execute("CREATE TABLE menages AS SELECT * FROM (VALUES (0), (190), (650), (1001), (NULL)) t(quotient_familial)")
    # Spark's query stops by RAISE_ERROR if Spark would round decimals; DuckDB multiplies exactly: never reached
    con.execute("CREATE MACRO raise_error(message) AS error(message)")
    expected = [ruleset.evaluate({"quotient_familial": q}, date="01/09/2025").outputs["tarif_journee"].value
                for q in (0, 190, 650, 1001, None)]
    for dialect in ("spark", "trino"):
        text = to_sql(ruleset, dialect=dialect, date="01/09/2025").rstrip(";")
        duck = sqlglot.transpile(text, read=dialect, write="duckdb")[0]
        got = [row[1] for row in con.execute(duck).fetchall()]
        assert got == expected


def test_the_cli_prints_the_query() -> None:
    result = CliRunner().invoke(cli, ["sql", str(EXAMPLES / "restauration-scolaire.tarif"), "--dialect", "postgres",
                                      "--table", "public.foyers", "--date", "15/09/2025", "--garder", "id"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("WITH _controles AS (\n")
    assert '\nSELECT\n  "id",\n  "quotient_familial"' in result.output
    assert "FROM public.foyers" in result.output and result.output.rstrip().endswith(";")


def test_the_cli_refuses_an_unknown_dialect() -> None:
    result = CliRunner().invoke(cli, ["sql", str(EXAMPLES / "restauration-scolaire.tarif"), "--dialect", "mysql"])
    assert result.exit_code == 2


def test_unknown_dialect_is_q001() -> None:
    ruleset = tarifrules.load(EXAMPLES / "restauration-scolaire.tarif")
    with pytest.raises(TarifError) as caught:
        compile_query(ruleset, dialect="mysql", date="15/09/2025")
    assert caught.value.diagnostics[0].code == "Q001"


def test_a_step_without_a_decimal_inverse_is_refused() -> None:
    ruleset = load("""données
  x : montant, déclaré par la famille

résultats
  y : montant

article 1 "Arrondi"
  y : x, arrondi au multiple de 0,03 € le plus proche
""")
    with pytest.raises(TarifError) as caught:
        to_sql(ruleset)
    assert caught.value.diagnostics[0].code == "Q002"
    assert "0,03" in caught.value.diagnostics[0].message


def test_a_reserved_name_is_refused() -> None:
    ruleset = load("""données
  statut : booléen, déclaré par la famille

résultats
  y : montant

article 1 "Un"
  y : 1,00 €
    sauf si statut : 2,00 €
""")
    with pytest.raises(TarifError) as caught:
        to_sql(ruleset)
    assert caught.value.diagnostics[0].code == "Q005"


def test_rows_the_evaluator_refuses_carry_their_code() -> None:
    ruleset = load("""données
  revenus : montant entier, déclaré par la famille
  parts : nombre, déclaré par la famille
  zone : parmi (a, b), déclaré par la famille

résultats
  par_part : montant
  tarif : montant

article 1 "Division"
  par_part : revenus / parts, arrondi au centime inférieur

article 2 "Zone"
  tarif :
    si zone est a : 1,00 €
    sinon : 2,00 €
""")
    con = duckdb.connect()
    con.execute("CREATE TABLE menages (revenus DECIMAL(10, 2), parts INTEGER, zone VARCHAR)")
    con.execute("INSERT INTO menages VALUES (1000, 0, 'a'), (1000, 3, 'b'), (1000.5, 3, 'a'), (1000, 3, 'c'), "
                "(NULL, 0, 'a'), (1000, 3, 'a')")
    rows = run_sql(ruleset, "menages", connection=con, date="01/02/2025").rows
    statuses = [row[-1] for row in rows]
    assert statuses[0].startswith("erreur E002")
    assert statuses[1] is None and rows[1][4] == Decimal("2.00")
    assert statuses[2].startswith("erreur D004")
    assert statuses[3].startswith("erreur D007")
    assert statuses[4] == "manque : revenus"  # unknown first: no division, as in eval
    assert rows[5][3:] == (Decimal("333.33"), Decimal("1.00"), None)
    for row, (revenus, parts, zone) in zip(rows, [(1000, 0, "a"), (1000, 3, "b"), ("1000.5", 3, "a"),
                                                 (1000, 3, "c"), (None, 0, "a"), (1000, 3, "a")], strict=True):
        situation = {k: v for k, v in {"revenus": revenus, "parts": parts, "zone": zone}.items() if v is not None}
        try:
            evaluation = ruleset.evaluate(situation, date="01/02/2025")
        except TarifError as exc:
            assert row[-1].startswith(f"erreur {exc.diagnostics[0].code}")
        else:
            assert [o.value for o in evaluation.outputs.values()] == list(row[3:5])


def test_run_sql_reads_a_parquet_file(tmp_path: Path) -> None:
    ruleset = tarifrules.load(EXAMPLES / "restauration-scolaire.tarif")
    file = tmp_path / "foyers.parquet"
    duckdb.execute(f"COPY (SELECT * FROM (VALUES (1, 650, true), (2, NULL, false)) "
                   f"t(id, quotient_familial, demandeur_emploi)) TO '{file}' (FORMAT parquet)")
    result = run_sql(ruleset, file, date="15/09/2025", keep=("id",))
    assert result.columns == ("id", "quotient_familial", "demandeur_emploi", "tarif_repas", "statut")
    assert result.rows == [(1, 650, True, Decimal("1.05"), None), (2, None, False, Decimal("5.40"), None)]


def test_run_sql_says_what_went_wrong(tmp_path: Path) -> None:
    ruleset = tarifrules.load(EXAMPLES / "restauration-scolaire.tarif")
    with pytest.raises(TarifError) as caught:
        run_sql(ruleset, tmp_path / "absent.parquet", date="15/09/2025")
    assert caught.value.diagnostics[0].code == "Q008"
    with pytest.raises(TarifError) as caught:
        run_sql(ruleset, "table_absente", date="15/09/2025")
    assert caught.value.diagnostics[0].code == "Q007"
    with pytest.raises(TarifError) as caught:
        run_sql(ruleset, "menages", engine="oracle")
    assert caught.value.diagnostics[0].code == "Q001"


def test_run_sql_on_postgres_without_a_server_is_q007() -> None:
    pytest.importorskip("psycopg")
    ruleset = tarifrules.load(EXAMPLES / "restauration-scolaire.tarif")
    with pytest.raises(TarifError) as caught:
        run_sql(ruleset, "menages", engine="postgres", dsn="host=/nonexistent port=1 connect_timeout=1",
                date="15/09/2025")
    assert caught.value.diagnostics[0].code == "Q007"


def test_a_grid_open_at_both_ends_leaves_an_unknown_selector_unknown() -> None:
    """`moins de` then `à partir de`: the second WHEN tests nothing but that the value is known."""
    ruleset = load("""données
  qf : montant entier, déclaré par la famille

résultats
  tarif : montant

article 1 "Grille"
  tarif : grille selon qf
    moins de 400 €    : 1,00 €
    à partir de 400 € : 2,00 €
""")
    con = duckdb.connect()
    con.execute("CREATE TABLE menages AS SELECT * FROM (VALUES (399), (400), (NULL)) t(qf)")
    rows = run_sql(ruleset, "menages", connection=con, date="01/02/2025").rows
    assert rows == [(399, Decimal("1.00"), None), (400, Decimal("2.00"), None), (None, None, "manque : qf")]
