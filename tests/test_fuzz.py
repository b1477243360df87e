"""Fuzzing: whatever the text and the situation, only diagnostics or a result come out.

Hypothesis feeds `check`, `load` and `RuleSet.evaluate` with random text, with random
sequences of the language's own words, and with mutations of every example file
(deleted, duplicated and swapped lines, changed numbers and words, truncated lines,
junk characters). The only exception allowed out of the library is `TarifError`; the
CLI never prints a traceback and exits with a documented code.

`TARIF_FUZZ_SCALE=20 pytest tests/test_fuzz.py` runs twenty times more examples.
"""

from __future__ import annotations

import datetime
import itertools
import json
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tarifrules
from tarifrules import Diagnostic, Evaluation, RuleSet, TarifError
from tarifrules import nodes as n
from tarifrules.cli import main
from tarifrules.render import render_diagnostics

from .helpers import EXAMPLES

SCALE = int(os.environ.get("TARIF_FUZZ_SCALE", "1"))


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                               HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    )


FILES = sorted(EXAMPLES.glob("**/*.tarif"))
SOURCES = [path.read_text(encoding="utf-8") for path in FILES]

# ------------------------------------------------------------------ the harness


def exercise_text(text: str, data: st.DataObject | None = None) -> RuleSet | None:
    """`check` returns diagnostics, `load` a RuleSet or TarifError; evaluate what loads."""
    diagnostics = tarifrules.check(text, file="fuzz.tarif")
    assert isinstance(diagnostics, list)
    assert all(isinstance(d, Diagnostic) for d in diagnostics)
    assert not any(d.code == "S900" for d in diagnostics), diagnostics  # a builder bug
    render_diagnostics(diagnostics, {"fuzz.tarif": text})
    try:
        ruleset = tarifrules.load(text, file="fuzz.tarif")
    except TarifError as exc:
        assert exc.diagnostics
        assert any(d.is_error for d in exc.diagnostics)
        render_diagnostics(exc.diagnostics, exc.sources)
        return None
    assert isinstance(ruleset, RuleSet)
    if data is not None:
        for _ in range(data.draw(st.integers(1, 3), label="évaluations")):
            if data.draw(st.booleans(), label="situation correcte"):
                exercise_evaluation(ruleset, data.draw(situations(ruleset, clean=True), label="situation"),
                                    ruleset.valid_from)
            else:
                exercise_evaluation(ruleset, data.draw(situations(ruleset), label="situation"),
                                    data.draw(evaluation_dates(ruleset), label="date"))
    return ruleset


def exercise_evaluation(ruleset: RuleSet, situation: dict[str, Any], date: Any) -> Evaluation | None:
    try:
        evaluation = ruleset.evaluate(situation, date=date)
    except TarifError as exc:
        assert exc.diagnostics
        render_diagnostics(exc.diagnostics, {ruleset.file: ruleset.source})
        return None
    assert isinstance(evaluation, Evaluation)
    assert set(evaluation.outputs) == set(ruleset.output_names)
    for name, output in evaluation.outputs.items():
        assert output.status in ("value", "unknown")
        assert (output.value is None) == (output.status == "unknown")
        output.display()
        missing = evaluation.missing_for(name)
        assert set(missing) <= set(ruleset.data_names)
    assert set(evaluation.missing) <= set(ruleset.data_names)
    explanation = evaluation.explain()
    str(explanation)
    json.dumps(evaluation.to_json(), ensure_ascii=False)
    return evaluation


# ------------------------------------------------------------------ situations

BAD_STRINGS = ["six cents", "12/13/2025", "31/02/2025", "650", "650,50", "650.5", "1 234,56 €", "1,0,0",
               "oui", "non", "OUI", "vrai", "inconnu", "", " ", "-5", "-0", "1e400", "1E5", "NaN", "Infinity",
               "-Infinity", "sNaN", "2025-09-01", "01/09/2025", "0bis", "aucun", "50 %", "€", "9" * 80,
               "0," + "0" * 70 + "1", "١٢٣", "\u00a0650", "650\u202f000", "None", "null"]

