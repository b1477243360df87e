"""Properties of the evaluator, on generated rule files, against references computed here.

* monotone grids: every QF gets the amount of the row whose interval contains it (the
  interval logic is recomputed in the test), the result never decreases when the QF
  rises, an unknown QF gets the `à défaut` row or `indéterminé` for want of the QF;
* three-valued logic: `et` / `ou` / `non` over booleans, some unknown, follow Kleene's
  logic; an unknown condition whose two branches agree gives their common amount;
* tracing (explanations) never changes a value; `missing` only names data that can
  settle an unknown output.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tarifrules
from tarifrules import Evaluation, RuleSet

SCALE = int(os.environ.get("TARIF_FUZZ_SCALE", "1"))
SETTINGS = settings(max_examples=60 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
START = "01/09/2025"
HEADER = f'délibération "Propriétés"\n  applicable à partir du {START}\n'
FAMILY = "déclaré par la famille"  # data bound to the catalogue: no T060 warning


def french(amount: Decimal, places: int = 2) -> str:
    """`Decimal('1234.5')` → `1 234,50` (written here, not with the library's formatter)."""
    whole, _, fraction = f"{amount:.{places}f}".partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return " ".join(groups) + (f",{fraction}" if fraction else "")


def load(text: str) -> RuleSet:
    ruleset = tarifrules.load(text)
    assert ruleset.warnings == (), [d.message for d in ruleset.warnings]
    return ruleset


# ------------------------------------------------------------------ monotone grids


@dataclass(frozen=True)
class Row:
    low: Decimal | None
    low_in: bool
    high: Decimal | None
    high_in: bool
    amount: Decimal
    text: str

    def contains(self, value: Decimal) -> bool:
        above = self.low is None or value > self.low or (value == self.low and self.low_in)
        below = self.high is None or value < self.high or (value == self.high and self.high_in)
        return above and below


@dataclass(frozen=True)
class GridCase:
    granularity: str  # "entier" | "au centime"
    step: Decimal
    rows: tuple[Row, ...]
    default: Decimal | None
    text: str

    @property
    def thresholds(self) -> list[Decimal]:
        return sorted({b for r in self.rows for b in (r.low, r.high) if b is not None})

    def expected(self, value: Decimal) -> Decimal:
        matching = [row.amount for row in self.rows if row.contains(value)]
        assert len(matching) == 1, (value, self.text)  # the generator leaves no gap, no overlap
        return matching[0]


def euros(value: Decimal, step: Decimal, grouped: bool) -> str:
    places = 0 if step == 1 else 2
    text = french(value, places)
    return (text if grouped else text.replace(" ", "")) + " €"


@st.composite
def monotone_grids(draw: st.DrawFn, granularity: str | None = None) -> GridCase:
    granularity = granularity or draw(st.sampled_from(["entier", "au centime"]))
    step = Decimal(1) if granularity == "entier" else Decimal("0.01")
    scale = 1 if granularity == "entier" else 100
    count = draw(st.integers(0, 5))  # number of thresholds (0: a single row for every value)
    gaps = draw(st.lists(st.integers(3 * scale, 600 * scale), min_size=count, max_size=count))
    thresholds = [Decimal(sum(gaps[: i + 1])) / scale for i in range(count)]
    cents = sorted(draw(st.lists(st.integers(0, 1000), min_size=count + 1, max_size=count + 1)))
    amounts = [Decimal(c) / 100 for c in cents]
    # How each threshold splits its two rows: "bas" (it opens the upper row), "haut" (it closes the
    # lower row, the upper row starts « exclu »), "pas" (it closes the lower row, the upper row
    # starts one step further: no gap at the datum's granularity).
    styles = draw(st.lists(st.sampled_from(["bas", "haut", "pas"]), min_size=count, max_size=count))
    grouped = draw(st.booleans())
    show = lambda v: euros(v, step, grouped)  # noqa: E731
    rows: list[Row] = []
    for i in range(count + 1):
        amount = amounts[i]
        low = high = None
        low_in = high_in = False
        if i > 0:
            t, style = thresholds[i - 1], styles[i - 1]
            low, low_in = (t + step, True) if style == "pas" else (t, style == "bas")
        if i < count:
            high, high_in = thresholds[i], styles[i] != "bas"
        if low is None and high is None:
            bound = f"à partir de {show(Decimal(0))}"
            low, low_in = Decimal(0), True
        elif low is None:
            assert high is not None
            bound = (draw(st.sampled_from([f"moins de {show(high)}", f"jusqu'à {show(high)} exclu"]))
                     if not high_in else f"jusqu'à {show(high)} inclus")
        elif high is None:
            bound = f"à partir de {show(low)}" if low_in else draw(
                st.sampled_from([f"plus de {show(low)}", f"au-delà de {show(low)}"]))
        else:
            start = f"de {show(low)}" + (draw(st.sampled_from(["", " inclus"])) if low_in else " exclu")
            bound = f"{start} à {show(high)} {'inclus' if high_in else 'exclu'}"
        rows.append(Row(low, low_in, high, high_in, amount, f"{bound} : {french(amount)} €"))
    default = draw(st.one_of(st.none(), st.integers(0, 1000).map(lambda c: Decimal(c) / 100)))
    order = draw(st.permutations(range(len(rows))))  # rows may be written in any order
    lines = [rows[i].text for i in order]
    if default is not None:
        lines.insert(draw(st.integers(0, len(lines))), f"à défaut : {french(default)} €")
    text = (HEADER + f"données\n  quotient_familial : montant {granularity}, quotient familial, {FAMILY}\n"
            "résultats\n  tarif : montant, prix\n"
            'article 1 "Grille"\n  tarif : grille selon quotient_familial\n'
            + "".join(f"    {line}\n" for line in lines))
    return GridCase(granularity, step, tuple(rows), default, text)


def amount_of(ruleset: RuleSet, qf: Any) -> tuple[str, Any, tuple[str, ...]]:
    evaluation = ruleset.evaluate({"quotient_familial": qf}, date=START)
    output = evaluation.outputs["tarif"]
    return output.status, output.value, evaluation.missing


def domain_points(grid: GridCase, extra: list[Decimal]) -> list[Decimal]:
    """For whole euros: every value up to past the last threshold; for cents: each threshold's
    neighbourhood and random values."""
    last = grid.thresholds[-1] if grid.thresholds else Decimal(0)
    if grid.granularity == "entier":
        return [Decimal(v) for v in range(int(last) + 3)]
    points = {Decimal(0), *extra}
    for t in grid.thresholds:
        points.update(t + k * grid.step for k in (-2, -1, 0, 1, 2))
    return sorted(p for p in points if p >= 0)


@SETTINGS
@given(monotone_grids(), st.lists(st.integers(0, 400_000), max_size=40))
def test_monotone_grid_gives_each_value_its_row(grid: GridCase, extra_cents: list[int]) -> None:
    ruleset = load(grid.text)
    points = domain_points(grid, [Decimal(c) / 100 for c in extra_cents])
    previous = None
    for qf in points:  # increasing
        status, value, missing = amount_of(ruleset, qf)
        assert status == "value" and missing == ()
        assert value == grid.expected(qf), (qf, grid.text)
        assert previous is None or value >= previous, (qf, grid.text)
        previous = value
    # the same values whatever the spelling of the QF
    for qf in points[:: max(1, len(points) // 20)]:
        spelled = french(qf, 0 if grid.granularity == "entier" else 2)
        assert amount_of(ruleset, spelled)[1] == amount_of(ruleset, qf)[1]


@SETTINGS
@given(monotone_grids())
def test_unknown_qf_gets_the_default_row_or_is_undetermined(grid: GridCase) -> None:
    ruleset = load(grid.text)
    for situation in ({}, {"quotient_familial": None}, {"quotient_familial": "inconnu"}):
        evaluation = ruleset.evaluate(situation, date=START)
        output = evaluation.outputs["tarif"]
        if grid.default is None:
            assert (output.status, output.value) == ("unknown", None)
            assert evaluation.missing == ("quotient_familial",)
            assert evaluation.missing_for("tarif") == ("quotient_familial",)
        else:
            assert (output.status, output.value) == ("value", grid.default)
            assert evaluation.missing == ()


# ------------------------------------------------------------------ three-valued logic

Formula = Any  # a name, ("non", f), ("et", f, g) or ("ou", f, g)


def formulas(names: list[str]) -> st.SearchStrategy[Formula]:
    return st.recursive(
        st.sampled_from(names),
        lambda inner: st.one_of(
            st.tuples(st.just("non"), inner),
            st.tuples(st.sampled_from(["et", "ou"]), inner, inner),
        ),
        max_leaves=6,
    )


def written(formula: Formula) -> str:
    if isinstance(formula, str):
        return formula
    if formula[0] == "non":
        return f"non {written(formula[1])}"
    return f"({written(formula[1])} {formula[0]} {written(formula[2])})"


def kleene(formula: Formula, values: dict[str, bool | None]) -> bool | None:
    """Strong Kleene logic, None for unknown."""
    if isinstance(formula, str):
        return values.get(formula)
    if formula[0] == "non":
        inner = kleene(formula[1], values)
        return None if inner is None else not inner
    a, b = kleene(formula[1], values), kleene(formula[2], values)
    if formula[0] == "et":
        if a is False or b is False:
            return False
        return True if a is True and b is True else None
    if a is True or b is True:
        return True
    return False if a is False and b is False else None


def names_in(formula: Formula) -> set[str]:
    if isinstance(formula, str):
        return {formula}
    return set().union(*(names_in(part) for part in formula[1:]))


AMOUNTS = ["1,00", "2,10", "1,00", "0,00"]


@SETTINGS
@given(st.integers(2, 3).flatmap(lambda count: formulas(["a", "b", "c"][:count])),
       st.sampled_from(AMOUNTS), st.sampled_from(AMOUNTS))
def test_conditions_follow_kleene_logic(formula: Formula, then: str, other: str) -> None:
    names = sorted(names_in(formula))
    condition = written(formula)
    text = (HEADER + "données\n" + "".join(f"  {name} : booléen, donnée {name}, {FAMILY}\n" for name in names)
            + "résultats\n  condition : booléen\n  par_cas : montant\n  par_exception : montant\n"
            f'article 1 "Condition"\n  condition : {condition}\n'
            f'article 2 "Cas"\n  par_cas :\n    si {condition} : {then} €\n    sinon : {other} €\n'
            f'article 3 "Exception"\n  par_exception : {other} €\n    sauf si {condition} : {then} €\n')
    ruleset = load(text)
    a, b = Decimal(then.replace(",", ".")), Decimal(other.replace(",", "."))
    for combination in itertools.product([True, False, None], repeat=len(names)):
        values = dict(zip(names, combination, strict=True))
        evaluation = ruleset.evaluate({k: v for k, v in values.items() if v is not None}, date=START)
        decided = kleene(formula, values)
        output = evaluation.outputs["condition"]
        assert (output.status, output.value) == (("unknown", None) if decided is None else ("value", decided)), (
            condition, values)
        # an unknown condition gives the common amount of its branches, if they agree
        expected = (a if a == b else None) if decided is None else a if decided else b
        unknown_names = {k for k, v in values.items() if v is None}
        for name in ("par_cas", "par_exception"):
            output = evaluation.outputs[name]
            assert output.value == expected, (name, condition, values, then, other)
            assert output.status == ("unknown" if expected is None else "value")
            missing = set(evaluation.missing_for(name))
            assert bool(missing) == (expected is None)
            assert missing <= unknown_names
        assert set(evaluation.missing_for("condition")) <= unknown_names
        assert bool(evaluation.missing_for("condition")) == (decided is None)


def test_false_and_unknown_is_false_both_ways() -> None:
    text = (HEADER + f"données\n  a : booléen, a, {FAMILY}\n  b : booléen, b, {FAMILY}\n"
            "résultats\n  x : booléen\n  y : booléen\n"
            'article 1 "Et"\n  x : a et b\n  y : b et a\n')
    evaluation = load(text).evaluate({"a": False}, date=START)
    assert [(o.status, o.value) for o in evaluation.outputs.values()] == [("value", False)] * 2
    assert evaluation.missing == ()


# ------------------------------------------------------------------ tracing

MIXED_DATA = ("données\n  q : montant entier, quotient familial\n  a : booléen, a\n  b : booléen, b\n"
              "  e : parmi (aucun, 1, 2), échelon\n")
ATOMS = ["a", "b", "non a", "e est 1", "e est 1 ou 2", "e est aucun", "q est connu", "q est inconnu",
         "base > 2,00 €", "base ≤ 3,50 €"]
VALUES = ["base", "base × 50 %", "le maximum de base × 50 % et 1,00 €", "0,00 €", "1,50 €", "base + 0,50 €",
          "(base, au plus 4,00 €)", "(base × 33 %, arrondi au centime le plus proche)", "(base à défaut 9,99 €)"]


@st.composite
def mixed_programs(draw: st.DrawFn) -> tuple[str, list[Decimal]]:
    """A grid on `q`, exceptions on booleans / a list / comparisons, a derogation, a boolean output."""
    grid = draw(monotone_grids("entier"))
    thresholds = [int(t) for t in grid.thresholds]
    atom = st.sampled_from(ATOMS + [f"q {op} {t} €" for t in thresholds for op in ("<", "≥")])
    condition = st.one_of(atom, st.builds(lambda x, y, w: f"(({x}) {w} ({y}))", atom, atom,
                                          st.sampled_from(["et", "ou"])))
    value = st.sampled_from(VALUES)
    rows = grid.text.split("tarif : grille selon quotient_familial\n")[1]
    text = (HEADER + MIXED_DATA + "résultats\n  tarif : montant\n  droit : booléen\n"
            f'article 1 "Base"\n  base : grille selon q\n{rows}'
            f'article 2 "Tarif"\n  tarif : {draw(value)}\n')
    for _ in range(draw(st.integers(0, 2))):
        text += f"    sauf si {draw(condition)} : {draw(value)}\n"
    text += f"  droit : {draw(condition)}\n"
    if draw(st.booleans()):
        text += (f'article 3 "Exception"\n  tarif : {draw(value)}\n    si {draw(condition)}\n'
                 "    par dérogation à l'article 2\n")
    return text, q_candidates(thresholds)


def q_candidates(thresholds: list[int]) -> list[Decimal]:
    return sorted({Decimal(0), *(Decimal(t + d) for t in thresholds for d in (-1, 0, 1) if t + d >= 0)})


def candidates_of(name: str, q_values: list[Decimal]) -> list[Any]:
    return q_values if name == "q" else ["aucun", "1", "2"] if name == "e" else [True, False]


@st.composite
def households(draw: st.DrawFn, names: tuple[str, ...], q_values: list[Decimal]) -> dict[str, Any]:
    situation = {}
    for name in names:
        if draw(st.booleans()):
            situation[name] = draw(st.sampled_from(candidates_of(name, q_values)))
    return situation


def outcome(evaluation: Evaluation) -> dict[str, tuple[str, Any]]:
    return {name: (o.status, o.value) for name, o in evaluation.outputs.items()}


@settings(max_examples=50 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_tracing_never_changes_a_value(data: st.DataObject) -> None:
    text, q_values = data.draw(mixed_programs(), label="fichier")
    ruleset = tarifrules.load(text)
    for _ in range(5):
        situation = data.draw(households(("q", "a", "b", "e"), q_values), label="foyer")
        evaluation = ruleset.evaluate(situation, date=START)
        before = outcome(evaluation)
        explanation = evaluation.explain()
        assert outcome(evaluation) == before
        assert outcome(ruleset.evaluate(situation, date=START)) == before
        traced = ruleset.trace(evaluation.data)
        for name, (status, value) in before.items():
            seen = traced[("nom", name)]
            if status == "unknown":
                assert value is None and repr(seen) in ("inconnu", "non applicable")
            else:
                assert seen == value and type(seen) is type(value)
        explained = {o["output"]: (o["status"], o["display"]) for o in explanation.to_json()}
        assert explained == {name: (o.status, o.display()) for name, o in evaluation.outputs.items()}
        assert all(f"{name} = {o.display()}" in str(explanation) for name, o in evaluation.outputs.items())


# ------------------------------------------------------------------ missing data
#
# `missing` is read from the evaluation path: the data whose absence left an output
# unknown. On any file it names unknown data only, and some datum whenever an output is
# unknown. That each named datum can settle an output is checked on files where every
# datum is read once and no two branches give the same amount: elsewhere a datum on the
# path can be useless (`sauf si a : 0 €` then `sauf si non a : 1,50 €` make the body's
# data useless, `si base > 2 € et b` makes `b` useless when every amount of the grid is
# below 2 €), which only a search over households could see.

BOOLEANS = ("a", "b", "c")
READ_ONCE_ATOMS = {"a": ["a", "non a"], "b": ["b", "non b"], "c": ["c", "non c"],
                   "e": ["e est 1", "e est 1 ou 2", "e est aucun", "non e est 2"]}
READ_ONCE_DATA = ("données\n  q : montant entier, quotient familial\n"
                  + "".join(f"  {name} : booléen, {name}\n" for name in BOOLEANS)
                  + "  e : parmi (aucun, 1, 2), échelon\n")


@st.composite
def read_once_programs(draw: st.DrawFn) -> tuple[str, list[Decimal], tuple[str, ...]]:
    """`tarif` from a grid (no `à défaut`, amounts from 3 €) with exceptions and a derogation giving
    distinct constants under 3 €; each of a, b, c, e is read by one condition at most."""
    grid = draw(monotone_grids("entier"))
    thresholds = [int(t) for t in grid.thresholds]
    rows = [f"    {row.text.rsplit(' : ', 1)[0]} : {french(row.amount + 3 + Decimal(i) / 100)} €\n"
            for i, row in enumerate(grid.rows)]  # strictly increasing amounts, all ≥ 3 €
    pool = list(draw(st.permutations(list(READ_ONCE_ATOMS))))
    constants = iter(draw(st.permutations(["0,00 €", "0,50 €", "1,00 €", "1,50 €", "2,99 €"])))

    def condition() -> str | None:
        atoms = []
        for _ in range(draw(st.integers(1, 2))):
            if pool:
                atoms.append(draw(st.sampled_from(READ_ONCE_ATOMS[pool.pop()])))
        if not atoms:
            return None
        if len(atoms) == 1:
            return atoms[0]
        return f"({atoms[0]}) {draw(st.sampled_from(['et', 'ou']))} ({atoms[1]})"

    text = (HEADER + READ_ONCE_DATA + "résultats\n  tarif : montant\n"
            f'article 1 "Base"\n  base : grille selon q\n{"".join(rows)}'
            'article 2 "Tarif"\n  tarif : base\n')
    for _ in range(draw(st.integers(0, 2))):
        when = condition()
        if when is not None:
            text += f"    sauf si {when} : {next(constants)}\n"
    when = condition()
    if when is not None and draw(st.booleans()):
        text += (f'article 3 "Exception"\n  tarif : {next(constants)}\n    si {when}\n'
                 "    par dérogation à l'article 2\n")
    return text, q_candidates(thresholds), ("q", *BOOLEANS, "e")


def settles(ruleset: RuleSet, situation: dict[str, Any], name: str, value: Any) -> bool:
    """Does giving `name` this value make some output known that is unknown without it?"""
    without = ruleset.evaluate(situation, date=START)
    unknown = [o for o, output in without.outputs.items() if output.status == "unknown"]
    if not unknown:
        return False
    with_it = ruleset.evaluate({**situation, name: value}, date=START)
    return any(with_it.outputs[o].status == "value" for o in unknown)


@settings(max_examples=50 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_missing_names_unknown_data_and_some_whenever_an_output_is_unknown(data: st.DataObject) -> None:
    text, q_values = data.draw(mixed_programs(), label="fichier")
    ruleset = tarifrules.load(text)
    for _ in range(5):
        situation = data.draw(households(("q", "a", "b", "e"), q_values), label="foyer")
        evaluation = ruleset.evaluate(situation, date=START)
        unknown = [o.name for o in evaluation.outputs.values() if o.status == "unknown"]
        assert bool(evaluation.missing) == bool(unknown)
        assert not set(evaluation.missing) & set(situation)
        assert set(evaluation.missing) == {d for o in unknown for d in evaluation.missing_for(o)}
        assert all(evaluation.missing_for(o) for o in unknown)


@settings(max_examples=50 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_missing_only_names_data_that_can_settle_an_output(data: st.DataObject) -> None:
    """Each missing datum, given some value, turns an unknown output into a value: in the
    household as it is, or once some other unknown data are given too (`q + c` needs both)."""
    text, q_values, names = data.draw(read_once_programs(), label="fichier")
    ruleset = tarifrules.load(text)  # data left unused are only warned about
    for _ in range(3):
        situation = data.draw(households(names, q_values), label="foyer")
        evaluation = ruleset.evaluate(situation, date=START)
        for name in evaluation.missing:
            others = [d for d in names if d not in situation and d != name]
            completions = itertools.product(*[[None, *candidates_of(d, q_values)] for d in others])
            found = any(
                settles(ruleset, {**situation, **{d: v for d, v in zip(others, values, strict=True)
                                                  if v is not None}}, name, value)
                for values in completions  # the first completion is the household as it is
                for value in candidates_of(name, q_values)
            )
            assert found, (name, situation, text)


@settings(max_examples=50 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_data_not_named_missing_never_settle_an_output(data: st.DataObject) -> None:
    """The other direction, on the same files: an unknown datum left out of `missing_for(o)`,
    given alone, leaves `o` unknown."""
    text, q_values, names = data.draw(read_once_programs(), label="fichier")
    ruleset = tarifrules.load(text)  # data left unused are only warned about
    for _ in range(3):
        situation = data.draw(households(names, q_values), label="foyer")
        evaluation = ruleset.evaluate(situation, date=START)
        for output in evaluation.outputs.values():
            if output.status != "unknown":
                continue
            missing = evaluation.missing_for(output.name)
            for name in names:
                if name in situation or name in missing:
                    continue
                for value in candidates_of(name, q_values):
                    again = ruleset.evaluate({**situation, name: value}, date=START)
                    assert again.outputs[output.name].status == "unknown", (output.name, name, value, situation, text)
