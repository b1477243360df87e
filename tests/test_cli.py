"""The command line: outputs, JSON documents, exit codes (0 ok, 1 problems, 2 bad usage), no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tarifrules.cli import main
from tarifrules.models import DiagnosticModel, EvaluationModel

from .helpers import EXAMPLES, GOLDEN, assert_golden

CANTINE = str(EXAMPLES / "restauration-scolaire.tarif")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
        raise SystemExit(0)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return int(info.value.code or 0), captured.out, captured.err


def test_eval_prints_the_tariff(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "eval", CANTINE, "--set", "quotient_familial=650", "--set", "demandeur_emploi=oui",
                       "--date", "15/09/2025")
    assert code == 0
    assert "tarif_repas = 1,05 €" in out
    assert "15/09/2025" in out


def test_eval_names_missing_data(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "eval", CANTINE, "--set", "quotient_familial=650")
    assert code == 0
    assert "tarif_repas = indéterminé (manque : demandeur_emploi)" in out


def test_eval_json_document(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    situation = tmp_path / "foyer.json"
    situation.write_text('{"quotient_familial": 650.0, "demandeur_emploi": "oui"}', encoding="utf-8")
    code, out, _ = run(capsys, "eval", CANTINE, "--situation", str(situation), "--json")
    document = json.loads(out)
    EvaluationModel.model_validate(document)
    assert code == 0
    assert document["outputs"]["tarif_repas"] == {"status": "value", "value": "1.05", "unit": "€"}
    assert set(document) == {"file", "date", "outputs", "missing", "explanation", "sources"}
    assert document["sources"] == []  # data given by the caller: no source to cite


def test_yaml_situation_and_set_override(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    situation = tmp_path / "foyer.yaml"
    situation.write_text("quotient_familial: 650\ndemandeur_emploi: non\n", encoding="utf-8")
    code, out, _ = run(capsys, "eval", CANTINE, "--situation", str(situation), "--set", "demandeur_emploi=oui")
    assert code == 0 and "1,05 €" in out


def test_explain_cites_articles(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", CANTINE, "--set", "quotient_familial=650", "--set", "demandeur_emploi=oui",
                       "--date", "01/10/2025")
    assert code == 0
    assert_golden(GOLDEN / "explain" / "cli-cantine-650-demandeur.txt", out)


def test_check_json_lists_diagnostics(capsys: pytest.CaptureFixture[str]) -> None:
    broken = str(EXAMPLES / "a-corriger" / "medoc-estuaire-periscolaire.tarif")
    code, out, _ = run(capsys, "check", "--json", broken)
    diagnostics = json.loads(out)
    assert code == 1
    assert diagnostics and all(DiagnosticModel.model_validate(d) for d in diagnostics)
    assert {d["code"] for d in diagnostics if d["severity"] == "erreur"} == {"T013"}


def test_check_clean_files_exit_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", *sorted(str(p) for p in EXAMPLES.glob("*.tarif")))
    assert code == 0
    assert "0 erreur(s)" in out


def test_test_command_summary_and_failure_diff(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "test", CANTINE)
    assert code == 0 and out.strip().endswith("24 passed, 0 failed")
    wrong = tmp_path / "faux.tarif"
    wrong.write_text(Path(CANTINE).read_text(encoding="utf-8").replace("attendu tarif_repas = 1,05 €",
                                                                      "attendu tarif_repas = 1,06 €"), encoding="utf-8")
    code, out, _ = run(capsys, "test", str(wrong))
    assert code == 1
    assert "attendu 1,06 €, obtenu 1,05 €" in out
    assert out.strip().endswith("22 passed, 2 failed")


@pytest.mark.parametrize("args, code, words", [
    (["eval", CANTINE, "--set", "quotient_familial=six cents"], 2, "n'est pas un nombre"),
    (["eval", CANTINE, "--set", "quotient_familial=-5"], 2, "au moins 0"),
    (["eval", CANTINE, "--set", "quotient_inconnu=12"], 2, "vouliez-vous dire « quotient_familial »"),
    (["eval", CANTINE, "--set", "demandeur_emploi=peut-être"], 2, "oui"),
    (["eval", CANTINE, "--set", "quotient_familial"], 2, "nom=valeur"),
    (["eval", CANTINE, "--date", "12/13/2025"], 2, "n'est pas une date valide"),
    (["eval", CANTINE, "--date", "01/01/2020"], 2, "hors de la période d'application"),
    (["eval", CANTINE, "--situation", "absent.json"], 2, "situation introuvable"),
    (["eval", CANTINE, "--inconnue"], 2, "option inconnue"),
    (["commande-inconnue"], 2, "commande inconnue"),
    (["check", "absent.tarif"], 1, "fichier introuvable"),
    (["eval", "absent.tarif"], 1, "fichier introuvable"),
])
def test_bad_input_gets_french_message_and_exit_code(
    capsys: pytest.CaptureFixture[str], args: list[str], code: int, words: str
) -> None:
    got, out, err = run(capsys, *args)
    assert got == code
    assert words in out + err


def test_a_computation_the_rules_cannot_do_is_the_file_s_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rules = tmp_path / "parts.tarif"
    rules.write_text("""délibération "Parts"
  applicable à partir du 01/01/2025
