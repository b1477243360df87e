"""`tarifrules fetch`, `eval --fetch`, `explain --fetch` (issue 5 item 6)."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tarifrules.api_particulier.fake import FakeApiParticulier, make_server
from tarifrules.cli import cli

from .helpers import ROOT

CANTINE = str(ROOT / "examples" / "deliberations" / "restauration-scolaire.tarif")
LAVANDIER = str(ROOT / "examples" / "identites" / "lavandier.json")
INCONNU = str(ROOT / "examples" / "identites" / "inconnu.json")


@pytest.fixture(autouse=True)
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("API_PARTICULIER_TOKEN", raising=False)
    monkeypatch.delenv("API_PARTICULIER_RECIPIENT", raising=False)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_eval_fetch_uses_the_fake_server_and_says_so() -> None:
    code, out, err = run("eval", CANTINE, "--fetch", "--identite", LAVANDIER, "--date", "15/09/2025")
    assert code == 0
    assert "tarif_repas = 1,05 €" in out
    assert "quotient_familial = 650 €, source CAF via API Particulier, calculé en 10/2025" in out
    assert "faux serveur API Particulier intégré" in err


def test_explain_fetch_json_cites_sources() -> None:
    code, out, _ = run("explain", CANTINE, "--fetch", "--identite", LAVANDIER, "--date", "15/09/2025", "--json")
    document = json.loads(out)
    assert code == 0
    assert [s["datum"] for s in document["sources"]] == ["quotient_familial", "demandeur_emploi"]


def test_fetch_json_gives_a_situation_eval_accepts(tmp_path: Path) -> None:
    code, out, _ = run("fetch", CANTINE, "--identite", LAVANDIER, "--date", "15/09/2025", "--json")
    document = json.loads(out)
    assert code == 0
    assert document["situation"] == {"quotient_familial": 650, "demandeur_emploi": True}
    assert [c["endpoint"] for c in document["calls"]] == ["/v3/dss/quotient_familial/identite",
                                                          "/v3/france_travail/statut/identifiant"]
    assert document["provenance"]["quotient_familial"]["request_id"] == document["calls"][0]["request_id"]
    situation = tmp_path / "situation.json"
    situation.write_text(json.dumps(document["situation"]), encoding="utf-8")
    code, out, _ = run("eval", CANTINE, "--situation", str(situation), "--date", "15/09/2025")
    assert code == 0 and "tarif_repas = 1,05 €" in out


def test_fetch_not_found_reports_the_reason_and_skips_france_travail() -> None:
    code, out, _ = run("fetch", CANTINE, "--identite", INCONNU, "--date", "15/09/2025")
    assert code == 0
    assert "quotient_familial : inconnu — personne non trouvée (code 23003)" in out
    assert "Non demandé (ne change aucun résultat pour ce foyer) : demandeur_emploi" in out
    assert "france_travail" not in out


def test_known_data_are_not_fetched() -> None:
    code, out, _ = run("fetch", CANTINE, "--identite", LAVANDIER, "--set", "quotient_familial=1200",
                       "--set", "demandeur_emploi=non", "--date", "15/09/2025")
    assert code == 0 and "Appels (0)" in out


@pytest.mark.parametrize(("content", "message"), [
    ("{", "n'est pas un JSON lisible"),
    ('{"allocataire": {"nom_naissance": "X"}}', "A002"),
    ('{"inconnu": 1}', "A002"),
])
def test_bad_identity_file_is_a_usage_error(tmp_path: Path, content: str, message: str) -> None:
    identity = tmp_path / "identite.json"
    identity.write_text(content, encoding="utf-8")
    code, _, err = run("fetch", CANTINE, "--identite", str(identity))
    assert code == 2 and message in err and "Traceback" not in err


def test_fetch_requires_an_identity_file() -> None:
    code, _, err = run("eval", CANTINE, "--fetch")
    assert code == 2 and "--identite" in err
    code, _, err = run("fetch", CANTINE, "--identite", "absent.json")
    assert code == 2 and "introuvable" in err


def test_an_environment_without_token_is_refused() -> None:
    code, _, err = run("fetch", CANTINE, "--identite", LAVANDIER, "--environnement", "staging")
    assert code == 2 and "A003" in err and "API_PARTICULIER_TOKEN" in err


# What differs from run to run in httpx's and httpcore's DEBUG lines, and may contain « 650 » or « 1988 » by
# chance: the server's random port, its Date and rate-limit reset time, request identifiers, object addresses.
VOLATILE = re.compile(r"127\.0\.0\.1:\d+|port=\d+|b'(?:Date|RateLimit-Reset|X-Request-ID)', b'[^']*'"
                      r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|0x[0-9a-f]+")


@pytest.fixture
def local_server() -> Iterator[tuple[FakeApiParticulier, str]]:
    fake = FakeApiParticulier()
    server = make_server("127.0.0.1", 0, fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_refused_scope_exits_3_over_real_http(local_server: tuple[FakeApiParticulier, str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    fake, url = local_server
    monkeypatch.setenv("API_PARTICULIER_TOKEN", fake.issue_token(["pole_emploi_inscription"]))
    code, out, err = run("eval", CANTINE, "--fetch", "--identite", LAVANDIER, "--environnement", url,
                         "--destinataire", "13002526500013", "--date", "15/09/2025")
    assert code == 3
    assert "tarif_repas = 5,40 €" in out  # the QF stays unknown: « à défaut »
    assert "scope manquant : cnaf_quotient_familial" in err and "faux serveur" not in err


def test_a_token_for_the_needed_scopes_fetches_over_real_http(local_server: tuple[FakeApiParticulier, str],
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    fake, url = local_server
    token = fake.issue_token(["cnaf_quotient_familial", "pole_emploi_inscription"])
    monkeypatch.setenv("API_PARTICULIER_TOKEN", token)
    monkeypatch.setenv("API_PARTICULIER_RECIPIENT", "13002526500013")
    with caplog.at_level(logging.DEBUG):
        code, out, _ = run("fetch", CANTINE, "--identite", LAVANDIER, "--environnement", url, "--date", "15/09/2025")
    assert code == 0 and "quotient_familial = 650 €" in out
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/v3/dss/quotient_familial/identite" in logged  # the calls are logged…
    logged = re.sub(VOLATILE, "…", logged)
    for secret in (token, "LAVANDIER", "CAMILLE", "1988", "24037", "demandeur.cat1", "650", "13002526500013"):
        assert secret not in logged  # …but never the token, the identity, the recipient or the payload
