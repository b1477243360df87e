"""Checks that need the data catalogue (T060–T066) and the mid-October reading of MEN data."""

from __future__ import annotations

import pytest

import tarifrules
from tarifrules.diagnostics import Diagnostic

HEADER = 'délibération "{title}"\n  applicable {period}\n\n'


def _file(data: str, rules: str, *, title: str = "Tarifs", period: str = "à partir du 01/09/2025",
          output: str = "tarif : montant") -> str:
    return (HEADER.format(title=title, period=period) + f"données\n{data}\nrésultats\n  {output}\n\n"
            f'article 1 "Règle"\n{rules}')


def _codes(text: str, profile: str | None = None) -> list[str]:
    return [d.code for d in tarifrules.check(text, profile=profile)]


def _only(text: str, code: str, profile: str | None = None) -> list[Diagnostic]:
    return [d for d in tarifrules.check(text, profile=profile) if d.code == code]


QF_GRID = "  tarif : grille selon qf\n    moins de 700 € : 1,00 €\n    à partir de 700 € : 3,20 €\n"


def test_known_sources_and_declared_data_are_silent() -> None:
    text = _file("  qf : montant entier, quotient familial CAF\n"
                 "  interne : booléen, élève interne, déclaré par la famille\n",
                 "  tarif :\n    si interne : 5,00 €\n    sinon si qf < 700 € : 1,00 €\n    sinon : 3,20 €\n")
    assert _codes(text) == []


def test_unknown_source_is_a_warning_with_a_suggestion() -> None:
    [diagnostic] = _only(_file("  qf : montant entier, quotient familial CFA\n", QF_GRID), "T060")
    assert not diagnostic.is_error
    assert diagnostic.hint is not None and "Quotient familial CAF" in diagnostic.hint
    assert "déclaré par la famille" in diagnostic.hint


def test_missing_comma_before_declared_by_the_family() -> None:
    [diagnostic] = _only(_file("  qf : montant entier, revenu déclaré par la famille\n", QF_GRID), "T060")
    assert diagnostic.hint is not None and "revenu, déclaré par la famille" in diagnostic.hint


def test_datum_without_description_is_not_bound() -> None:
    assert _codes(_file("  qf : montant entier\n", QF_GRID)) == []


@pytest.mark.parametrize(("declared", "expected"), [
    ("montant au centime, quotient familial CAF", ["T061"]),
    ("montant entier, quotient familial CAF", []),
    ("montant entier, indemnités France Travail", ["T061"]),
])
def test_granularity_must_be_the_sources(declared: str, expected: list[str]) -> None:
    assert _codes(_file(f"  qf : {declared}\n", QF_GRID)) == expected


def test_boolean_declared_for_an_amount_is_an_error() -> None:
    text = _file("  indemnise : booléen, indemnités France Travail\n",
                 "  tarif :\n    si indemnise : 1,00 €\n    sinon : 3,20 €\n")
    [diagnostic] = _only(text, "T061")
    assert diagnostic.is_error and "montant au centime" in (diagnostic.hint or "")


def test_a_decimal_may_read_a_whole_number() -> None:
    text = _file("  n : décimal, nombre d'enfants CAF\n", "  tarif : 1,00 € × n\n")
    assert "T061" not in _codes(text)


ECHELON_RULES = "  tarif :\n    si échelon est 1 : 1,00 €\n    sinon : 3,20 €\n"


@pytest.mark.parametrize(("choices", "expected"), [
    ("aucun, 1, 2, 3", []),
    ("1, 2, 3", []),
    ("aucun, 1, 2, 3, 4", ["T062"]),
])
def test_college_echelons(choices: str, expected: list[str]) -> None:
    text = _file(f"  échelon : parmi ({choices}), échelon de bourse collège\n", ECHELON_RULES,
                 period="du 15/10/2025 au 31/07/2026")
    assert _codes(text) == expected


def test_college_echelon_4_points_to_the_lycee() -> None:
    text = _file("  échelon : parmi (aucun, 1, 2, 3, 4), échelon de bourse collège\n", ECHELON_RULES,
                 period="du 15/10/2025 au 31/07/2026")
    [diagnostic] = _only(text, "T062")
    assert "« 4 »" in diagnostic.message and "échelon de bourse lycée" in (diagnostic.hint or "")


