"""`RuleSet.evaluate_table` agrees with `RuleSet.evaluate`, row by row.

On every example file and on generated rule files (typed expressions built from the
literals of `tests/strategies.py`: grids, `si`/`sinon`, `sauf si`, `à défaut`, limits,
roundings, Kleene logic), with generated tables mixing values, unknowns, text spellings,
refused values and computations that fail (no grid row, division by zero): same status,
same values, same missing data, same error message.
"""

from __future__ import annotations

import datetime
import itertools
import os
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import tarifrules
from tarifrules import RuleSet, TarifError
from tarifrules import nodes as n

from .helpers import EXAMPLES
from .strategies import STEPS, decimals

SCALE = int(os.environ.get("TARIF_FUZZ_SCALE", "1"))
SETTINGS = settings(max_examples=25 * SCALE, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])
FILES = sorted(EXAMPLES.glob("*.tarif"))
RULESETS = {path.name: tarifrules.load(path) for path in FILES}


def french(value: Decimal) -> str:
    return format(value, "f").replace(".", ",")


# ------------------------------------------------------------------ tables


@st.composite
def cells(draw: st.DrawFn, declaration: n.Declaration, as_text: bool) -> Any:
    """One cell of a datum's column: a value, unknown, or a value the reader refuses."""
    spec = declaration.type
    if draw(st.integers(0, 5)) == 0:
        return None
    refused = draw(st.integers(0, 30)) == 0
    match spec.kind:
        case n.Kind.BOOLEEN:
            value = draw(st.booleans())
            return ("peut-être" if refused else "oui" if value else "non") if as_text else value
        case n.Kind.ENUM:
            return "zzz" if refused else draw(st.sampled_from([*spec.choices, "inconnu"]))
        case n.Kind.DATE:
            day = draw(st.dates(datetime.date(2024, 1, 1), datetime.date(2027, 12, 31)))
            return day.strftime("%d/%m/%Y") if as_text else day
    low = int(spec.minimum.value) if spec.minimum else 0
    high = int(spec.maximum.value) if spec.maximum else 3200
    whole = draw(st.one_of(st.integers(low, high), st.integers(low, low + 3), st.integers(0, 10**7)))
    if refused:
        whole = low - 1
    if not as_text:
        return whole
    entier = spec.granularity is n.Granularity.ENTIER
    cents = draw(st.sampled_from(["", "", ",5", ",25", ",125"]) if not entier or refused else st.just(""))
    return "abc" if refused and draw(st.booleans()) else draw(st.sampled_from(
        [f"{whole}{cents}", f"{whole}{cents} €", "", "inconnu"]))


@st.composite
def tables(draw: st.DrawFn, ruleset: RuleSet) -> dict[str, list[Any]]:
    size = draw(st.integers(1, 30))
    table: dict[str, list[Any]] = {}
    for name, declaration in ruleset.symbols.data.items():
        if draw(st.integers(0, 7)) == 0:
            continue  # column absent: unknown everywhere
        as_text = draw(st.booleans())
        table[name] = [draw(cells(declaration, as_text)) for _ in range(size)]
    return table


def row_situation(table: dict[str, list[Any]], row: int) -> dict[str, Any]:
    return {name: values[row] for name, values in table.items()}


def assert_agrees(ruleset: RuleSet, table: dict[str, list[Any]], day: datetime.date) -> None:
    result = ruleset.evaluate_table(table, date=day)
    size = len(next(iter(table.values()))) if table else 0
    for row in range(size):
        situation = row_situation(table, row)
        where = f"ligne {row} : {situation}"
        try:
            evaluation = ruleset.evaluate(situation, date=day)
        except TarifError as exc:
            assert result.statuses()[row] == "erreur", where
            assert result.error(row) == exc.diagnostics[0].message, where
            continue
        undetermined = any(o.status != "value" for o in evaluation.outputs.values())
        assert result.statuses()[row] == ("indéterminé" if undetermined else "ok"), where
        for name, output in evaluation.outputs.items():
            expected = output.value if output.status == "value" else None
            got = result.outputs[name].value(row)
            assert got == expected and type(got) is type(expected), (where, name, got, expected)
        assert result.missing(row) == evaluation.missing, where


