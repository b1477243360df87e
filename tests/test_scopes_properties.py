"""Properties of the scope analysis (`scopes.analyse`), on generated rule files over the catalogue.

The files bind their `données` to catalogue entries (booléens such as « bénéficiaire du RSA »,
the collège échelon and the France Travail catégorie with their catalogue choices, the CAF
quotient familial in whole euros, data « déclaré par la famille », a DGFiP datum under its
own habilitation) and define their outputs through intermediate names: nested `si / sinon si
/ sinon` cases, `sauf si` exceptions, grids, `et / ou / non`, `à défaut`, branches that can
never be taken, names no output uses and data declared but never read.

* soundness: on random households (some data unknown), every datum the evaluator reads for
  an output (the data references in `RuleSet.trace_output`) is in that output's data and
  its scopes are in the reported scopes;
* exactness: when the report says `exact` and the file only compares data with constants,
  the reported scopes are exactly those of the data read over every household built from
  the values that matter (both booleans, every choice, each QF threshold ± 1 €, unknown);
* data declared but never read are listed as `unused` and bring no scope.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tarifrules
from tarifrules import RuleSet
from tarifrules.catalogue import load_catalogue
from tarifrules.scopes import analyse, mentioned_data, needed_data
from tarifrules.symbols import data_references

SCALE = int(os.environ.get("TARIF_FUZZ_SCALE", "1"))
START = "01/09/2025"
HEADER = f'délibération "Propriétés des scopes"\n  applicable à partir du {START}\n'
CATALOGUE = load_catalogue()


@dataclass(frozen=True)
class Datum:
    name: str
    declaration: str  # what follows `name :`
    kind: str  # "booléen" | "enum" | "qf" | "nombre" | "montant"
    choices: tuple[str, ...] = ()

    @property
    def scopes(self) -> tuple[str, ...]:
        entry = CATALOGUE.lookup(self.declaration.split(", ", 1)[1])
        assert entry is not None, self.declaration
        return entry.required_scopes if entry.habilitation == "api_particulier" else ()


BOOLEANS = [
    Datum("rsa", "booléen, bénéficiaire du RSA", "booléen"),
    Datum("aah", "booléen, bénéficiaire de l'AAH", "booléen"),
    Datum("boursier", "booléen, élève boursier", "booléen"),
    Datum("asf", "booléen, bénéficiaire de l'ASF", "booléen"),
    Datum("chomeur", "booléen, inscription France Travail", "booléen"),
    Datum("inscrit", "booléen, étudiant inscrit", "booléen"),  # two scopes (requires_also)
    Datum("resident", "booléen, domicile dans la commune, déclaré par la famille", "booléen"),
]
ENUMS = [
    Datum("echelon", "parmi (1, 2, 3), échelon de bourse collège", "enum", ("1", "2", "3")),
    Datum("categorie", "parmi (1, 2, 3, 4, 5), catégorie de demandeur d'emploi", "enum",
          ("1", "2", "3", "4", "5")),
]
QF = Datum("qf", "montant entier, quotient familial CAF", "qf")
# Numbers outside the small finite domains: computed on, compared with one another.
ENFANTS = Datum("enfants", "nombre au minimum 1, nombre d'enfants, déclaré par la famille", "nombre")
REVENUS = Datum("revenus", "montant, revenus mensuels, déclaré par la famille", "montant")
RFR = Datum("rfr", "montant entier, revenu fiscal de référence", "montant")  # DGFiP habilitation


@dataclass
class Program:
    text: str
    data: list[Datum]
    outputs: list[str]
    qf_points: list[int]  # thresholds the QF is compared with
    finite: bool  # only booleans, lists and the QF compared with constants
    read_somewhere: set[str] = field(default_factory=set)  # data written in some definition


def euros(value: int) -> str:
    return f"{value:,}".replace(",", " ") + " €"


@st.composite
def programs(draw: st.DrawFn, finite: bool) -> Program:
    booleans = draw(st.lists(st.sampled_from(BOOLEANS), min_size=1, max_size=3, unique=True))
    enums = draw(st.lists(st.sampled_from(ENUMS), max_size=1 if finite else 2, unique=True))
    data = [*booleans, *enums, QF]
    if not finite:
        data += draw(st.lists(st.sampled_from([ENFANTS, REVENUS, RFR]), max_size=3, unique=True))
    thresholds = sorted(draw(st.sets(st.integers(1, 30).map(lambda k: 50 * k), min_size=1, max_size=3)))
    used: set[str] = set()
    # The data the rules may read; the others stay declared but unused.
    readable = [d for d in data if d is QF or draw(st.integers(0, 4)) > 0]

    def use(datum: Datum) -> str:
        used.add(datum.name)
        return datum.name

    bools = [d for d in readable if d.kind == "booléen"]
    lists = [d for d in readable if d.kind == "enum"]
    numbers = [d for d in readable if d.kind in ("nombre", "montant")]

    def atom() -> str:
        options = ["qf"] + (["bool"] * 3 if bools else []) + (["enum"] * 2 if lists else []) + ["known"]
        if numbers:
            options += ["arith"] * 4
        match draw(st.sampled_from(options)):
            case "bool":
                name = use(draw(st.sampled_from(bools)))
                return draw(st.sampled_from([name, f"non {name}", f"({name} à défaut non)", f"({name} à défaut oui)"]))
            case "enum":
                datum = draw(st.sampled_from(lists))
                chosen = draw(st.lists(st.sampled_from(datum.choices), min_size=1, max_size=2, unique=True))
                return f"{use(datum)} est {' ou '.join(chosen)}"
            case "qf":
                op = draw(st.sampled_from(["<", "≤", ">", "≥", "="]))
                return f"{use(QF)} {op} {euros(draw(st.sampled_from(thresholds)))}"
            case "known":
                datum = draw(st.sampled_from(readable))
                return f"{use(datum)} est {draw(st.sampled_from(['connu', 'inconnu']))}"
            case _:  # a number computed on before the comparison: no finite domain
                compared = computed()
                return draw(st.sampled_from([compared, f"(({compared}) à défaut oui)", f"(({compared}) à défaut non)"]))

    def computed() -> str:
        datum = draw(st.sampled_from(numbers))
        other = draw(st.sampled_from([QF, *numbers]))
        if datum.kind == "nombre":
            return f"{use(datum)} × 100 € > {use(other)}" if other.kind != "nombre" else f"{use(datum)} > 2"
        return draw(st.sampled_from([
            f"({use(datum)} − {use(other) if other.kind != 'nombre' else use(QF)}) × 2 < 1 000 €",
            f"{use(datum)} / 12 ≥ {euros(draw(st.sampled_from(thresholds)))}",
            f"{use(datum)} > {use(other)}" if other.kind != "nombre" else f"{use(datum)} > 900 €",
        ]))

    def condition(depth: int = 0) -> str:
        if depth >= 2 or draw(st.integers(0, 2)) == 0:
            return atom()
        shape = draw(st.sampled_from(["et", "ou", "non", "à défaut"]))
        if shape == "non":
            return f"non ({condition(depth + 1)})"
        if shape == "à défaut":
            return f"(({condition(depth + 1)}) à défaut {draw(st.sampled_from(['oui', 'non']))})"
        return f"(({condition(depth + 1)}) {shape} ({condition(depth + 1)}))"

    def never(depth: int = 0) -> str:
        """A condition that is never true (the branch it guards is never taken)."""
        inner = condition(depth + 1)
        return draw(st.sampled_from([f"({inner}) et non ({inner})", f"{use(QF)} < 0 €"]))

    names: list[str] = []  # intermediate names defined so far (montants)
    articles: list[str] = []

    def value() -> str:
        choices = ["const", "const"] + (["name"] * 3 if names else [])
        if numbers and not finite:
            choices.append("computed")
        match draw(st.sampled_from(choices)):
            case "const":
                return f"{draw(st.integers(0, 9))},{draw(st.sampled_from(['00', '50']))} €"
            case "name":
                name = draw(st.sampled_from(names))
                return draw(st.sampled_from([name, f"{name} × 50 %", f"le maximum de {name} et 1,00 €",
                                             f"({name} à défaut 2,00 €)"]))
            case _:
                datum = draw(st.sampled_from([d for d in numbers if d.kind != "nombre"] or [QF]))
                return f"({use(datum)} × 1 % à défaut 3,00 €)"

    def definition(name: str) -> str:
        form = draw(st.sampled_from(["cases", "cases", "grid", "expr"]))
        if form == "grid":
            selector = QF if finite or not numbers else draw(st.sampled_from([QF, *numbers]))
            if selector.kind == "nombre":
                rows = ["moins de 2", "à partir de 2"]
            else:
                points = [t * (1 if selector is QF else 3) for t in thresholds]
                rows = [f"moins de {euros(points[0])}"]
                rows += [f"de {euros(a)} à {euros(b)} exclu" for a, b in itertools.pairwise(points)]
                rows += [f"à partir de {euros(points[-1])}"]
            if draw(st.booleans()):
                rows.append("à défaut")
            text = f"  {name} : grille selon {use(selector)}\n" + "".join(f"    {row} : {value()}\n" for row in rows)
        elif form == "cases":
            text = f"  {name} :\n    si {condition()} : {value()}\n"
            for _ in range(draw(st.integers(0, 2))):
                guard = never() if draw(st.integers(0, 4)) == 0 else condition()
                text += f"    sinon si {guard} : {value()}\n"
            text += f"    sinon : {value()}\n"
        else:
            text = f"  {name} : {value()}\n"
        if form != "cases":
            for _ in range(draw(st.integers(0, 2))):
                guard = never() if draw(st.integers(0, 4)) == 0 else condition()
                text += f"    sauf si {guard} : {value()}\n"
        return text

    for i in range(draw(st.integers(1, 4))):
        name = f"etape{i}"
        articles.append(f'article {len(articles) + 1} "Étape {i}"\n{definition(name)}')
        names.append(name)
    outputs = [f"tarif{i}" for i in range(draw(st.integers(1, 3)))]
    for output in outputs:
        articles.append(f'article {len(articles) + 1} "Résultat {output}"\n{definition(output)}')
    text = (HEADER + "données\n" + "".join(f"  {d.name} : {d.declaration}\n" for d in data)
            + "résultats\n" + "".join(f"  {o} : montant\n" for o in outputs) + "".join(articles))
    return Program(text, data, outputs, thresholds, finite, used)


def load(program: Program) -> RuleSet:
    try:
        return tarifrules.load(program.text)
    except tarifrules.TarifError as exc:  # the generator only writes valid files
        raise AssertionError(f"{exc}\n{program.text}") from exc


def values_of(datum: Datum, thresholds: list[int], extra: tuple[int, ...] | list[int] = ()) -> list[Any]:
    """The values that matter for a datum (None: unknown)."""
    if datum.kind == "booléen":
        return [True, False, None]
    if datum.kind == "enum":
        return [*datum.choices, None]
    if datum.kind == "qf":
        return [*sorted({0, *(t + d for t in thresholds for d in (-1, 0, 1)), *extra}), None]
    if datum.kind == "nombre":
        return [1, 2, 3, None]
    return [0, *(t + d for t in thresholds for d in (-1, 1)), 12 * thresholds[-1] + 1, None]


def read_by(ruleset: RuleSet, household: dict[str, Any], output: str) -> set[str]:
    refs = {key: ref.name for key, ref in data_references(ruleset.program, ruleset.symbols).items()}
    try:
        trace = ruleset.trace_output(household, output)
    except (tarifrules.TarifError, ArithmeticError):
        return set()
    return {refs[key] for key in trace if key in refs}


def scopes_of(data: list[Datum], names: set[str]) -> set[str]:
    return {scope for d in data if d.name in names for scope in d.scopes}


@st.composite
def households(draw: st.DrawFn, program: Program) -> dict[str, Any]:
    situation = {}
    for datum in program.data:
        if draw(st.integers(0, 3)) == 0:
            continue  # unknown
        if datum.kind in ("montant", "qf") and draw(st.booleans()):
            situation[datum.name] = draw(st.integers(0, 40_000))
        else:
            value = draw(st.sampled_from(values_of(datum, program.qf_points)))
            if value is not None:
                situation[datum.name] = value
    return situation


SETTINGS = settings(max_examples=40 * SCALE, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(max_examples=150 * SCALE, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_every_datum_read_is_reported_with_its_scopes(data: st.DataObject) -> None:
    finite = data.draw(st.integers(0, 3), label="petit domaine") == 0  # mostly computed conditions
    program = data.draw(programs(finite), label="fichier")
    ruleset = load(program)
    report = analyse([ruleset])
    document = report.to_json()
    per_output = {o: {u.datum for u in report.uses if o in u.outputs} for o in program.outputs}
    for _ in range(8):
        household = data.draw(households(program), label="foyer")
        for output in program.outputs:
            read = read_by(ruleset, household, output)
            assert read <= per_output[output], (output, household, read, program.text)
            assert scopes_of(program.data, read) <= set(report.scopes), (output, household, program.text)
            assert scopes_of(program.data, read) <= set(document["by_output"].get(output, []))
            assert not read & set(document["unused"])
    # data under another habilitation are never API Particulier scopes
    assert not {s for s in report.scopes if s.startswith("dgfip")}
    # what is reported is what the rules could mention
    for output in program.outputs:
        assert per_output[output] <= mentioned_data(ruleset, output) <= program.read_somewhere


@settings(max_examples=30 * SCALE, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs(finite=True), st.lists(st.integers(0, 2_000), max_size=2))
def test_scopes_are_exact_over_small_finite_domains(program: Program, extra: list[int]) -> None:
    ruleset = load(program)
    report = analyse([ruleset])
    assert report.exact, program.text
    names = [d for d in program.data if d.name in program.read_somewhere]
    domains = [values_of(d, program.qf_points, extra) for d in names]
    read: dict[str, set[str]] = {o: set() for o in program.outputs}
    for combination in itertools.product(*domains):
        household = {d.name: v for d, v in zip(names, combination, strict=True) if v is not None}
        for output in program.outputs:
            read[output] |= read_by(ruleset, household, output)
    everything = set().union(*read.values())
    assert set(report.scopes) == scopes_of(program.data, everything), program.text
    assert {u.datum for u in report.uses} == everything, program.text
    for output in program.outputs:
        assert needed_data(ruleset, output) == (read[output], True), (output, program.text)
        assert report.to_json()["by_output"].get(output, []) == sorted(scopes_of(program.data, read[output]))
    declared = {d.name for d in program.data}
    assert set(report.to_json()["unused"]) == declared - everything, program.text


@SETTINGS
@given(st.booleans().flatmap(programs))
def test_unused_data_are_listed_and_bring_no_scope(program: Program) -> None:
    ruleset = load(program)
    report = analyse([ruleset])
    document = report.to_json()
    unused = set(document["unused"])
    declared = {d.name for d in program.data}
    never_written = declared - program.read_somewhere
    mentioned = set().union(*(mentioned_data(ruleset, o) for o in program.outputs))
    assert never_written <= unused
    assert declared - mentioned <= unused
    assert unused | {u.datum for u in report.uses} == declared and not unused & {u.datum for u in report.uses}
    used = declared - unused
    assert set(report.scopes) == scopes_of(program.data, used), program.text
    assert set(document["declared"]) == {d.name for d in program.data if "famille" in d.declaration} & used
    warned = {d.message for d in ruleset.warnings if d.code == "T044"}
    assert all(any(f"« {name} »" in message for message in warned) for name in never_written), warned


# ------------------------------------------------------------------ regressions

REGRESSION = HEADER + """données
  qf : montant entier, quotient familial CAF
  rsa : booléen, bénéficiaire du RSA