wrong_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.integers(-(10**100), 10**100),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from(BAD_STRINGS),
    st.text(max_size=12),
    st.dates(),
    st.datetimes(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just(object()),
)


def right_values(spec: n.TypeSpec) -> st.SearchStrategy[Any]:
    """Values of the right type and in the declared domain, spelled as a caller might."""
    match spec.kind:
        case n.Kind.BOOLEEN:
            return st.one_of(st.booleans(), st.sampled_from(["oui", "non", "vrai", "faux"]))
        case n.Kind.ENUM:
            return st.sampled_from(list(spec.choices))
        case n.Kind.DATE:
            return st.one_of(st.dates(), st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
                             st.dates().map(datetime.date.isoformat))
    low = spec.minimum.value if spec.minimum else Decimal(0)
    high = spec.maximum.value if spec.maximum else Decimal(10**6)
    if spec.kind is n.Kind.TAUX:
        low, high = low / 100, high / 100  # drawn as fractions, given in percent below
    whole = spec.granularity is n.Granularity.ENTIER
    places = 0 if whole else 2 if spec.granularity is n.Granularity.CENTIME else 4
    scale = 10**places
    numbers = st.integers(int(low * scale) + (1 if low * scale % 1 else 0), int(high * scale)).map(
        lambda i: Decimal(i) / scale)
    if spec.kind is n.Kind.TAUX:
        numbers = numbers.map(lambda v: v * 100)
    return st.one_of(
        numbers,
        numbers.map(lambda v: format(v, "f").replace(".", ",")),
        numbers.map(lambda v: int(v) if v == v.to_integral_value() else float(v)),
    )


@st.composite
def situations(draw: st.DrawFn, ruleset: RuleSet, clean: bool = False) -> dict[str, Any]:
    """Random subsets of the data; unless `clean`, with wrong values and undeclared keys too."""
    situation: dict[str, Any] = {}
    for name in ruleset.data_names:
        if not draw(st.booleans()):
            continue
        spec = ruleset.symbols.data[name].type
        situation[name] = draw(right_values(spec) if clean else st.one_of(right_values(spec), wrong_values))
    if not clean and draw(st.integers(0, 9)) == 0:  # a key the file does not declare
        others = [*ruleset.symbols.pieces, "inconnu_x", "", "quotient familial"]
        situation[draw(st.sampled_from(others))] = draw(wrong_values)
    return situation


def evaluation_dates(ruleset: RuleSet) -> st.SearchStrategy[Any]:
    start = ruleset.valid_from
    return st.one_of(
        st.just(start), st.just(start), st.just(start),
        st.dates(),
        st.none(),
        st.sampled_from(["12/13/2025", "31/02/2025", "2025-09-01", "01/09/2025", "demain", ""]),
        st.just(datetime.datetime(start.year, start.month, start.day, 12, 0)),
    )


# ------------------------------------------------------------------ texts

TOKENS = ["délibération", "collectivité", "numéro", "adoptée", "le", "applicable", "du", "au", "à",
          "partir", "fondement", "source", "note", "données", "résultats", "parmi", "article", "grille",
          "selon", "de", "inclus", "exclu", "jusqu'à", "moins", "plus", "au-delà", "défaut", "si", "sinon",
          "sauf", "par", "dérogation", "l'article", "minimum", "maximum", "multiple", "arrondi", "centime",
          "l'euro", "l'unité", "dixième", "proche", "inférieur", "supérieur", "entier", "indéterminé",
          "montant", "nombre", "décimal", "taux", "booléen", "date", "et", "ou", "non", "oui", "est",
          "connu", "inconnu", "exemple", "attendu", "évalué", "quotient_familial", "demandeur_emploi",
          "tarif", "tarif_repas", "x"]
PUNCTUATION = [":", ",", "(", ")", "€", "%", "×", "*", "/", "÷", "+", "-", "−", "=", "<", "≤", ">=", "≠", "!=",
               '"Titre"', "« Titre »", "#", "# commentaire", "1", "0", "400", "1 000", "2,10", "1,0,0", "0,45",
               "01/09/2025", "31/02/2025", "16/06/2025", "2025-06-042", "1 bis", "2.1", "0bis", "\t", "\r", "'"]

