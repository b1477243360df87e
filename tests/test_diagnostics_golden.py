"""Every diagnostic code has a golden file: the exact French message, with the caret.

The corpus lives in `tests/golden/diagnostics/`: for each case `<CODE>-<nom>`,

* `<CODE>-<nom>.tarif`: a small rule file with the mistake a policy writer could make;
* `<CODE>-<nom>.situation.json` (situation codes D0xx, evaluation codes E0xx): the
  household given to `RuleSet.evaluate`; the optional key `"__date__"` is the date of
  evaluation;
* `<CODE>-<nom>.txt`: what `render_diagnostics` prints, file name relative to the repository.

File reading codes (F0xx) need inputs that cannot be committed as ordinary files
(missing file, directory, bytes that are not UTF-8, 5 Mo of text): the test writes them
under `tmp_path` and reads them under their corpus name. A rule file without a
situation is checked (`tarifrules.check`); for example failures (X0xx) and evaluation
errors met by an example (E0xx) its worked examples are run.

`UPDATE_GOLDEN=1 python -m pytest tests/test_diagnostics_golden.py` rewrites the `.txt` files.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import tarifrules
from tarifrules import source
from tarifrules.diagnostics import Diagnostic, TarifError
from tarifrules.examples import run_examples
from tarifrules.render import render_diagnostics

from .helpers import GOLDEN, ROOT, assert_golden

CORPUS = GOLDEN / "diagnostics"
SOURCE = ROOT / "src" / "tarifrules"

Result = tuple[list[Diagnostic], dict[str, str]]


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# ----------------------------------------------------------------- generated inputs (F0xx, S900)

VALID = """délibération "Tarifs de la restauration scolaire"
  collectivité : "Commune d'Exempleville"
  applicable à partir du 01/09/2025

données
  quotient_familial : montant entier, quotient familial CAF

résultats
  tarif_repas : montant, prix d'un repas

article 1 "Tarif unique"
  tarif_repas : 3,20 €
"""


def _read(path: Path, name: str) -> Result:
    try:
        source.read_source(path, name)
    except TarifError as exc:
        return list(exc.diagnostics), exc.sources
    raise AssertionError(f"{name} : aucun diagnostic")  # pragma: no cover


def _missing_file(tmp: Path, name: str) -> Result:
    return _read(tmp / "cantine-2025.tarif", name)


def _directory(tmp: Path, name: str) -> Result:
    (tmp / "cantine").mkdir()
    return _read(tmp / "cantine", name)


def _latin1(tmp: Path, name: str) -> Result:
    path = tmp / "cantine.tarif"
    path.write_bytes(VALID.encode("cp1252"))  # saved by a Windows editor (« ANSI »)
    return _read(path, name)


def _binary(tmp: Path, name: str) -> Result:
    path = tmp / "cantine.tarif"
    path.write_bytes(VALID.encode("utf-8").replace(b"\n\ndonn", b"\n\x00\x00\x00\ndonn"))
    return _read(path, name)


def _empty(tmp: Path, name: str) -> Result:
    path = tmp / "cantine.tarif"
    path.write_text("\n   \n", encoding="utf-8")
    return _read(path, name)


def _too_big(tmp: Path, name: str) -> Result:
    path = tmp / "cantine.tarif"
    with path.open("w", encoding="utf-8") as out:
        out.write(VALID)
        line = "# " + "x" * 97 + "\n"
        out.write(line * ((source.MAX_BYTES + 100_000) // len(line)))  # a log pasted by mistake
    return _read(path, name)


def _checked_text(rule: str) -> Callable[[Path, str], Result]:
    """A file too long to commit (S008, T070, T071): the valid file with `rule` as its article 1."""

    def check(tmp: Path, name: str) -> Result:
        text = VALID.replace("  tarif_repas : 3,20 €", rule)
        return tarifrules.check(text, file=name), {name: text}

    return check


def _builder_bug(tmp: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> Result:
    from tarifrules.build import AstBuilder

    def broken(self: AstBuilder, children: list[Any]) -> Any:
        raise KeyError("arrondi")

    monkeypatch.setattr(AstBuilder, "definition", broken)
    diagnostics = tarifrules.check(VALID, file=name)
    return diagnostics, {name: VALID}


def _unchecked(rule: str) -> Callable[[Path, str], Result]:
    """The evaluator's guards (E003, E006) cannot fire on a checked file: bypass the checker."""

    def evaluate_unchecked(tmp: Path, name: str) -> Result:
        from tarifrules.parser import parse
        from tarifrules.ruleset import RuleSet

        text = VALID.replace("  tarif_repas : 3,20 €", rule)
        try:
            RuleSet(parse(text, name), (), text).evaluate({"quotient_familial": 650})
        except TarifError as exc:
            return list(exc.diagnostics), {name: text}
        raise AssertionError(f"{name} : aucune erreur")  # pragma: no cover

    return evaluate_unchecked