def days(ruleset: RuleSet) -> st.SearchStrategy[datetime.date]:
    end = ruleset.valid_until or ruleset.valid_from + datetime.timedelta(days=400)
    return st.dates(ruleset.valid_from, end)


@pytest.mark.parametrize("file", sorted(RULESETS))
@SETTINGS
@given(data=st.data())
def test_examples_agree_with_the_interpreter(file: str, data: st.DataObject) -> None:
    ruleset = RULESETS[file]
    assert_agrees(ruleset, data.draw(tables(ruleset), label="table"), data.draw(days(ruleset), label="date"))


@pytest.mark.parametrize("file", ["restauration-scolaire.tarif", "accueil-loisirs-taux-effort.tarif",
                                  "wavrin-centre-loisirs.tarif", "le-langon-cantine.tarif"])
def test_reference_files_are_vectorised(file: str) -> None:
    ruleset = RULESETS[file]
    result = ruleset.evaluate_table({"quotient_familial": [650, None]}, date=ruleset.valid_from)
    assert result.vectorised


# ------------------------------------------------------------------ generated rule files

HEADER = ('délibération "Généré"\n  applicable à partir du 01/09/2025\n'
          "données\n"
          "  qf : montant entier au minimum 0 €, déclaré par la famille\n"
          "  rev : montant au centime au minimum 0 €, déclaré par la famille\n"
          "  rang : nombre au minimum 1 au plus 9, déclaré par la famille\n"
          "  actif : booléen, déclaré par la famille\n"
          "  choix : parmi (aucun, 1, 2), déclaré par la famille\n"
          "résultats\n"
          "  prix : montant, prix\n"
          "  ok : booléen, condition\n")
START = datetime.date(2025, 9, 1)


def amounts() -> st.SearchStrategy[str]:
    return decimals().filter(lambda d: d < 10**5).map(lambda d: f"{french(d)} €")


@st.composite
def money(draw: st.DrawFn, depth: int = 2, names: tuple[str, ...] = ("qf", "rev", "base")) -> str:
    """A montant expression (text)."""
    leaves = [amounts(), st.sampled_from(names)]
    if depth <= 0:
        return draw(st.one_of(*leaves))
    sub = money(depth - 1, names)
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return f"({draw(sub)} + {draw(sub)})"
    if choice == 1:
        return f"({draw(sub)} − {draw(sub)})"
    if choice == 2:
        rate = draw(st.sampled_from(["50 %", "0,45 %", "3", "1,5", "12,5 %"]))
        return f"({draw(sub)} × {rate})"
    if choice == 3:
        return f"({draw(sub)} / {draw(st.sampled_from(['2', '4', '3', '0', '12', '0,5']))})"
    if choice == 4:
        step = draw(st.sampled_from([*sorted(STEPS), "au multiple de 0,05 €"]))
        direction = draw(st.sampled_from(list(n.Direction)))
        return f"({draw(sub)}, arrondi {step} {direction.value})"
    if choice == 5:
        return f"le {draw(st.sampled_from(['minimum', 'maximum']))} de {draw(sub)} et {draw(sub)}"
    if choice == 6:
        return f"({draw(sub)}, {draw(st.sampled_from(['au minimum', 'au plus']))} {draw(sub)})"
    if choice == 7:
        return f"({draw(sub)} à défaut {draw(sub)})"
    return draw(st.one_of(*leaves))


