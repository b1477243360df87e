"""The fake API Particulier answers like the real one (REFERENCE §1, §4, §7, §8)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tarifrules.api_particulier.fake import QF_PATH, FakeApiParticulier, make_server

from .helpers import ROOT

OPENAPI = ROOT.parent / "shared" / "api-particulier" / "openapi"
SIRET = "13002526500013"
CAF_650 = {"recipient": [SIRET], "nomNaissance": ["Lavandier"], "prenoms[]": ["Camille"], "sexeEtatCivil": ["F"],
           "anneeDateNaissance": ["1988"], "moisDateNaissance": ["4"], "jourDateNaissance": ["17"],
           "codeCogInseePaysNaissance": ["99100"], "codeCogInseeCommuneNaissance": ["24037"]}
MSA = {"recipient": [SIRET], "nomNaissance": ["PRAIRIAL"], "prenoms[]": ["JULES", "ANTOINE"],
       "sexeEtatCivil": ["M"], "anneeDateNaissance": ["1979"], "moisDateNaissance": ["9"],
       "jourDateNaissance": ["2"], "codeCogInseePaysNaissance": ["99100"], "codeCogInseeCommuneNaissance": ["19031"]}
UNKNOWN = {**CAF_650, "nomNaissance": ["FANTOME"], "prenoms[]": ["NOE"], "sexeEtatCivil": ["M"],
           "anneeDateNaissance": ["1995"], "moisDateNaissance": ["1"], "jourDateNaissance": ["1"],
           "codeCogInseeCommuneNaissance": ["33063"]}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.25

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> FakeApiParticulier:
    return FakeApiParticulier(clock=Clock())


def call(fake: FakeApiParticulier, path: str, query: dict[str, list[str]], token: str | None = None
         ) -> tuple[int, dict[str, str], Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status, out, body = fake.handle("GET", path, query, headers)
    return status, out, json.loads(body) if out.get("Content-Type", "").endswith("json") else body.decode()


def assert_errors(body: Any, code: str) -> None:
    assert set(body) == {"errors"}
    error = body["errors"][0]
    assert {"code", "title", "detail", "meta"} <= set(error)
    assert error["code"] == code


def test_ping(fake: FakeApiParticulier) -> None:
    assert call(fake, "/api/ping", {})[::2] == (200, "pong")


def test_no_token_is_401_with_errors(fake: FakeApiParticulier) -> None:
    status, _, body = call(fake, QF_PATH, CAF_650)
    assert status == 401
    assert_errors(body, "00101")
    assert body["errors"][0]["source"] == {"parameter": "token"}
    assert call(fake, QF_PATH, CAF_650, "not-a-token")[0] == 401


def test_qf_v1_routes_are_gone(fake: FakeApiParticulier) -> None:
    for path in ("/api/v2/composition-familiale", "/api/caf/famille"):
        status, _, body = call(fake, path, {"numeroAllocataire": ["1"], "codePostal": ["75001"]})
        assert status == 410
        assert "31/10/2025" in body


def test_qf_scope_only_masks_other_keys(fake: FakeApiParticulier) -> None:
    token = fake.issue_token(["cnaf_quotient_familial"])
    status, headers, body = call(fake, QF_PATH, CAF_650, token)
    assert status == 200
    assert body["data"]["quotient_familial"]["valeur"] == 650
    assert body["data"]["quotient_familial"]["fournisseur"] == "CNAF"
    assert set(body["data"]) == {"quotient_familial"}
    assert {"allocataires", "enfants", "adresse"}.isdisjoint(body["data"])
    assert headers["RateLimit-Limit"] == "20" and "X-Request-ID" in headers


def test_full_scopes_and_msa(fake: FakeApiParticulier) -> None:
    token = fake.issue_token(["cnaf_quotient_familial", "cnaf_allocataires", "cnaf_enfants", "cnaf_adresse"])
    status, _, body = call(fake, QF_PATH, MSA, token)
    assert status == 200
    data = body["data"]
    assert data["quotient_familial"]["fournisseur"] == "MSA"
    assert len(data["allocataires"]) == 2 and len(data["enfants"]) == 3
    assert data["adresse"]["code_postal_ville"] == "19000 TULLE"


def test_unknown_person_is_404(fake: FakeApiParticulier) -> None:
    token = fake.issue_token(["cnaf_quotient_familial"])
    status, _, body = call(fake, QF_PATH, UNKNOWN, token)
    assert status == 404
    assert_errors(body, "23003")
    status, _, body = call(fake, QF_PATH, {**CAF_650, "nomNaissance": ["PERSONNE"]}, token)
    assert status == 404
    assert_errors(body, "37003")


def test_missing_scope_is_403(fake: FakeApiParticulier) -> None:
    token = fake.issue_token(["pole_emploi_inscription"])
    status, _, body = call(fake, QF_PATH, CAF_650, token)
    assert status == 403
    assert_errors(body, "00100")


def test_bad_params_are_422(fake: FakeApiParticulier) -> None:
    token = fake.issue_token(["cnaf_quotient_familial"])
    no_recipient = {k: v for k, v in CAF_650.items() if k != "recipient"}
    assert_errors(call(fake, QF_PATH, no_recipient, token)[2], "00203")
    assert_errors(call(fake, QF_PATH, {**CAF_650, "recipient": ["12345678901234"]}, token)[2], "00210")
    status, _, body = call(fake, QF_PATH, {k: v for k, v in CAF_650.items() if k != "nomNaissance"}, token)
    assert status == 422
    assert_errors(body, "00420")
    status, _, body = call(fake, QF_PATH, {k: v for k, v in CAF_650.items() if k != "codeCogInseeCommuneNaissance"},
                           token)
    assert (status, body["errors"][0]["code"]) == (422, "00426")


def test_rate_limit_429_with_retry_after(fake: FakeApiParticulier) -> None:
    token = fake.issue_token(["cnaf_quotient_familial"])
    statuses = [call(fake, QF_PATH, CAF_650, token) for _ in range(21)]
    assert [s for s, _, _ in statuses[:20]] == [200] * 20
    status, headers, body = statuses[20]
    assert status == 429
    assert_errors(body, "00429")
    assert headers["RateLimit-Remaining"] == "0"
    assert int(headers["Retry-After"]) >= 1
    assert int(headers["RateLimit-Reset"]) == 1_800_000_001
    other = fake.issue_token(["cnaf_quotient_familial"])
    assert call(fake, QF_PATH, CAF_650, other)[0] == 200  # one bucket per token
    fake.clock.now += 1  # type: ignore[attr-defined]
    assert call(fake, QF_PATH, CAF_650, token)[0] == 200


def test_france_travail_and_men(fake: FakeApiParticulier) -> None:
    token = fake.issue_token(["pole_emploi_inscription", "men_echelon_bourse", "men_statut_boursier"])
    status, _, body = call(fake, "/v3/france_travail/statut/identifiant",
                           {"recipient": [SIRET], "identifiant": ["demandeur.cat1"]}, token)
    assert status == 200
    assert set(body["data"]) == {"inscription"}
    assert body["data"]["inscription"]["categorie"]["code"] == 1
    status, _, body = call(fake, "/v3/france_travail/statut/identifiant", {"recipient": [SIRET]}, token)
    assert (status, body["errors"][0]["code"]) == (422, "00380")
    men = {"recipient": [SIRET], "nomNaissance": ["LOUVEL"], "prenoms[]": ["INES"], "sexeEtatCivil": ["F"],
           "anneeDateNaissance": ["2013"], "moisDateNaissance": ["2"], "jourDateNaissance": ["11"],
           "codeEtablissement": ["0240012X"], "anneeScolaire": ["2025"]}
    status, _, body = call(fake, "/v5/men/scolarites/identite", men, token)
    assert status == 200
    assert body["data"] == {"est_boursier": True, "echelon_bourse": 2}
    status, _, body = call(fake, "/v5/men/scolarites/identite", {**men, "prenoms[]": ["ALICE"]}, token)
    assert (status, body["errors"][0]["code"]) == (404, "30003")


@pytest.fixture
def server() -> Iterator[tuple[str, FakeApiParticulier]]:
    fake = FakeApiParticulier()
    httpd = make_server("127.0.0.1", 0, fake)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", fake
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_over_http(server: tuple[str, FakeApiParticulier]) -> None:
    base, fake = server
    with urllib.request.urlopen(f"{base}/api/ping", timeout=5) as response:
        assert response.read() == b"pong"
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{base}{QF_PATH}?recipient={SIRET}", timeout=5)
    assert error.value.code == 401
    assert "errors" in json.loads(error.value.read())
    token = fake.issue_token(["cnaf_quotient_familial"])
    query = "&".join(f"{k}={v}" for k, values in CAF_650.items() for v in values)
    request = urllib.request.Request(f"{base}{QF_PATH}?{query}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        body = json.loads(response.read())
        assert response.headers["RateLimit-Limit"] == "20"
    assert set(body["data"]) == {"quotient_familial"}


# ------------------------------------------------------------------ conformance with the official OpenAPI


def _openapi_schema(path: str, status: str) -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    spec = yaml.safe_load((OPENAPI / "openapi-particulier.yaml").read_text(encoding="utf-8"))
    response = spec["paths"][path]["get"]["responses"][status]
    schema = response["content"]["application/json"]["schema"]
    return _json_schema(schema, spec)


def _json_schema(node: Any, spec: dict[str, Any]) -> Any:
    """OpenAPI 3.0 → JSON Schema: resolve $ref, turn `nullable` into a null type."""
    if isinstance(node, list):
        return [_json_schema(item, spec) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return _json_schema(target, spec)
    out = {k: _json_schema(v, spec) for k, v in node.items() if k not in ("nullable", "example", "examples")}
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


@pytest.mark.skipif(not OPENAPI.is_dir(), reason=f"OpenAPI officielle absente ({OPENAPI}) : conformité non vérifiée")
def test_qf_responses_conform_to_openapi(fake: FakeApiParticulier) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = _openapi_schema(QF_PATH, "200")
    token = fake.issue_token(["cnaf_quotient_familial", "cnaf_allocataires", "cnaf_enfants", "cnaf_adresse"])
    for query in (CAF_650, MSA):
        status, _, body = call(fake, QF_PATH, query, token)
        assert status == 200
        jsonschema.validate(body, schema)
    # error bodies follow the spec's examples: same keys
    spec_401 = _openapi_example(QF_PATH, "401")
    body = call(fake, QF_PATH, CAF_650)[2]
    assert set(body["errors"][0]) == set(spec_401["errors"][0])
    assert body["errors"][0]["code"] == spec_401["errors"][0]["code"]


def _openapi_example(path: str, status: str) -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    spec = yaml.safe_load((OPENAPI / "openapi-particulier.yaml").read_text(encoding="utf-8"))
    examples = spec["paths"][path]["get"]["responses"][status]["content"]["application/json"]["examples"]
    value: dict[str, Any] = next(iter(examples.values()))["value"]
    return value