def _unknown_output(tmp: Path, name: str) -> Result:
    """`RuleSet.function` asked for a result the file does not declare (E007)."""
    try:
        tarifrules.load(VALID, file=name).function("tarif_repa", date="01/09/2025")
    except TarifError as exc:
        return list(exc.diagnostics), {name: VALID}
    raise AssertionError(f"{name} : aucune erreur")  # pragma: no cover


def _cantine_profile(tmp: Path, name: str) -> Result:
    """`tarifrules check --profil cantine-1-euro`: the conditions of the State aid (T065, T066)."""
    text = (CORPUS / Path(name).name).read_text(encoding="utf-8")
    return tarifrules.check(text, file=name, profile="cantine-1-euro"), {name: text}


def _api(call: Callable[[], object]) -> Callable[[Path, str], Result]:
    """API Particulier client configuration errors (A0xx): no file, no position."""

    def run(tmp: Path, name: str) -> Result:
        try:
            call()
        except TarifError as exc:
            return list(exc.diagnostics), {}
        raise AssertionError(f"{name} : aucune erreur")  # pragma: no cover

    return run


def _api_cases() -> dict[str, Callable[..., Result]]:
    from tarifrules.api_particulier.client import ApiParticulier, Identity, check_identity, validate_siret

    siret = "13002526500013"
    person = {"nom_naissance": "DURAND", "prenoms": ["ANNE", "MARIE"], "sexe": "F", "annee_naissance": 1990,
              "mois_naissance": 5, "jour_naissance": 3, "code_commune_naissance": "24037"}
    return {
        "A001-siret-invalide": _api(lambda: validate_siret("13002526500014")),
        "A002-identite-invalide": _api(lambda: Identity.parse({**person, "sexe": "X", "code_pays_naissance": "99134"})),
        "A002-mesri-un-prenom": _api(lambda: check_identity("/v3/mesri/statut_etudiant/identite",
                                                            Identity.parse(person))),
        "A003-jeton-absent": _api(lambda: ApiParticulier(token="", recipient=siret)),
        "A004-environnement-inconnu": _api(lambda: ApiParticulier(token="t", recipient=siret, base_url="prod")),
    }