données
  revenus : montant
  parts : nombre
résultats
  revenu_par_part : montant
article 1 "Revenu par part"
  revenu_par_part : revenus / parts, arrondi au centime inférieur
exemple "deux parts"
  revenus = 1 000 €, parts = 2
  attendu revenu_par_part = 500,00 €
""", encoding="utf-8")
    code, _, err = run(capsys, "eval", str(rules), "--set", "revenus=1000", "--set", "parts=0")
    assert code == 1
    assert "division par zéro" in err
    assert "revenus / parts" in err  # the rule's line is shown, with its caret


def test_bad_situation_file_content(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for content in ("{ pas du json", "[1, 2]"):
        situation = tmp_path / "foyer.json"
        situation.write_text(content, encoding="utf-8")
        code, _, err = run(capsys, "eval", CANTINE, "--situation", str(situation))
        assert code == 2 and "situation" in err


def test_hostile_rule_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cases = {
        "vide.tarif": b"",
        "latin1.tarif": 'délibération "x"\n'.encode("latin-1"),
        "binaire.tarif": bytes(range(256)) * 10,
        "dollar.tarif": Path(CANTINE).read_text(encoding="utf-8").replace("€", "$").encode(),
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        code, out, _ = run(capsys, "check", str(path))
        assert code == 1, name
        assert "erreur[" in out, name
    code, out, _ = run(capsys, "check", str(tmp_path / "dollar.tarif"))
    assert "€" in out and ":" in out


def test_help_is_in_french(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "Utilisation : tarifrules" in out and "Commandes" in out
    assert "Show this message" not in out and "Usage:" not in out
    code, out, _ = run(capsys, "eval", "--help")
    assert "Affiche cette aide" in out and "FICHIER" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("tarifrules ")


def test_every_command_is_reachable_and_imports_only_its_family() -> None:
    """Commands load lazily: each module's commands must be listed in LAZY_COMMANDS, and running one
    command must not import the other families (their imports would slow every start)."""
    import pkgutil

    import tarifrules.cli as package
    from tarifrules.cli.common import LAZY_COMMANDS

    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):  # (__main__ runs the command line)
            __import__(f"tarifrules.cli.{module.name}")
    assert set(package.cli.commands) == set(LAZY_COMMANDS)
    assert set(package.all_commands()) == set(LAZY_COMMANDS)
    code = ("import sys; from tarifrules.cli import main\n"
            "try: main(['batch', '--help'])\n"
            "except SystemExit: pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('tarifrules.cli.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "['tarifrules.cli.common', 'tarifrules.cli.population']"
