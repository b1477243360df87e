"""Every keyword of the grammar (grammars/tarif.lark) is documented in docs/langage.md.

Keywords are the quoted words of the rules (`"délibération"`, `"grille"`…) and the
multi-word terminals written as regular expressions (`/sauf[ \\t]+si/` is « sauf si »,
`/(inclus|incluse|exclu|exclue)/` is four words); operators are the symbols of
COMPARATOR, ADD_OP, MUL_OP and UNIT. A new keyword without documentation fails here.
"""

from __future__ import annotations

import re

import pytest

from .helpers import ROOT

GRAMMAR = (ROOT / "grammars" / "tarif.lark").read_text(encoding="utf-8")
LANGAGE = (ROOT / "docs" / "langage.md").read_text(encoding="utf-8")


def _phrases(pattern: str) -> list[str]:
    """The French words a terminal's regular expression matches (spaces and apostrophes made canonical)."""
    text = pattern.replace("(?![\\w])", "").replace("[ \\t]+", " ").replace("['’][ \\t]*", "'")
    text = text.replace("['’]", "'")
    match = re.fullmatch(r"\((.*)\)", text)
    return match.group(1).split("|") if match else [text]


def keywords() -> list[str]:
    found: list[str] = []
    rules = GRAMMAR.split("// ---------------------------------------------------------------- terminals")[0]
    found += re.findall(r"\"([^\W\d_][\w-]*)\"", rules)
    for _name, pattern in re.findall(r"^([A-Z_]+)(?:\.\d)?: /(.*)/$", GRAMMAR, re.M):
        if re.fullmatch(r"[\w\s'()|\[\]\\?!+*à-ÿ’-]+", pattern) and not re.search(r"\\d|\[\^", pattern):
            found += _phrases(pattern)
    for name in ("MONTANT", "NOMBRE", "DECIMAL_TYPE", "TAUX", "BOOLEEN", "DATE_TYPE"):
        found += re.findall(rf"^{name}: \"(.*)\"$", GRAMMAR, re.M)
    return sorted(set(found))


def operators() -> list[str]:
    found: list[str] = []
    for name in ("COMPARATOR", "ADD_OP", "MUL_OP", "UNIT"):
        line = re.search(rf"^{name}: (.*)$", GRAMMAR, re.M)
        assert line, name
        found += re.findall(r"\"([^\"]+)\"", line.group(1))
    return found


def _normal(text: str) -> str:
    return " ".join(text.replace("’", "'").split()).lower()


def test_the_grammar_has_the_expected_keywords() -> None:
    words = keywords()
    assert {"délibération", "grille", "selon", "sauf si", "par dérogation à l'article", "à partir de",
            "arrondi", "le plus proche", "inclus", "exclue", "indéterminé", "montant"} <= set(words)


@pytest.mark.parametrize("keyword", keywords())
def test_every_keyword_is_documented(keyword: str) -> None:
    assert re.search(rf"(?<![\w]){re.escape(_normal(keyword))}(?![\w])", _normal(LANGAGE)), (
        f"le mot-clé « {keyword} » de la grammaire n'apparaît pas dans docs/langage.md")


@pytest.mark.parametrize("operator", operators())
def test_every_operator_is_documented(operator: str) -> None:
    assert operator in LANGAGE, f"l'opérateur « {operator} » n'apparaît pas dans docs/langage.md"