def _sql_cases() -> dict[str, Callable[..., Result]]:
    """SQL compilation and execution (Q0xx): the query cannot be written, or not run."""
    import duckdb

    from tarifrules.sql import compile_query, run_sql, status_diagnostic, to_sql

    header = ('délibération "Essai SQL"\n  collectivité : "Commune d\'Essai"\n  applicable à partir du 01/01/2025\n'
              '  note : "montants fictifs"\n\n')

    def compiled(body: str) -> Callable[[Path, str], Result]:
        def run(tmp: Path, name: str) -> Result:
            text = header + body
            try:
                to_sql(tarifrules.load(text, file=name))
            except TarifError as exc:
                return list(exc.diagnostics), {name: text}
            raise AssertionError(f"{name} : aucune erreur")  # pragma: no cover

        return run

    restauration = ROOT / "examples" / "deliberations" / "restauration-scolaire.tarif"

    def too_many_places(tmp: Path, name: str) -> Result:
        ruleset = tarifrules.load(header + "données\n  parts : décimal, déclaré par la famille\n\nrésultats\n"
                                  "  y : décimal\n\narticle 1 \"Un\"\n  y : parts × 2\n", file=name)
        con = duckdb.connect()
        con.execute("CREATE TABLE menages AS SELECT CAST(1.1234567 AS DECIMAL(12, 7)) AS parts")
        diagnostic = status_diagnostic(run_sql(ruleset, "menages", connection=con, date="01/01/2025").rows[0][-1])
        assert diagnostic is not None
        return [diagnostic], {}

    data = "".join(f"  d{i} : booléen, déclaré par la famille\n" for i in range(63))
    return {
        "Q001-dialecte-inconnu": _api(lambda: compile_query(tarifrules.load(restauration), dialect="mysql")),
        "Q002-pas-sans-inverse-decimal": compiled(
            "données\n  x : montant, déclaré par la famille\n\nrésultats\n  y : montant\n\n"
            "article 1 \"Arrondi\"\n  y : x, arrondi au multiple de 0,03 € le plus proche\n"),
        "Q003-produit-trop-precis": compiled(
            "données\n  x : décimal, déclaré par la famille\n\nrésultats\n  y : décimal\n\n"
            "article 1 \"Produit\"\n  y : x × 0,0000000000000001 × 0,0000000000000001\n"),
        "Q004-trop-de-donnees": compiled(
            f"données\n{data}\nrésultats\n  y : booléen\n\narticle 1 \"Un\"\n  y : "
            + " ou ".join(f"d{i}" for i in range(63)) + "\n"),
        "Q005-nom-reserve": compiled(
            "données\n  statut : booléen, déclaré par la famille\n\nrésultats\n  y : montant\n\n"
            "article 1 \"Un\"\n  y : 1,00 €\n    sauf si statut : 2,00 €\n"),
        "Q006-trop-de-decimales": too_many_places,
        "Q007-table-absente": _api(lambda: run_sql(tarifrules.load(restauration), "table_absente",
                                                   date="15/09/2025")),
        "Q008-fichier-absent": _api(lambda: run_sql(tarifrules.load(restauration), "absent.parquet",
                                                    date="15/09/2025")),
    }


def _service(path: str, body: bytes | None = None, method: str = "POST", broken: Callable[[], object] | None = None,
             folder: str | None = None, lenient_reader: bool = False,
             headers: dict[str, str] | None = None) -> Callable[[Path, str], Result]:
    """HTTP service errors (H0xx): the JSON error document of a request, read back as diagnostics.
    `lenient_reader`: the situation reader accepts everything (H008 is a guard for a value the schema
    refuses and the reader accepts: none is known)."""

    def run(tmp: Path, name: str) -> Result:
        from unittest import mock

        from fastapi.testclient import TestClient

        from tarifrules.diagnostics import Diagnostic, Severity
        from tarifrules.service.app import create_app

        served = tmp / "dossier"
        served.mkdir()
        (served / "cantine.tarif").write_text(VALID, encoding="utf-8")
        if folder is not None:
            (served / "neuf.tarif").write_text(folder, encoding="utf-8")
        with contextlib.ExitStack() as stack:
            if broken is not None:
                stack.enter_context(mock.patch("tarifrules.ruleset.Evaluation.to_json", side_effect=broken))
            if lenient_reader:
                stack.enter_context(mock.patch("tarifrules.situation.SituationReader.read", return_value={}))
            client = stack.enter_context(TestClient(create_app(served, limit=1024)))
            response = client.request(method, path, content=body, headers=headers)
        assert response.status_code >= 400, name
        return [Diagnostic(e["code"], Severity(e["severity"]), e["message"], hint=e["hint"])
                for e in response.json()["errors"]], {}

    return run


def _refused_link(tmp: Path, name: str) -> Result:
    """H011: a link out of the served folder, listed by GET /fichiers with its reason only."""
    from fastapi.testclient import TestClient

    from tarifrules.diagnostics import Severity
    from tarifrules.service.app import create_app

    served = tmp / "dossier"
    served.mkdir()
    (tmp / "ailleurs.tarif").write_text(VALID, encoding="utf-8")
    (served / "fuite.tarif").symlink_to(tmp / "ailleurs.tarif")
    with TestClient(create_app(served, settle=0)) as client:
        [entry] = client.get("/fichiers").json()["files"]
    return [Diagnostic(e["code"], Severity(e["severity"]), e["message"], hint=e["hint"])
            for e in entry["diagnostics"]], {}