@st.composite
def condition(draw: st.DrawFn, depth: int = 2) -> str:
    leaves = [
        st.just("actif"),
        st.builds(lambda a, op, b: f"({a} {op} {b})", money(0), st.sampled_from(["<", "≤", ">", "≥", "=", "≠"]),
                  money(0)),
        st.sampled_from(["(choix est 1 ou 2)", "(choix est aucun)", "(rang est 1)", "(rang = 2)", "(rang ≥ 3)",
                         "(qf est connu)", "(actif est inconnu)", "oui", "non"]),
    ]
    if depth <= 0:
        return draw(st.one_of(*leaves))
    sub = condition(depth - 1)
    choice = draw(st.integers(0, 5))
    if choice == 0:
        return f"({draw(sub)} et {draw(sub)})"
    if choice == 1:
        return f"({draw(sub)} ou {draw(sub)})"
    if choice == 2:
        return f"non ({draw(sub)})"
    if choice == 3:
        return f"({draw(sub)} à défaut {draw(st.sampled_from(['oui', 'non']))})"
    return draw(st.one_of(*leaves))


@st.composite
def grid(draw: st.DrawFn) -> str:
    cuts = sorted(set(draw(st.lists(st.integers(1, 3000), min_size=1, max_size=4))))
    lines = [f"moins de {cuts[0]} €"]
    last = "exclu"
    for a, b in itertools.pairwise(cuts):
        last = draw(st.sampled_from(["exclu", "exclu", "inclus"]))
        lines.append(f"de {a} € {'exclu ' if 'inclus' in lines[-1] else ''}à {b} € {last}")
    lines.append(f"{'à partir de' if last == 'exclu' else 'plus de'} {cuts[-1]} €")
    body = [f"    {line} : {draw(money(1, ('qf', 'rev')))}" for line in lines]
    if draw(st.booleans()):
        body.append(f"    à défaut : {draw(money(1, ('qf', 'rev')))}")
    return f"  base : grille selon {draw(st.sampled_from(['qf', 'rev']))}\n" + "\n".join(body) + "\n"


@st.composite
def programs(draw: st.DrawFn) -> str:
    text = HEADER + 'article 1 "Base"\n' + draw(grid()) + 'article 2 "Prix"\n'
    if draw(st.booleans()):
        text += "  prix :\n"
        for i in range(draw(st.integers(1, 3))):
            text += f"    {'si' if i == 0 else 'sinon si'} {draw(condition())} : {draw(money())}\n"
        text += f"    sinon : {draw(money())}\n"
    else:
        text += f"  prix : {draw(money())}\n"
    for _ in range(draw(st.integers(0, 2))):
        text += f"    sauf si {draw(condition())} : {draw(money())}\n"
    text += f"  ok : {draw(condition())}\n"
    if draw(st.booleans()):
        text += f'article 3 "Dérogation"\n  prix : {draw(money())}\n    si {draw(condition())}\n'
        text += "    par dérogation à l'article 2\n"
    return text


@SETTINGS
@given(data=st.data())
def test_generated_files_agree_with_the_interpreter(data: st.DataObject) -> None:
    text = data.draw(programs(), label="fichier")
    try:
        ruleset = tarifrules.load(text)
    except TarifError:
        assume(False)
        raise
    day = START
    assert_agrees(ruleset, data.draw(tables(ruleset), label="table"), day)


# ------------------------------------------------------------------ typed Arrow and NumPy columns

TYPED = ('délibération "Colonnes typées"\n  applicable à partir du 01/09/2025\n'
         "données\n"
         "  qf : montant au centime au minimum 0 €, déclaré par la famille\n"
         "  taux_remise : taux au plus 100 %, déclaré par la famille\n"
         "  inscription : date, déclaré par la famille\n"
         "  echelon : parmi (aucun, 1, 2), déclaré par la famille\n"
         "  interne : booléen, déclaré par la famille\n"
         "résultats\n  prix : montant, prix\n  tot : booléen, inscrit tôt\n"
         'article 1 "Prix"\n'
         "  prix : qf × 1,5 %, au minimum 1,00 €, arrondi au centime le plus proche\n"
         "    sauf si echelon est 1 ou 2 : qf × 1,5 % × taux_remise, arrondi au centime inférieur\n"
         "    sauf si interne : 2,00 €\n"
         "  tot : inscription < 15/09/2025\n")