def test_france_travail_categories_are_numbered() -> None:
    text = _file("  catégorie : parmi (A, B, C), catégorie de demandeur d'emploi\n",
                 "  tarif :\n    si catégorie est A : 1,00 €\n    sinon : 3,20 €\n")
    [diagnostic] = _only(text, "T062")
    assert diagnostic.hint is not None and "numérotées 1 à 5" in diagnostic.hint


def test_aucun_for_a_source_that_always_answers() -> None:
    text = _file("  catégorie : parmi (aucun, 1, 2), catégorie de demandeur d'emploi\n",
                 "  tarif :\n    si catégorie est 1 : 1,00 €\n    sinon : 3,20 €\n")
    [diagnostic] = _only(text, "T062")
    assert "retirez « aucun »" in (diagnostic.hint or "")


RFR_GRID = "  tarif : grille selon rfr\n    moins de 20 000 € : 1,20 €\n    à partir de 20 000 € : 2,40 €\n"


@pytest.mark.parametrize(("title", "expected"), [
    ("Participation familiale de la crèche municipale", True),
    ("Tarifs du multi-accueil", True),
    ("Tarifs EAJE 2026", True),
    ("Tarifs de la halte-garderie", True),
    ("Tarifs de la restauration scolaire", False),
    ("Accueil de loisirs", False),
])
def test_tax_data_in_a_creche(title: str, expected: bool) -> None:
    text = _file("  rfr : montant entier, revenu fiscal de référence\n", RFR_GRID, title=title)
    assert ("T063" in _codes(text)) is expected


def test_creche_named_in_the_header_note() -> None:
    text = _file("  rfr : montant entier, revenu fiscal de référence\n", RFR_GRID).replace(
        "  applicable", '  note : "Établissement d\'accueil du jeune enfant"\n  applicable')
    assert "T063" in _codes(text)


BOURSIER_RULES = "  tarif :\n    si boursier : 1,00 €\n    sinon : 3,20 €\n"


@pytest.mark.parametrize(("period", "expected"), [
    ("du 01/09/2025 au 31/08/2026", True),
    ("à partir du 01/09/2025", True),
    ("du 15/10/2025 au 31/07/2026", False),
    ("du 01/11/2025 au 30/06/2026", False),
    ("du 15/10/2025 au 31/08/2026", True),  # August: the base is purged
])
def test_men_negative_before_mid_october(period: str, expected: bool) -> None:
    text = _file("  boursier : booléen, élève boursier\n", BOURSIER_RULES, period=period)
    assert ("T064" in _codes(text)) is expected


def test_declared_boursier_status_is_not_concerned() -> None:
    text = _file("  boursier : booléen, élève boursier, déclaré par la famille\n", BOURSIER_RULES)
    assert _codes(text) == []


def test_evaluator_reads_an_early_no_as_unknown() -> None:
    rules = tarifrules.load(_file("  boursier : booléen, élève boursier\n", BOURSIER_RULES))
    early = rules.evaluate({"boursier": "non"}, date="01/10/2025")
    assert early.outputs["tarif"].status == "unknown"
    assert early.missing == ("boursier",)
    assert early.set_aside == ("boursier",)
    assert "n'est pas fiable avant mi-octobre" in str(early.explain())
    assert rules.evaluate({"boursier": "oui"}, date="01/10/2025").outputs["tarif"].display() == "1,00 €"
    assert rules.evaluate({"boursier": "non"}, date="15/10/2025").outputs["tarif"].display() == "3,20 €"
    assert rules.evaluate({"boursier": "non"}, date="31/07/2026").outputs["tarif"].display() == "3,20 €"
    assert rules.evaluate({"boursier": "non"}, date="01/08/2026").outputs["tarif"].status == "unknown"