token_texts = st.lists(
    st.one_of(st.sampled_from(TOKENS), st.sampled_from(PUNCTUATION), st.just("\n"), st.just("\n  ")),
    max_size=60,
).map(" ".join)

# A random text after a plausible header, so that the parser gets past the first line.
HEADER = 'délibération "Essai"\n  applicable à partir du 01/09/2025\n'
headed_token_texts = token_texts.map(lambda t: HEADER + t)

NUMBER_RE = re.compile(r"\d+(?:[ \u00a0]\d{3})*(?:,\d+)?")
WORD_RE = re.compile(r"[^\W\d]\w*")
JUNK = ["\t", "\r", "\r\n", "\u00a0", "\u202f", "\ufeff", "\u200b", "\x0c", "\x0b", "\u2028", "\x85", "é",
        "€", "%", "«", "»", '"', "#", ":", ",", "’", "'", "(", ")", "\\", "$", "😀", "\U0001d7d9", "٣", "ǅ",
        "\x00", "\x1b", "\ud7ff", "ﬁ"]
numbers = st.one_of(
    st.integers(0, 3000).map(str),
    st.integers(0, 10**6).map(lambda i: f"{i:,}".replace(",", " ")),
    st.integers(0, 10**80).map(str),
    st.sampled_from(["0", "00", "1,0,0", "0,0", "0,00001", "9" * 70, "1" + "0" * 65 + ",5", "0," + "0" * 70 + "1",
                     "1 000 000", "12,345", "-5", "1.5", "١٢٣"]),
)
words = st.one_of(st.sampled_from(TOKENS), st.from_regex(r"[a-zé_][a-z0-9é_]{0,10}", fullmatch=True),
                  st.text(max_size=6))


@st.composite
def mutated_sources(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(SOURCES)).split("\n")
    for _ in range(draw(st.integers(1, 5))):
        if not lines:
            lines = [""]
        i = draw(st.integers(0, len(lines) - 1))
        line = lines[i]
        match draw(st.sampled_from(["delete", "duplicate", "swap", "number", "number", "word", "word",
                                    "truncate", "junk", "move"])):
            case "delete":
                del lines[i]
            case "duplicate":
                lines.insert(i, line)
            case "swap":
                j = draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
            case "move":
                del lines[i]
                lines.insert(draw(st.integers(0, len(lines))), line)
            case "number":
                found = [(i, m) for m in NUMBER_RE.finditer(line)] or [
                    (k, m) for k, other in enumerate(lines) for m in NUMBER_RE.finditer(other)]
                if found:
                    k, match = draw(st.sampled_from(found))
                    lines[k] = lines[k][:match.start()] + draw(numbers) + lines[k][match.end():]
            case "word":
                found = list(WORD_RE.finditer(line))
                if found:
                    match = draw(st.sampled_from(found))
                    lines[i] = line[:match.start()] + draw(words) + line[match.end():]
            case "truncate":
                lines[i] = line[: draw(st.integers(0, max(0, len(line) - 1)))]
            case "junk":
                at = draw(st.integers(0, len(line)))
                junk = "".join(draw(st.lists(st.sampled_from(JUNK), min_size=1, max_size=3)))
                lines[i] = line[:at] + junk + line[at:]
    return "\n".join(lines)


# ------------------------------------------------------------------ random well-typed programs
# Mutations rarely reach deep into the evaluator; these files mostly load, so that every
# construct (arithmetic, rounding, limits, `à défaut`, grids, cases, exceptions, several
# articles for one name) gets evaluated on random households.