@SETTINGS
@given(data=st.data())
def test_typed_arrow_columns_agree_with_the_interpreter(data: st.DataObject) -> None:
    import numpy as np
    import pyarrow as pa

    ruleset = tarifrules.load(TYPED)
    size = data.draw(st.integers(1, 25))
    maybe = lambda values: st.lists(st.one_of(st.none(), values), min_size=size, max_size=size)  # noqa: E731
    qf_kind = data.draw(st.sampled_from(["int", "float", "decimal", "masked"]))
    whole = data.draw(maybe(st.integers(-3, 5000)))
    if qf_kind == "int":
        qf = pa.array(whole, type=pa.int64())
    elif qf_kind == "float":
        qf = pa.array([None if v is None else v / 4 for v in whole], type=pa.float64())
    elif qf_kind == "decimal":
        qf = pa.array([None if v is None else Decimal(v) / 100 for v in whole], type=pa.decimal128(12, 2))
    else:
        qf = np.ma.masked_array([v or 0 for v in whole], mask=[v is None for v in whole])
    columns = {
        "qf": qf,
        "taux_remise": pa.array(data.draw(maybe(st.integers(0, 120))), type=pa.int32()),
        "inscription": pa.array(data.draw(maybe(st.dates(datetime.date(2025, 8, 1), datetime.date(2025, 10, 1)))),
                                type=pa.date32()),
        "echelon": pa.array(data.draw(maybe(st.sampled_from(["aucun", "1", "2", "3"]))), type=pa.string()),
        "interne": pa.array(data.draw(maybe(st.booleans())), type=pa.bool_()),
    }
    result = ruleset.evaluate_table(columns, date=START)
    for row in range(size):
        situation = {name: (values[row].as_py() if isinstance(values, pa.Array) else
                            (None if values.mask[row] else int(values.data[row])))
                     for name, values in columns.items()}
        try:
            evaluation = ruleset.evaluate(situation, date=START)
        except TarifError as exc:
            assert result.statuses()[row] == "erreur", situation
            assert result.error(row) == exc.diagnostics[0].message
            continue
        for name, output in evaluation.outputs.items():
            expected = output.value if output.status == "value" else None
            assert result.outputs[name].value(row) == expected, (situation, name)
        assert result.missing(row) == evaluation.missing, situation


# ------------------------------------------------------------------ finding a household's grid row


def _first_holding(value: int, intervals: list[tuple[int, int]]) -> int:
    return next((i for i, (start, end) in enumerate(intervals) if start <= value <= end), -1)


@st.composite
def _intervals(draw: st.DrawFn) -> list[tuple[int, int]]:
    """Grid rows as integer intervals: in order and touching, in order with gaps, or overlapping;
    few rows (compared in int8) or many (binary search); open at either end or not."""
    from tarifrules.columnar.compiler import INT_MAX, INT_MIN

    count = draw(st.integers(0, 40))
    cuts = sorted(draw(st.lists(st.integers(-1000, 1000), min_size=count + 1, max_size=count + 1, unique=True)))
    shape = draw(st.sampled_from(["touching", "gaps", "overlapping"]))
    rows = []
    for low, high in itertools.pairwise(cuts):
        end = high - 1 if shape == "touching" else high - 1 - draw(st.integers(0, 3)) if shape == "gaps" \
            else high + draw(st.integers(0, 50))
        rows.append((low, max(low, end)))
    if rows and draw(st.booleans()):
        rows[0] = (INT_MIN, rows[0][1])
    if rows and draw(st.booleans()):
        rows[-1] = (rows[-1][0], INT_MAX)
    return rows


@settings(max_examples=300, deadline=None)
@given(_intervals(), st.lists(st.integers(-1100, 1100), max_size=50))
def test_a_households_grid_row_is_the_first_that_holds_it(intervals: list[tuple[int, int]],
                                                           values: list[int]) -> None:
    import numpy as np

    from tarifrules.columnar.compiler import ColumnEvaluator

    column = np.array(values + [s for s, _ in intervals] + [e for _, e in intervals], dtype=np.int64)
    found = ColumnEvaluator._match(column, [(s, e, None, None) for s, e in intervals])  # type: ignore[misc]
    assert found.tolist() == [_first_holding(int(v), intervals) for v in column]