résultats
  tarif : montant
article 1 "Tarif"
  tarif :
    si (qf × 2 < 1 000 €) à défaut oui : 1,00 €
    sinon si rsa : 2,00 €
    sinon : 3,00 €
"""


def test_a_datum_read_behind_a_computed_comparison_is_needed() -> None:
    """QF 0 € and an unknown QF both take the first branch: only a QF of 500 € or more reads the RSA,
    a value no threshold written in the rules points to. The analysis must not claim it exact."""
    ruleset = tarifrules.load(REGRESSION)
    assert read_by(ruleset, {"qf": 600}, "tarif") == {"qf", "rsa"}
    read, exact = needed_data(ruleset, "tarif")
    assert read == {"qf", "rsa"} and not exact
    assert analyse([ruleset]).scopes == ["cnaf_quotient_familial", "revenu_solidarite_active"]


def test_a_datum_compared_with_a_named_amount_is_needed() -> None:
    """`qf ≥ plafond` changes at 800 €, a value no threshold written next to the QF names."""
    text = REGRESSION.replace("(qf × 2 < 1 000 €) à défaut oui", "(qf < plafond) à défaut oui").replace(
        'article 1 "Tarif"\n', 'article 1 "Tarif"\n  plafond : 800 €\n')
    ruleset = tarifrules.load(text)
    assert read_by(ruleset, {"qf": 900}, "tarif") == {"qf", "rsa"}
    assert needed_data(ruleset, "tarif") == ({"qf", "rsa"}, False)