PROGRAM_HEADER = """délibération "Programme aléatoire"
  applicable du 01/09/2025 au 31/08/2026
données
  q : montant entier, quotient
  c : montant au centime au plus 100 000 €, revenu
  t : taux au plus 100 %, taux
  r : nombre au minimum 1 au plus 12, rang
  d : décimal, parts
  b : booléen, emploi
  k : booléen, autre
  e : parmi (aucun, 1, 2, 0bis), échelon
  j : date, naissance
résultats
  x : {kind}
  y : booléen
"""
DATA_OF = {"montant": ["q", "c"], "taux": ["t"], "nombre": ["r"], "décimal": ["d"]}
KINDS = ["montant", "taux", "nombre", "décimal"]


def literal_text(kind: str, value: int) -> str:
    whole = f"{value:,}".replace(",", " ")
    return {"montant": f"{whole},{value % 100:02d} €", "taux": f"{value % 150} %", "nombre": str(value),
            "décimal": f"{value},5"}[kind]


def _parenthesised(text: str) -> str:
    return f"({text})" if " " in text and not text.startswith("(") else text


@st.composite
def numeric_texts(draw: st.DrawFn, kind: str, depth: int = 3) -> str:
    """Text of an expression of this kind (montant, taux, nombre, décimal)."""
    leaf = st.one_of(st.sampled_from(DATA_OF[kind]),
                     st.integers(0, 3000).map(lambda v: literal_text(kind, v)),
                     st.sampled_from([literal_text(kind, 0), literal_text(kind, 10**20)]))
    if depth <= 0 or draw(st.integers(0, 2)) == 0:
        return draw(leaf)
    sub = lambda k=kind: numeric_texts(k, depth - 1).map(_parenthesised)  # noqa: E731
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return f"{draw(sub())} {draw(st.sampled_from(['+', '−', '-']))} {draw(sub())}"
    if choice == 1 and kind == "montant":
        return f"{draw(sub())} × {draw(sub(draw(st.sampled_from(['taux', 'nombre', 'décimal']))))}"
    if choice == 1:
        return f"{draw(sub())} × {draw(sub('nombre'))}"
    if choice == 2:
        return f"{draw(sub())} / {draw(sub('nombre'))}"
    if choice == 3:
        return f"le {draw(st.sampled_from(['minimum', 'maximum']))} de {draw(sub())} et {draw(sub())}"
    if choice == 4:
        step = draw(st.sampled_from(["au centime", "à l'euro", "à l'unité", "au dixième",
                                     "au multiple de " + literal_text(kind, draw(st.integers(1, 50)))]))
        direction = draw(st.sampled_from(["le plus proche", "inférieur", "supérieur"]))
        return f"({draw(sub())}, arrondi {step} {direction})"
    if choice == 5:
        return f"({draw(sub())}, {draw(st.sampled_from(['au minimum', 'au plus']))} {draw(sub())})"
    if choice == 6:
        return f"({draw(sub())} à défaut {draw(sub())})"
    return f"({draw(sub())})"


@st.composite
def condition_texts(draw: st.DrawFn, depth: int = 2) -> str:
    if depth <= 0 or draw(st.integers(0, 2)) == 0:
        kind = draw(st.sampled_from(KINDS))
        return draw(st.one_of(
            st.sampled_from(["b", "k", "oui", "non", "e est 1 ou 2", "e est aucun", "e est 0bis", "r est 1 ou 3",
                             "q est connu", "c est inconnu", "j < 01/01/2015", "j ≥ 01/01/2010"]),
            st.builds(lambda a, op, b: f"{a} {op} {b}", numeric_texts(kind, 1),
                      st.sampled_from(["<", "≤", ">", "≥", "=", "≠", "<=", ">=", "!="]), numeric_texts(kind, 1)),
        ))
    a, b = (_parenthesised(draw(condition_texts(depth - 1))) for _ in range(2))
    return draw(st.sampled_from([f"{a} et {b}", f"{a} ou {b}", f"non {a}", f"({a} ou {b}) et non {b}"]))


