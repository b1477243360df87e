"""The formatter: golden files, and the layout rules one at a time.

`tests/golden/fmt/NAME.tarif` is formatted and compared with `NAME.expected.tarif`;
`pytest --update-golden` (or `UPDATE_GOLDEN=1`) rewrites the expected files, to be reviewed
in the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tarifrules import nodes as n
from tarifrules.diagnostics import TarifError
from tarifrules.formatter import format_program, format_source
from tarifrules.parser import parse

from .helpers import GOLDEN, assert_golden

FMT = GOLDEN / "fmt"
INPUTS = sorted(path for path in FMT.glob("*.tarif") if not path.name.endswith(".expected.tarif"))


def _expected(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".tarif") + ".expected.tarif")


def test_golden_inputs_are_present() -> None:
    assert {path.stem for path in INPUTS} >= {"messy", "comments", "bounds", "expressions"}


@pytest.mark.parametrize("path", INPUTS, ids=lambda path: path.stem)
def test_golden(path: Path) -> None:
    assert_golden(_expected(path), format_source(path.read_text(encoding="utf-8"), path.name))


@pytest.mark.parametrize("path", INPUTS, ids=lambda path: path.stem)
def test_golden_output_is_stable_and_means_the_same(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    expected = _expected(path).read_text(encoding="utf-8")
    assert format_source(expected) == expected
    assert parse(expected) == parse(source)
    # No comment lost or duplicated (reordered header items take their comments along).
    assert sorted(c.text for c in parse(expected).comments) == sorted(c.text for c in parse(source).comments)


def body(definition: str, declarations: str = "") -> str:
    """The formatted right-hand side of a one-definition file."""
    text = f'délibération "T"\n{declarations}article 1\n  x : {definition}\n'
    line = format_source(text).splitlines()[-1]
    assert line.startswith("  x : ")
    return line.removeprefix("  x : ")


@pytest.mark.parametrize(
    ("written", "formatted"),
    [
        ("1,00 €", "1,00 €"),
        ("1000 €", "1 000 €"),
        ("1234,56€", "1 234,56 €"),
        ("1 234 567,5", "1 234 567,5"),
        ("50%", "50 %"),
        ("2,10 €", "2,10 €"),
        ("0,045 %", "0,045 %"),
        ("01/09/2025", "01/09/2025"),
        ("oui", "oui"),
    ],
)
def test_numbers_keep_their_written_places(written: str, formatted: str) -> None:
    assert body(written) == formatted


@pytest.mark.parametrize(
    ("written", "formatted"),
    [
        ("a * b - c", "a × b − c"),
        ("a ÷ b", "a / b"),
        ("a <= b", "a ≤ b"),
        ("a >= b", "a ≥ b"),
        ("a != b", "a ≠ b"),
        ("((a)) + (b × c)", "a + b × c"),
        ("(a + b) × c", "(a + b) × c"),
        ("a − (b − c)", "a − (b − c)"),
        ("(a − b) − c", "a − b − c"),
        ("a / (b / c)", "a / (b / c)"),
        ("non (a et b)", "non (a et b)"),
        ("(a ou b) et c", "(a ou b) et c"),
        ("a ou (b et c)", "a ou b et c"),
        ("(a est 1) ou b", "(a est 1) ou b"),
        ("b ou (a est 1 ou 2)", "b ou a est 1 ou 2"),
        ("(le minimum de a et b) × 2", "(le minimum de a et b) × 2"),
        ("le maximum de (a) et b + 1", "le maximum de a et b + 1"),
        ("(a, au minimum 1) + 2", "(a, au minimum 1) + 2"),
        ("(a à défaut 0) + 2", "(a à défaut 0) + 2"),
        ("a à défaut 0", "a, à défaut 0"),
        ("a,au plus 3 €,arrondi au multiple de 0,05€ inférieur",
         "a, au plus 3 €, arrondi au multiple de 0,05 € inférieur"),
    ],
)
def test_operators_and_minimal_parentheses(written: str, formatted: str) -> None:
    assert body(written) == formatted


def test_strings_use_guillemets_only_around_double_quotes() -> None:
    text = format_source('délibération «Le "vrai" titre»\n  note : « sans guillemets »\n')
    assert text.splitlines()[:2] == ['délibération « Le "vrai" titre »', '  note : "sans guillemets"']


def test_grid_rows_are_aligned_on_their_colon() -> None:
    text = format_source(
        'délibération "T"\narticle 1\n  x : grille selon q\n    moins de 1 € : 1 €\n'
        "    de 1 € à 1 000 € exclu : 2 €  # milieu\n    à défaut : 3 €\n"
    )
    assert text.splitlines()[-3:] == [
        "    moins de 1 €           : 1 €",
        "    de 1 € à 1 000 € exclu : 2 €  # milieu",
        "    à défaut               : 3 €",
    ]


def test_comments_stay_with_their_lines() -> None:
    source = (
        "# en tête\n\n"
        'délibération "T"  # titre\n'
        "  # avant la note\n"
        '  note : "n"\n'
        "article 1\n"
        "  x : 1  # un\n"
        "    si a  # condition\n"
        "  # entre deux\n"
        "  y : 2\n"
        "# fin\n"
    )
    formatted = format_source(source)
    assert formatted == (
        "# en tête\n\n"
        'délibération "T"  # titre\n'
        "  # avant la note\n"
        '  note : "n"\n'
        "\n"
        "article 1\n"
        "  x : 1  # un\n"
        "    si a  # condition\n"
        "  # entre deux\n"
        "  y : 2\n"
        "# fin\n"
    )
    assert format_source(formatted) == formatted


def test_program_without_comments_or_spans_formats() -> None:
    program = n.Program(
        n.Header("T", (n.HeaderItem("note", "n"),)),
        (n.Declaration("q", n.TypeSpec(n.Kind.MONTANT, n.Granularity.CENTIME), "QF"),),
        (),
        (n.Article("1", "A", (n.Definition("x", n.Ref("q")),)),),
        (),
    )
    text = format_program(program)
    assert text == (
        'délibération "T"\n  note : "n"\n\ndonnées\n  q : montant au centime, QF\n\n'
        'article 1 "A"\n  x : q\n'
    )
    assert parse(text) == program


def test_syntax_error_is_raised() -> None:
    with pytest.raises(TarifError):
        format_source('délibération "T"\narticle 1\n  x : 1 × × 2\n')


def test_comment_after_a_lone_quote_in_a_description_is_kept() -> None:
    source = 'délibération "T # pas un commentaire"\ndonnées\n  x : montant, le « QF  # gardé\n'
    formatted = format_source(source)
    assert formatted.splitlines()[-1] == "  x : montant au centime, le « QF  # gardé"
    assert [c.text for c in parse(formatted).comments] == ["# gardé"]