def test_evaluator_reads_an_early_aucun_echelon_as_unknown() -> None:
    rules = tarifrules.load(_file("  échelon : parmi (aucun, 1, 2, 3), échelon de bourse collège\n",
                                  "  tarif :\n    si échelon est aucun : 3,20 €\n    sinon : 1,00 €\n"))
    assert rules.evaluate({"échelon": "aucun"}, date="01/09/2025").outputs["tarif"].status == "unknown"
    assert rules.evaluate({"échelon": "2"}, date="01/09/2025").outputs["tarif"].display() == "1,00 €"
    assert rules.evaluate({"échelon": "aucun"}, date="16/10/2025").outputs["tarif"].display() == "3,20 €"


# ------------------------------------------------------------------ profil cantine à 1 €

CANTINE = "  qf : montant entier, quotient familial CAF\n"


def _grid(*rows: str) -> str:
    return "  tarif : grille selon qf\n" + "".join(f"    {row}\n" for row in rows)


def test_a_good_cantine_grid_passes() -> None:
    text = _file(CANTINE, _grid("moins de 700 € : 1,00 €", "de 700 € à 1 000 € exclu : 2,00 €",
                                "à partir de 1 000 € : 3,20 €"))
    assert _codes(text, "cantine-1-euro") == []


def test_champcevinel_meets_the_profile() -> None:
    assert tarifrules.check("examples/deliberations/champcevinel-cantine.tarif", profile="cantine-1-euro") == []


@pytest.mark.parametrize(("rows", "words"), [
    (("moins de 700 € : 1,00 €", "à partir de 700 € : 3,20 €"), "au moins 3"),
    (("moins de 700 € : 1,50 €", "de 700 € à 1 000 € exclu : 2,00 €", "à partir de 1 000 € : 3,20 €"),
     "1,00 € ou moins"),
    (("moins de 700 € : 1,00 €", "de 700 € à 1 000 € exclu : 3,20 €", "à partir de 1 000 € : 2,00 €"),
     "pas progressive"),
    (("moins de 700 € : 0,50 €", "de 700 € à 1 000 € exclu : 0,80 €", "à partir de 1 000 € : 1,00 €"),
     "plus de 1,00 €"),
])
def test_cantine_conditions(rows: tuple[str, ...], words: str) -> None:
    messages = [d.message for d in _only(_file(CANTINE, _grid(*rows)), "T065", "cantine-1-euro")]
    assert any(words in message for message in messages), messages


def test_cantine_grid_must_read_income() -> None:
    text = _file("  âge : nombre, âge de l'enfant, déclaré par la famille\n",
                 "  tarif : grille selon âge\n    moins de 6 : 1,00 €\n    de 6 à 10 exclu : 2,00 €\n"
                 "    à partir de 10 : 3,00 €\n")
    [diagnostic] = _only(text, "T065", "cantine-1-euro")
    assert "ni selon le quotient familial ni selon les revenus" in diagnostic.message


def test_cantine_grid_on_a_computed_fiscal_quotient() -> None:
    text = _file("  rfr : montant entier, revenu fiscal de référence\n  parts : décimal, nombre de parts fiscales\n",
                 "  quotient : rfr / 12 / parts\n  tarif : grille selon quotient\n    moins de 700 € : 1,00 €\n"
                 "    de 700 € à 1 000 € exclu : 2,00 €\n    à partir de 1 000 € : 3,20 €\n")
    assert "T065" not in _codes(text, "cantine-1-euro")


def test_cantine_without_grid() -> None:
    assert _codes(_file(CANTINE, "  tarif : 3,20 €\n"), "cantine-1-euro").count("T065") == 1


def test_social_price_above_qf_1000_is_a_warning() -> None:
    text = _file(CANTINE, _grid("moins de 1 200 € : 1,00 €", "de 1 200 € à 1 800 € exclu : 2,50 €",
                                "à partir de 1 800 € : 3,20 €"))
    [diagnostic] = _only(text, "T066", "cantine-1-euro")
    assert not diagnostic.is_error


def test_profile_is_not_applied_without_the_option() -> None:
    assert "T065" not in _codes(_file(CANTINE, "  tarif : 3,20 €\n"))


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="profil inconnu"):
        tarifrules.check(_file(CANTINE, "  tarif : 3,20 €\n"), profile="cantine-2-euros")