@st.composite
def grid_texts(draw: st.DrawFn, kind: str) -> str:
    thresholds = sorted(set(draw(st.lists(st.integers(0, 3000), min_size=1, max_size=4))))
    rows = [f"moins de {thresholds[0]} €"]
    previous_included = False
    for low, high in itertools.pairwise(thresholds):
        included = draw(st.booleans())
        start = f"de {low} € exclu" if previous_included else f"de {low} €"
        rows.append(f"{start} à {high} € {'inclus' if included else 'exclu'}")
        previous_included = included
    rows.append(f"plus de {thresholds[-1]} €" if previous_included else f"à partir de {thresholds[-1]} €")
    if draw(st.booleans()):
        rows.append("à défaut")
    selector = draw(st.sampled_from(["q", "c", "q + c", "(q à défaut 0 €)"]))
    lines = [f"grille selon {selector}"]
    lines += [f"    {row} : {draw(numeric_texts(kind, 1))}" for row in rows]
    return "\n".join(lines)


@st.composite
def body_texts(draw: st.DrawFn, kind: str) -> str:
    form = draw(st.integers(0, 2))
    if form == 0:
        return draw(numeric_texts(kind))
    if form == 1:
        return draw(grid_texts(kind))
    cases = [f"    si {draw(condition_texts())} : {draw(numeric_texts(kind, 2))}"]
    cases += [f"    sinon si {draw(condition_texts())} : {draw(numeric_texts(kind, 2))}"
              for _ in range(draw(st.integers(0, 2)))]
    if draw(st.integers(0, 4)):
        cases.append(f"    sinon : {draw(numeric_texts(kind, 2))}")
    return "\n" + "\n".join(cases)


@st.composite
def random_programs(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(KINDS))
    text = PROGRAM_HEADER.format(kind=kind)
    text += f'article 1 "Base"\n  x : {draw(body_texts(kind))}\n'
    for _ in range(draw(st.integers(0, 2))):
        text += f"    sauf si {draw(condition_texts())} : {draw(numeric_texts(kind, 2))}\n"
    text += f"  y : {draw(condition_texts(3))}\n"
    if draw(st.booleans()):
        text += f'article 2 "Exception"\n  x : {draw(numeric_texts(kind, 2))}\n    si {draw(condition_texts())}\n'
        if draw(st.integers(0, 3)):
            text += "    par dérogation à l'article 1\n"
    return text


# ------------------------------------------------------------------ library properties


@fuzz_settings(150)
@given(st.text(max_size=300))
def test_random_unicode_text(text: str) -> None:
    exercise_text(text + "\n")
    exercise_text(HEADER + text)


@fuzz_settings(60)
@given(st.text(max_size=80))
def test_random_text_as_path_or_text(text: str) -> None:
    """A string without a line break may be read as a path: still only diagnostics."""
    diagnostics = tarifrules.check(text)
    assert all(isinstance(d, Diagnostic) for d in diagnostics)
    with pytest.raises(TarifError):
        tarifrules.load(text)


@fuzz_settings(250)
@given(st.one_of(token_texts, headed_token_texts), st.data())
def test_random_token_sequences(text: str, data: st.DataObject) -> None:
    exercise_text(text, data)


@fuzz_settings(400)
@given(mutated_sources(), st.data())
def test_mutated_example_files(text: str, data: st.DataObject) -> None:
    exercise_text(text, data)


@fuzz_settings(300)
@given(random_programs(), st.data())
def test_random_programs(text: str, data: st.DataObject) -> None:
    exercise_text(text, data)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
@fuzz_settings(25)
@given(data=st.data())
def test_every_example_file_with_random_situations(path: Path, data: st.DataObject) -> None:
    exercise_text(path.read_text(encoding="utf-8"), data)


# ------------------------------------------------------------------ CLI


def run_cli(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str]:
    capsys.readouterr()
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "Traceback" not in output, output
    assert "erreur interne" not in output, output
    assert code in (0, 1, 2), (args, code, output)
    return code, output


@fuzz_settings(25)
@given(mutated_sources(), st.lists(st.tuples(st.sampled_from(["quotient_familial", "demandeur_emploi", "échelon",
                                                                "rang_enfant", "x", "", "="]),
                                              st.sampled_from(BAD_STRINGS)), max_size=3),
       st.sampled_from([[], ["--json"], ["--date", "12/13/2025"], ["--date", "01/09/2025"], ["--date", "x"]]))
