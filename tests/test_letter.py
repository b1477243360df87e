"""The explanation letter (`explain --format lettre`): golden files, and only the household's data.

Golden files live in tests/golden/lettres/ (`--update-golden` rewrites them). The
property test runs every worked example of every example file: the letter names each
datum the evaluator read, and no datum of the situation that it did not read.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import tarifrules
from tarifrules.cli import cli
from tarifrules.examples import example_date, example_situation
from tarifrules.pages.letter import build_letter, cited_source, read_data

from .helpers import EXAMPLES, GOLDEN, ROOT, assert_golden

CANTINE = str(Path("examples") / "deliberations" / "restauration-scolaire.tarif")
LAVANDIER = str(Path("examples") / "identites" / "lavandier.json")

CASES = {
    "cantine-fetch": ["explain", CANTINE, "--fetch", "--identite", LAVANDIER, "--date", "15/10/2025"],
    "cantine-qf-seul": ["explain", CANTINE, "--set", "quotient_familial=650", "--date", "15/10/2025"],
    "cantine-qf-1800": ["explain", CANTINE, "--set", "quotient_familial=1800", "--set", "demandeur_emploi=non",
                        "--date", "15/10/2025"],
    "taux-effort": ["explain", "examples/deliberations/accueil-loisirs-taux-effort.tarif", "--set",
                    "quotient_familial=190", "--date", "01/10/2025"],
    "college": ["explain", "examples/deliberations/college-aide-bourse.tarif", "--set", "échelon=2",
                "--set", "interne=oui", "--date", "01/12/2025"],
}


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("API_PARTICULIER_TOKEN", raising=False)
    monkeypatch.delenv("API_PARTICULIER_RECIPIENT", raising=False)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("name", sorted(CASES))
def test_letter_matches_its_golden_file(name: str) -> None:
    code, out, err = run(*CASES[name], "--format", "lettre")
    assert code == 0, err
    assert_golden(GOLDEN / "lettres" / f"{name}.md", out)


def test_html_letter_matches_its_golden_file(tmp_path: Path) -> None:
    target = tmp_path / "lettre.html"
    code, out, err = run(*CASES["cantine-fetch"], "--format", "lettre-html", "--sortie", str(target))
    assert code == 0 and out == "" and "explication écrite dans" in err
    assert_golden(GOLDEN / "lettres" / "cantine-fetch.html", target.read_text(encoding="utf-8"))


def test_the_letter_cites_the_api_source_and_date_of_each_datum() -> None:
    _, out, _ = run(*CASES["cantine-fetch"], "--format", "lettre")
    assert "quotient familial de 650 €, fourni par la CAF via API Particulier, calculé en octobre 2025" in out
    assert ("Avec un quotient familial inférieur à 400 €, le prix d'un repas facturé à la famille serait de 1,00 €"
            in out)
    for element in ("1. Comment le traitement", "2. Les données utilisées", "3. Les paramètres appliqués",
                    "4. Les opérations effectuées", "Article 1", "Article 2"):
        assert element in out


def test_cited_source_rewrites_months_and_providers() -> None:
    assert cited_source("source CAF via API Particulier, calculé en 01/2026") == \
        "fourni par la CAF via API Particulier, calculé en janvier 2026"
    assert cited_source("déclaré par la famille") == "déclaré par la famille"


def test_json_and_letter_do_not_mix() -> None:
    code, _, err = run(*CASES["taux-effort"], "--json", "--format", "lettre")
    assert code == 2 and "ne vont pas ensemble" in err


def _worked_examples() -> list[tuple[str, int]]:
    return [(path.name, index) for path in sorted(EXAMPLES.glob("*.tarif"))
            for index in range(len(tarifrules.load(path).program.examples))]


def _data_section(letter: str) -> str:
    return letter.split("## 2. Les données utilisées et leur source")[1].split("## 3.")[0]


@pytest.mark.parametrize(("file", "index"), _worked_examples())
def test_the_letter_names_the_data_read_and_nothing_else(file: str, index: int) -> None:
    rules = tarifrules.load(EXAMPLES / file)
    example = rules.program.examples[index]
    evaluation = rules.evaluate(example_situation(example), date=example_date(example, rules.valid_from))
    letter = build_letter(evaluation).to_markdown()
    read = read_data(evaluation, rules.trace(dict(evaluation.data)))
    section = _data_section(letter)
    for datum in rules.data_names:
        label = datum.replace("_", " ")
        listed = re.search(rf"^- {re.escape(label)}( de | : )", section, re.M) is not None
        expected = (datum in evaluation.data and datum in read) or datum in evaluation.missing
        assert listed == expected, f"{file} « {example.title} » : {datum} {'absent' if expected else 'en trop'}"


def test_neighbouring_cases_are_evaluated_not_assumed() -> None:
    from tarifrules.pages.alternatives import alternatives

    rules = tarifrules.load(EXAMPLES / "wavrin-centre-loisirs.tarif")
    situation = {"quotient_familial": "650,50", "rang_enfant": 2, "exterieur": "non", "conditions_ccas": "non"}
    evaluation = rules.evaluate(situation, date="21/10/2025")
    found = {a.condition: a.display for a in alternatives(evaluation, set(situation))}
    for condition, display in found.items():
        assert display != evaluation.outputs["tarif_journee"].display(), condition
    assert found["avec un rang enfant égal à 1"] == rules.evaluate({**situation, "rang_enfant": 1},
                                                                   date="21/10/2025").outputs["tarif_journee"].display()
    assert found["avec un quotient familial compris entre 308,01 € et 500 €"] == "5,00 €"
    assert "si exterieur était « oui »" in found
    rate = tarifrules.load(EXAMPLES / "accueil-loisirs-taux-effort.tarif")
    assert alternatives(rate.evaluate({"quotient_familial": 650}, date=rate.valid_from), {"quotient_familial"}) == []
