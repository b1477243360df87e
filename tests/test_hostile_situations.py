"""Hostile situations (issue 15, items 3 and 7): YAML 1.1 readings, duplicate keys, huge numbers,
deep nesting, thousands of undeclared keys, digits other than 0 to 9.

Each case goes through the command line (`eval`/`explain` with `--situation` or `--set`), the
library (`RuleSet.evaluate`) and, where it applies, the service (`POST /evaluer`). The corpus
is in `tests/hostile/situations/`; big or deep inputs are made here from a short recipe.

Reference file: `examples/deliberations/restauration-scolaire.tarif`, where a household that is
not a job seeker pays 2,10 € with a quotient of 650 € or 488 €, and 3,20 € with 750 €.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import tarifrules
from tarifrules.schema import situation_schema, validator

from .helpers import ROOT
from .hostile_support import HOSTILE, assert_handled, library_error, messages, run_cli

CASES = HOSTILE / "situations"
CANTINE = ROOT / "examples" / "deliberations" / "restauration-scolaire.tarif"
DATE = "01/10/2025"


@pytest.fixture(scope="module")
def cantine() -> tarifrules.RuleSet:
    return tarifrules.load(CANTINE)


def _eval(*args: str | Path, command: str = "eval") -> Any:
    return run_cli([command, CANTINE, *args, "--date", DATE])


# ------------------------------------------------------------------ YAML read as text (item 3)


@pytest.mark.parametrize(("case", "price"), [
    ("yaml-octal.yaml", "3,20 €"),  # YAML 1.1: 0750 is octal 488 (2,10 €)
    ("yaml-etiquette-int.yaml", "3,20 €"),  # an explicit !!int tag builds nothing: the text stays 0750
])
def test_yaml_numbers_are_read_as_set_reads_them(case: str, price: str) -> None:
    for command in ("eval", "explain"):
        result = _eval("--situation", CASES / case, command=command)
        assert_handled(result, 0, price)
    assert_handled(_eval("--set", "quotient_familial=0750", "--set", "demandeur_emploi=non"), 0, "3,20 €")


@pytest.mark.parametrize(("case", "value"), [
    ("yaml-sexagesimal.yaml", "1:05:00"),  # YAML 1.1: 3 900
    ("yaml-souligne.yaml", "6_50"),  # YAML 1.1: 650
    ("yaml-hexadecimal.yaml", "0x28A"),  # YAML 1.1: 650
])
def test_yaml_number_spellings_that_set_refuses_are_refused(case: str, value: str,
                                                            cantine: tarifrules.RuleSet) -> None:
    assert_handled(_eval("--situation", CASES / case), 2, "D002", f"« {value} »", "n'est pas un nombre")
    assert_handled(_eval("--set", f"quotient_familial={value}"), 2, "D002")
    error = library_error(lambda: cantine.evaluate({"quotient_familial": value}, date=DATE))
    assert "D002" in messages(error)


def test_a_yaml_tag_never_runs_code(tmp_path: Path) -> None:
    result = run_cli(["eval", CANTINE, "--situation", CASES / "yaml-etiquette-python.yaml", "--date", DATE],
                     cwd=tmp_path)
    assert_handled(result, 2, "D002", "une liste")
    assert "executé" not in result.stdout + result.stderr


def test_yaml_yes_is_not_a_boolean_word() -> None:
    # as with --set demandeur_emploi=yes: the words are oui/non, vrai/faux, true/false, o/n, 1/0
    assert_handled(_eval("--situation", CASES / "yaml-yes.yaml"), 2, "D005", "« yes »")
    assert_handled(_eval("--set", "quotient_familial=650", "--set", "demandeur_emploi=yes"), 2, "D005")


@pytest.mark.parametrize("case", ["yaml-cle-en-double.yaml", "json-cle-en-double.json"])
def test_a_key_given_twice_is_an_error_naming_it(case: str) -> None:
    assert_handled(_eval("--situation", CASES / case), 2, "« quotient_familial »", "deux fois")


# ------------------------------------------------------------------ numbers (item 7)


@pytest.mark.parametrize("case", ["json-exposant-geant.json", "json-exposant-negatif.json"])
def test_a_huge_exponent_is_refused_before_any_arithmetic(case: str) -> None:
    started = time.monotonic()
    for command in ("eval", "explain"):
        assert_handled(_eval("--situation", CASES / case, command=command), 2, "D008", "trop de chiffres")
    assert time.monotonic() - started < 20


def test_a_5000_digit_integer_is_refused(tmp_path: Path, cantine: tarifrules.RuleSet) -> None:
    situation = tmp_path / "long.json"
    situation.write_text(f'{{"quotient_familial": {"7" * 5000}}}', encoding="utf-8")
    assert_handled(_eval("--situation", situation), 2, "D008")
    assert_handled(_eval("--set", f"quotient_familial={'7' * 5000}"), 2, "D008")
    for value in (10 ** 5000, Decimal("1e999999999"), Decimal("1e-999999999"), "7" * 5000, 1e300):
        error = library_error(lambda v=value: cantine.evaluate({"quotient_familial": v}, date=DATE))  # type: ignore[misc]
        assert "D008" in messages(error)


def test_thirty_digits_are_accepted(cantine: tarifrules.RuleSet) -> None:
    assert_handled(_eval("--set", f"quotient_familial={'9' * 30}", "--set", "demandeur_emploi=non"), 0, "5,40 €")
    assert_handled(_eval("--set", "quotient_familial=650," + "0" * 40, "--set", "demandeur_emploi=non"), 0,
                   "2,10 €")
    evaluation = cantine.evaluate({"quotient_familial": 10 ** 30 - 1, "demandeur_emploi": False}, date=DATE)
    assert evaluation.outputs["tarif_repas"].value == Decimal("5.40")


def test_nan_and_leading_zeros_in_json_are_refused() -> None:
    assert_handled(_eval("--situation", CASES / "json-nan.json"), 2, "NaN")
    assert_handled(_eval("--situation", CASES / "json-zero-en-tete.json"), 2, "n'est pas un JSON/YAML valide")


# ------------------------------------------------------------------ nesting, size, many keys


@pytest.mark.parametrize(("name", "text"), [
    ("profond.json", '{"quotient_familial": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    ("profond.yaml", "quotient_familial: " + "[" * 20_000 + "]" * 20_000 + "\n"),
    ("profond-blocs.yaml", "".join("  " * depth + f"n{depth}:\n" for depth in range(900))),
])
def test_deep_nesting_is_a_french_error(tmp_path: Path, name: str, text: str) -> None:
    situation = tmp_path / name
    situation.write_text(text, encoding="utf-8")
    assert_handled(_eval("--situation", situation), 2, "imbrication trop profonde")


def test_a_situation_file_beyond_the_limit_is_refused(tmp_path: Path) -> None:
    situation = tmp_path / "gros.json"
    situation.write_text('{"quotient_familial": 650, "note": "' + "x" * 2_000_000 + '"}', encoding="utf-8")
    assert_handled(_eval("--situation", situation), 2, "trop gros", "1 Mo")


def test_thousands_of_undeclared_keys_give_twenty_errors_then_a_count(tmp_path: Path) -> None:
    situation = tmp_path / "cles.json"
    situation.write_text(json.dumps({f"donnee_{i}": 1 for i in range(5000)}), encoding="utf-8")
    started = time.monotonic()
    result = _eval("--situation", situation)
    assert_handled(result, 2, "D009", "et 4 980 autres problèmes")
    assert result.stderr.count("erreur[D001]") == 20
    assert time.monotonic() - started < 20


@pytest.mark.parametrize(("name", "text"), [
    ("cles.yaml", "".join(f"k{i:05d}: 1\n" for i in range(99_000))),  # just under 1 Mo
    ("cles.json", json.dumps({f"k{i:05d}": 1 for i in range(70_000)})),
])
def test_too_many_keys_in_a_file_are_refused(tmp_path: Path, name: str, text: str) -> None:
    situation = tmp_path / name
    situation.write_text(text, encoding="utf-8")
    assert_handled(_eval("--situation", situation), 2, "plus de 10\u202f000 clés")


def test_an_unclosed_string_of_escaped_quotes_is_read_in_linear_time(tmp_path: Path) -> None:
    situation = tmp_path / "guillemets.json"
    situation.write_text('{"quotient_familial": "' + '\\"' * 400_000, encoding="utf-8")
    assert_handled(_eval("--situation", situation), 2, "n'est pas un JSON/YAML valide")


def test_half_a_million_undeclared_keys_in_the_library(cantine: tarifrules.RuleSet) -> None:
    situation = {f"donnee_{i}": 1 for i in range(500_000)}
    started = time.monotonic()
    error = library_error(lambda: cantine.evaluate(situation, date=DATE))
    assert time.monotonic() - started < 5
    codes = [d.code for d in error.diagnostics]
    assert codes == ["D001"] * 20 + ["D009"]
    assert "et 499 980 autres problèmes" in error.diagnostics[-1].message


@pytest.mark.parametrize("case", ["json-chiffres-arabes.json", "json-chiffres-pleine-chasse.json",
                                  "yaml-chiffres-arabes.yaml"])
def test_digits_other_than_0_to_9_in_a_situation_file(case: str) -> None:
    assert_handled(_eval("--situation", CASES / case), 2, "D002", "chiffres autres que 0 à 9")


# ------------------------------------------------------------------ the same strings everywhere


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    testclient = pytest.importorskip("fastapi.testclient")
    from tarifrules.service.app import create_app

    folder = tmp_path_factory.mktemp("servi")
    shutil.copy(CANTINE, folder / CANTINE.name)
    with testclient.TestClient(create_app(folder)) as test_client:
        yield test_client


def _codes(response: Any) -> list[str]:
    return [e["code"] for e in response.json().get("errors", [])]


_SPELLINGS = [
    ("650", True), ("0750", True), (" 650 € ", True), ("650,00", True), ("1 234", True), ("9" * 30, True),
    ("650," + "0" * 40, True), ("0" * 40 + "650", True),
    ("٦٥٠", False), ("６５０", False), ("6٥0", False), ("1:05:00", False), ("6_50", False), ("0x28A", False),
    ("1e3", False), ("9" * 31, False), ("0," + "0" * 30 + "1", False), ("650\u0660", False),
]


@pytest.mark.parametrize(("text", "accepted"), _SPELLINGS)
def test_cli_library_schema_and_service_accept_the_same_strings(text: str, accepted: bool, client: Any,
                                                                 cantine: tarifrules.RuleSet) -> None:
    cli = _eval("--set", f"quotient_familial={text}", "--set", "demandeur_emploi=non")
    assert_handled(cli, 0 if accepted else 2)
    situation = {"quotient_familial": text, "demandeur_emploi": "non"}
    try:
        cantine.evaluate(situation, date=DATE)
        library = True
    except tarifrules.TarifError:
        library = False
    schema = validator(situation_schema(cantine.program)).is_valid(situation)
    response = client.post("/evaluer", json={"file": "restauration-scolaire", "situation": situation,
                                             "date": DATE})
    assert response.status_code in (200, 422), response.text
    assert (library, schema, response.status_code == 200) == (accepted, accepted, accepted), response.text
    if not accepted:
        assert set(_codes(response)) <= {"D002", "D008"}, response.text


@pytest.mark.parametrize("value", [10 ** 30, 10 ** 30 - 1, Decimal("1e29"), Decimal("1E-31"),
                                   Decimal("0.1" + "0" * 40), Decimal("0E+999999999"), 1e300])
def test_schema_and_reader_agree_on_json_numbers(value: Any, cantine: tarifrules.RuleSet) -> None:
    spec = cantine.program.data[0].type
    from tarifrules import nodes as n
    from tarifrules.situation import SituationReader

    for declaration in (n.Declaration("x", spec, None), n.Declaration("x", n.TypeSpec(n.Kind.DECIMAL), None)):
        reader = SituationReader({"x": declaration}, set())
        try:
            reader.read({"x": value})
            read = True
        except tarifrules.TarifError:
            read = False
        from tarifrules.schema import datum_schema

        schema = {"type": "object", "properties": {"x": datum_schema(declaration)}}
        assert validator(schema).is_valid({"x": value}) == read, (declaration.type.kind, value)


# ------------------------------------------------------------------ the service


def test_service_refuses_a_key_given_twice(client: Any) -> None:
    body = b'{"file": "restauration-scolaire", "situation": {"quotient_familial": 650, "quotient_familial": 900}}'
    response = client.post("/evaluer", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400 and "« quotient_familial »" in response.text and "deux fois" in response.text


def test_service_refuses_deep_nesting(client: Any) -> None:
    body = ('{"file": "restauration-scolaire", "situation": {"quotient_familial": ' + "[" * 20_000
            + "]" * 20_000 + "}}").encode()
    response = client.post("/evaluer", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400 and "imbrication trop profonde" in response.text


def test_service_reports_twenty_undeclared_keys_then_a_count(client: Any) -> None:
    situation = {f"d{i}": 1 for i in range(3000)}
    started = time.monotonic()
    response = client.post("/evaluer", json={"file": "restauration-scolaire", "situation": situation})
    assert time.monotonic() - started < 10
    assert response.status_code == 422
    assert _codes(response) == ["D001"] * 20 + ["D009"]
    assert "et 2 980 autres problèmes" in response.json()["errors"][-1]["message"]


@pytest.mark.parametrize("number", ["1" * 100, "1e40", "1e-40"])
def test_service_refuses_numbers_beyond_thirty_digits(client: Any, number: str) -> None:
    body = f'{{"file": "restauration-scolaire", "situation": {{"quotient_familial": {number}}}}}'.encode()
    response = client.post("/evaluer", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422 and _codes(response) == ["D008"], response.text


@pytest.mark.parametrize("value", ["\x1b]0;pwn\x07X", "\x1b[2J650", "650\r\nfaux", "\u202e056"])
def test_a_value_that_would_command_the_terminal_is_shown_escaped(value: str, tmp_path: Path) -> None:
    # The D002 message echoed the value as it came: ESC ] 0 ; sets the terminal's title, ESC [ 2 J clears it.
    error = library_error(lambda: tarifrules.load(CANTINE).evaluate({"quotient_familial": value}))
    shown = messages(error)
    assert not any(ord(ch) < 0x20 or ch in "\x7f\u202e" for ch in shown), shown
    situation = tmp_path / "s.json"
    situation.write_text(json.dumps({"quotient_familial": value}), encoding="utf-8")
    result = run_cli(["eval", CANTINE, "--situation", situation])
    assert_handled(result, 2, "D002")
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr and "\u202e" not in result.stderr
