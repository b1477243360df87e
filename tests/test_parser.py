import pytest

from tarifrules.diagnostics import TarifError
from tarifrules.parser import parse

MINIMAL = """délibération "Essai"
  applicable à partir du 01/09/2025
données
  quotient_familial : montant entier, quotient familial CAF
résultats
  tarif : montant
article 1 "Tarif"
  tarif : quotient_familial × 1 %
"""


def test_parses_minimal_file():
    program = parse(MINIMAL, "essai.tarif")
    assert program.header.title == "Essai"
    assert [d.name for d in program.data] == ["quotient_familial"]
    assert program.articles[0].definitions[0].name == "tarif"


def test_syntax_error_is_located():
    with pytest.raises(TarifError) as info:
        parse(MINIMAL.replace("× 1 %", "× × 1 %"), "essai.tarif")
    diagnostic = info.value.diagnostics[0]
    assert diagnostic.code == "S001"
    assert (diagnostic.span.line, diagnostic.span.column) == (8, 31)