def _transport(problem: Callable[[], Diagnostic]) -> Callable[[Path, str], Result]:
    """Errors the HTTP protocol answers itself (a slow or oversized request): no file, no position."""
    return lambda tmp, name: ([problem()], {})


def _late_headers() -> Diagnostic:
    from tarifrules.service.protocol import late_headers

    return late_headers(10)


def _large_headers() -> Diagnostic:
    from tarifrules.service.protocol import large_headers

    return large_headers()


def _service_cases() -> dict[str, Callable[..., Result]]:

    def internal() -> object:
        raise KeyError("bogue")

    ok = b'{"file": "cantine", "situation": {"quotient_familial": 650}}'
    return {
        "H001-json-invalide": _service("/evaluer", b'{"file": "cantine",'),
        "H002-champ-inconnu": _service("/evaluer", b'{"fichier": "cantine"}'),
        "H003-fichier-inconnu": _service("/evaluer", b'{"file": "cantin"}'),
        "H004-trop-gros": _service("/evaluer", b" " * 2048),
        "H005-fichier-en-erreur": _service("/evaluer", b'{"file": "neuf"}', folder='délibération "Neuf"\n'),
        "H006-adresse-inconnue": _service("/evaluation", ok),
        "H007-methode": _service("/evaluer", method="GET"),
        "H008-chiffres-non-ascii": _service("/evaluer", '{"file": "cantine", "situation": '
                                                        '{"quotient_familial": "٦٥٠"}}'.encode(), lenient_reader=True),
        "H009-nombre-demesure": _service("/evaluer", b'{"file": "cantine", "situation": '
                                                     b'{"quotient_familial": 1e999999999}}'),
        "H010-erreur-interne": _service("/evaluer", ok, broken=internal),
        "H011-lien-hors-dossier": _refused_link,
        "H012-type-de-contenu": _service("/evaluer", ok, headers={"content-type": "text/plain"}),
        "H013-delai-depasse": _transport(_late_headers),
        "H014-en-tetes-trop-gros": _transport(_large_headers),
    }


GENERATED: dict[str, Callable[..., Result]] = {
    **_api_cases(),
    **_sql_cases(),
    **_service_cases(),
    "T065-cantine-1-euro": _cantine_profile,
    "T066-tarif-social-au-dela-de-1000": _cantine_profile,
    "E006-fichier-non-verifie": _unchecked("  tarif_repas : 1,00 €\n    si quotient_familial < 500 €"),
    "E003-fichier-non-verifie": _unchecked("  tarif_repas : grille selon quotient_familial\n"
                                           "    de 0 € à 500 € exclu : 1,00 €\n    à partir de 800 € : 3,20 €"),
    "E007-resultat-inconnu": _unknown_output,
    "F001-introuvable": _missing_file,
    "F001-dossier": _directory,
    "F002-latin1": _latin1,
    "F002-binaire": _binary,
    "F003-vide": _empty,
    "F004-trop-gros": _too_big,
    "S900-erreur-interne": _builder_bug,
    "S008-somme-de-300-termes": _checked_text("  tarif_repas : " + " + ".join(["0,01 €"] * 300)),
    "T070-cent-vingt-sauf-si": _checked_text("  tarif_repas : 1,00 €\n" + "".join(
        f"    sauf si quotient_familial > {10 * i} € : {i},00 €\n" for i in range(1, 121)).rstrip("\n")),
    "T070-chaine-de-noms": _checked_text("  v0 : 1,00 €\n" + "".join(
        f"  v{i} : v{i - 1} + 0,01 €\n" for i in range(1, 200)) + "  tarif_repas : v199"),
    "T071-grille-de-3000-tranches": _checked_text("  tarif_repas : grille selon quotient_familial\n" + "".join(
        f"    de {i} € à {i + 1} € exclu : 1,00 €\n" for i in range(3000)) + "    à partir de 3 000 € : 2,00 €"),
}


