"""Targeted checker behaviours that the golden corpus does not spell out one by one."""

from __future__ import annotations

import tarifrules

HEADER = 'délibération "Essai"\n  applicable à partir du 01/01/2025\n'


def codes(text: str) -> list[str]:
    return [d.code for d in tarifrules.check(HEADER + text) if d.is_error]


def test_grid_on_a_date_is_checked_in_days() -> None:
    data = "données\n  naissance : date\nrésultats\n  tarif : montant\narticle 1\n  tarif : grille selon naissance\n"
    complete = "    jusqu'à 31/12/2009 inclus : 1 €\n    à partir de 01/01/2010 : 2 €\n"
    assert codes(data + complete) == []
    gap = "    jusqu'à 30/12/2009 inclus : 1 €\n    à partir de 01/01/2010 : 2 €\n"
    assert codes(data + gap) == ["T012"]
    no_start = "    de 01/01/2000 à 31/12/2009 inclus : 1 €\n    à partir de 01/01/2010 : 2 €\n"
    assert codes(data + no_start) == ["T012"]  # a date has no natural lower end
    rules = tarifrules.load(HEADER + data + complete)
    assert str(rules.evaluate({"naissance": "31/12/2009"}).outputs["tarif"].value) == "1.00"


def test_computed_selector_may_start_at_zero_only_if_it_cannot_go_negative() -> None:
    data = "données\n  revenus : montant\n  parts : nombre au minimum 1\nrésultats\n  tarif : montant\narticle 1\n"
    grid = "    de 0 € à 1 000 € exclu : 1 €\n    à partir de 1 000 € : 2 €\n"
    assert codes(data + "  tarif : grille selon revenus / parts\n" + grid) == []
    assert codes(data + "  tarif : grille selon revenus − 500 €\n" + grid) == ["T012"]
    open_start = "    moins de 1 000 € : 1 €\n    à partir de 1 000 € : 2 €\n"
    assert codes(data + "  tarif : grille selon revenus − 500 €\n" + open_start) == []


def test_integer_granularity_closes_gaps_that_cents_would_leave() -> None:
    body = ("résultats\n  tarif : montant\narticle 1\n  tarif : grille selon qf\n"
            "    jusqu'à 622 € inclus : 1 €\n    à partir de 623 € : 3,30 €\n")
    assert codes("données\n  qf : montant entier\n" + body) == []
    assert codes("données\n  qf : montant au centime\n" + body) == ["T012"]


def test_conflicting_definitions_are_found_with_a_household() -> None:
    text = ("données\n  a : booléen\n  n : nombre\nrésultats\n  t : montant\n"
            "article 1\n  t : 1 €\n    si a\narticle 2\n  t : 2 €\n    si n ≥ 3\narticle 3\n  t : 0 €\n"
            "    si non a et n < 3\n")
    diagnostics = [d for d in tarifrules.check(HEADER + text) if d.code == "T040"]
    assert len(diagnostics) == 1
    assert "a = oui" in diagnostics[0].message and "n = 3" in diagnostics[0].message
    with_priority = text.replace("    si n ≥ 3\n", "    si n ≥ 3\n    par dérogation à l'article 1\n")
    assert codes(with_priority) == []


def test_a_name_left_without_value_is_reported_with_the_household() -> None:
    text = ("données\n  rang : nombre au minimum 1\nrésultats\n  t : montant\narticle 1\n  t :\n"
            "    si rang = 1 : 3 €\n    sinon si rang = 2 : 2 €\n")
    diagnostics = [d for d in tarifrules.check(HEADER + text) if d.code == "T042"]
    assert diagnostics and "rang = 3" in diagnostics[0].message
    bounded = text.replace("au minimum 1", "au minimum 1 au plus 2")
    assert codes(bounded) == []