def test_cli_on_mutated_files(capsys: pytest.CaptureFixture[str], tmp_path_factory: pytest.TempPathFactory,
                              text: str, assignments: list[tuple[str, str]], options: list[str]) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    file = folder / "fuzz.tarif"
    file.write_text(text, encoding="utf-8")
    sets = [arg for name, value in assignments for arg in ("--set", f"{name}={value}")]
    run_cli(capsys, ["check", str(file)])
    run_cli(capsys, ["check", "--json", str(file)])
    run_cli(capsys, ["eval", str(file), *sets, *options])
    run_cli(capsys, ["explain", str(file), *sets, *options])
    run_cli(capsys, ["test", str(file)])
    run_cli(capsys, ["fmt", "--check", str(file)])


def test_cli_bad_arguments(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = str(EXAMPLES / "restauration-scolaire.tarif")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"quotient_familial": ', encoding="utf-8")
    list_json = tmp_path / "list.json"
    list_json.write_text("[1, 2]", encoding="utf-8")
    yaml_file = tmp_path / "s.yaml"
    yaml_file.write_text("quotient_familial: [1, 2]\ndemandeur_emploi: {a: 1}\n", encoding="utf-8")
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("a: [\n", encoding="utf-8")
    latin1 = tmp_path / "latin1.tarif"
    latin1.write_bytes("délibération « é »\n".encode("latin-1"))
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    empty = tmp_path / "empty.tarif"
    empty.write_text("", encoding="utf-8")
    cases = [
        [], ["--nope"], ["nope"], ["check"], ["eval"], ["eval", good, "--set"], ["eval", good, "--set", "x"],
        ["eval", good, "--set", "=1"], ["eval", good, "--set", "quotient_familial=six cents"],
        ["eval", good, "--set", "quotient_familial=-5"], ["eval", good, "--set", "quotient_familial=1e400"],
        ["eval", good, "--set", "quotient_familial=" + "9" * 80],
        ["eval", good, "--set", "demandeur_emploi=peut-être"], ["eval", good, "--set", "inconnu=1"],
        ["eval", good, "--date", "12/13/2025"], ["eval", good, "--date", "01/01/1900"], ["eval", good, "--date"],
        ["eval", good, "--situation", str(tmp_path / "absent.json")], ["eval", good, "--situation", str(bad_json)],
        ["eval", good, "--situation", str(list_json)], ["eval", good, "--situation", str(yaml_file)],
        ["eval", good, "--situation", str(bad_yaml)], ["eval", good, "--situation", str(binary)],
        ["eval", good, "--situation", str(tmp_path)], ["eval", str(tmp_path)], ["eval", str(latin1)],
        ["eval", str(empty)], ["check", str(tmp_path / "absent.tarif")], ["check", str(tmp_path)],
        ["check", str(latin1), str(empty), good], ["test", str(latin1)], ["fmt", "--check", str(latin1)],
        ["explain", good, "--json", "--set", "quotient_familial=650"], ["eval", good, "extra"],
        ["check", "bad\x00name"], ["eval", "bad\x00name"],
    ]
    for args in cases:
        run_cli(capsys, args)


# ------------------------------------------------------------------ regressions (bugs the fuzzer found)

MINIMAL = """délibération "Essai"
  applicable à partir du 01/09/2025
données
  q : montant entier, quotient familial
  r : nombre au minimum 1, rang
résultats
  t : {kind}
article 1 "Tarif"
  t : {body}
"""


def minimal(body: str, kind: str = "montant") -> RuleSet:
    return tarifrules.load(MINIMAL.format(kind=kind, body=body))


def evaluate(ruleset: RuleSet, situation: dict[str, Any]) -> Evaluation:
    evaluation = ruleset.evaluate(situation, date="01/09/2025")
    str(evaluation.explain())
    json.dumps(evaluation.to_json(), ensure_ascii=False)
    return evaluation


def test_a_path_with_a_nul_character_is_a_diagnostic() -> None:
    # was: ValueError (embedded null byte) out of `check` and `load`
    assert [d.code for d in tarifrules.check("fichier\x00.tarif")] == ["F001"]
    with pytest.raises(TarifError) as info:
        tarifrules.load(Path("fichier\x00.tarif"))
    assert info.value.diagnostics[0].code == "F001"


def test_a_datetime_is_evaluated_on_its_day() -> None:
    # was: TypeError (can't compare datetime.datetime to datetime.date)
    ruleset = tarifrules.load(EXAMPLES / "restauration-scolaire.tarif")
    evaluation = ruleset.evaluate({"quotient_familial": 650}, date=datetime.datetime(2025, 9, 1, 8, 30))
    assert evaluation.date == datetime.date(2025, 9, 1)
    with pytest.raises(TarifError) as info:
        ruleset.evaluate({}, date=datetime.datetime(2025, 8, 31, 23, 59))
    assert info.value.diagnostics[0].code == "E001"
    with pytest.raises(TarifError) as info:
        ruleset.evaluate({}, date=20250901)  # type: ignore[arg-type]
    assert info.value.diagnostics[0].code == "E004"


def test_amounts_of_more_than_28_digits_are_shown_and_explained() -> None:
    # was: decimal.InvalidOperation from `explain()` (quantize in the 28-digit default context)
    # (a situation value has at most 30 digits before the point: D008 beyond, see test_hostile_situations)
    ruleset = tarifrules.load(EXAMPLES / "restauration-scolaire.tarif")
    evaluation = evaluate(ruleset, {"quotient_familial": "9" * 30, "demandeur_emploi": False})
    assert evaluation.outputs["tarif_repas"].value == Decimal("5.40")
    huge = evaluate(minimal("q × 2"), {"q": 10**29 + 1}).outputs["t"]
    assert huge.value == Decimal(2 * (10**29 + 1))  # exact: not rounded to 28 digits
    assert huge.display() == f"{2 * (10**29 + 1):,} €".replace(",", " ").replace(" €", ",00 €")


def test_rounding_a_number_of_more_than_60_digits() -> None:
    # was: decimal.InvalidOperation (quantize in the 60-digit context); a situation value now has at
    # most 30 digits before the point (D008 beyond): a product of two reaches 60, its rounding 62
    nines = "9" * 30
    output = evaluate(minimal("q × r, arrondi au centime le plus proche"), {"q": nines, "r": nines}).outputs["t"]
    assert output.value == Decimal(int(nines) ** 2)
    with pytest.raises(TarifError) as info:
        minimal("q, arrondi au centime le plus proche").evaluate({"q": "9" * 70}, date="01/09/2025")
    assert info.value.diagnostics[0].code == "D008"


def test_rounding_to_a_multiple_of_zero_is_a_check_error() -> None:
    # was: decimal.DivisionByZero at evaluation
    text = MINIMAL.format(kind="montant", body="q × 1 %, arrondi au multiple de 0,00 € le plus proche")
    assert "T025" in [d.code for d in tarifrules.check(text) if d.is_error]
    with pytest.raises(TarifError):
        tarifrules.load(text)


def test_a_number_too_large_to_compute_is_a_diagnostic() -> None:
    # was: decimal.Overflow (a literal of a million digits, then a product past the exponent limit)
    ruleset = minimal("1" + "0" * 1_000_000 + " € × 2")
    with pytest.raises(TarifError) as info:
        ruleset.evaluate({}, date="01/09/2025")
    assert info.value.diagnostics[0].code == "E005"


def test_a_nombre_output_is_never_truncated() -> None:
    # was: 3 / 2 reported as 1 (int() of a Decimal); now a nombre result must be whole by construction
    with pytest.raises(tarifrules.TarifError) as info:
        minimal("r / 2", kind="nombre")
    assert "T023" in [d.code for d in info.value.diagnostics]
    ruleset = minimal("r / 2, arrondi à l'unité inférieur", kind="nombre")
    assert evaluate(ruleset, {"r": 3}).outputs["t"].value == 1
    assert type(evaluate(ruleset, {"r": 4}).outputs["t"].value) is int