# ----------------------------------------------------------------- the corpus


def _cases() -> list[str]:
    written = {p.name.removesuffix(".tarif") for p in CORPUS.glob("*.tarif")}
    return sorted(written | set(GENERATED))


CASES = _cases()


def code_of(case: str) -> str:
    return case.split("-", 1)[0]


def _diagnose(case: str, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Result:
    name = f"{_relative(CORPUS)}/{case}.tarif"
    if case in GENERATED:
        generate = GENERATED[case]
        if generate is _builder_bug:
            return generate(tmp, name, monkeypatch)
        return generate(tmp, name)
    path = CORPUS / f"{case}.tarif"
    text = path.read_text(encoding="utf-8")
    sources = {name: text}
    situation_path = CORPUS / f"{case}.situation.json"
    if situation_path.exists():
        situation = json.loads(situation_path.read_text(encoding="utf-8"), parse_float=Decimal)
        ruleset = tarifrules.load(path, file=name)
        date = situation.pop("__date__", ruleset.valid_from)  # never « today »: the output must not change
        try:
            ruleset.evaluate(situation, date=date)
        except TarifError as exc:
            return list(exc.diagnostics), sources
        raise AssertionError(f"{case} : l'évaluation n'a signalé aucune erreur")  # pragma: no cover
    if code_of(case)[0] in "XE":
        ruleset = tarifrules.load(path, file=name)
        return [d for result in run_examples(ruleset) for d in result.failures], sources
    return tarifrules.check(path, file=name), sources


@pytest.mark.parametrize("case", CASES)
def test_diagnostic_golden(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    diagnostics, sources = _diagnose(case, tmp_path, monkeypatch)
    code = code_of(case)
    assert code in {d.code for d in diagnostics}, f"{case} : {code} attendu, obtenu {[d.code for d in diagnostics]}"
    assert_golden(CORPUS / f"{case}.txt", render_diagnostics(diagnostics, sources) + "\n")


@pytest.mark.parametrize("case", CASES)
def test_diagnostics_are_complete(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A French message and a hint for every diagnostic; a position in the file for syntax and checks."""
    diagnostics, _ = _diagnose(case, tmp_path, monkeypatch)
    for diagnostic in diagnostics:
        where = f"{case} / {diagnostic.code}"
        message = diagnostic.message
        assert message.strip() and message == message.strip(), where
        assert message[0].islower() or message[0] in "«", f"{where} : le message commence par une minuscule"
        assert not re.search(r"\b(Unexpected|Expected|Error|Traceback|None|Token|expected)\b", message), where
        assert diagnostic.hint and diagnostic.hint.strip(), f"{where} : pas d'aide"
        if diagnostic.code[0] in "STX":
            span = diagnostic.span
            assert span.file.endswith(f"{case}.tarif"), where
            assert span.line >= 1 and span.column >= 1, f"{where} : pas de position"
            assert (span.end_line, span.end_column) > (span.line, span.column), f"{where} : pas d'étendue"


def _codes_in_source() -> set[str]:
    pattern = re.compile(r'"([A-Z][0-9]{3})"')
    return {code for path in SOURCE.rglob("*.py") for code in pattern.findall(path.read_text(encoding="utf-8"))}


def test_every_code_has_a_golden_file() -> None:
    in_source = _codes_in_source()
    covered = {code_of(case) for case in CASES}
    assert in_source - covered == set(), "codes sans fichier de référence dans tests/golden/diagnostics/"
    assert covered - in_source == set(), "fichiers de référence pour des codes qui n'existent plus"


def test_corpus_files_belong_to_a_case() -> None:
    """No orphan: every `.txt` and `.situation.json` goes with a case."""
    for path in CORPUS.iterdir():
        case = path.name.removesuffix(".txt").removesuffix(".situation.json").removesuffix(".tarif")
        assert case in CASES, f"fichier orphelin : {path.name}"
        assert re.fullmatch(r"[A-Z][0-9]{3}-[a-z0-9-]+", case), f"nom de cas mal formé : {path.name}"
