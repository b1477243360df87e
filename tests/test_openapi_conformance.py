"""The fake API Particulier and the client agree with the official OpenAPI (issue 5 item 5).

Every answer of the fake server (200 with every fixture and with each scope alone, and every
error: 401, 403, 404, 422, 429, 502, 503, 504, on every route) validates with `jsonschema`
against the schemas of `shared/api-particulier/openapi/openapi-particulier.yaml` (`$ref`
resolved, OpenAPI `nullable` turned into JSON Schema); an error status that a path does not
document (503, or a 404 on CNOUS v4) validates against `#/components/schemas/Error`. Every
request the client builds uses a path of the spec, only the query parameters the spec lists
for it, every required one, with values of the declared types and formats.

The shared folder is `ROOT.parent / "shared"`, or `$TARIFRULES_SHARED`; without it the tests
are skipped with a message saying so.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from tarifrules.api_particulier.client import Identity, build_request
from tarifrules.api_particulier.fake import ALL_SCOPES, FakeApiParticulier
from tarifrules.api_particulier.fixtures import FT_FAILURES, FT_FIXTURES, PEOPLE, client_identity
from tarifrules.api_particulier.population import synthetic_population
from tarifrules.api_particulier.routes import ROUTES, Route

from .helpers import ROOT
from .test_fake_api import SIRET, WITNESS, Clock, who

jsonschema = pytest.importorskip("jsonschema")
yaml = pytest.importorskip("yaml")

SHARED = Path(os.environ.get("TARIFRULES_SHARED") or ROOT.parent / "shared")
OPENAPI = SHARED / "api-particulier" / "openapi"
SPEC_FILE = OPENAPI / "openapi-particulier.yaml"
V2_FILE = OPENAPI / "api_particulier_open_api_static" / "v2.yaml"
SKIP = (f"OpenAPI officielle absente ({SPEC_FILE}) : conformité du faux serveur non vérifiée ; "
        f"définissez TARIFRULES_SHARED / official OpenAPI missing, conformance not checked; set TARIFRULES_SHARED")
IDENTITE_ROUTES = [p for p, route in ROUTES.items() if route.mode == "identite"]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC_FILE.is_file():
        pytest.skip(SKIP)
    loaded: dict[str, Any] = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def fake() -> FakeApiParticulier:
    return FakeApiParticulier(clock=Clock(), rate_limit=100_000)


def json_schema(node: Any, spec: dict[str, Any]) -> Any:
    """OpenAPI 3.0 schema → JSON Schema: resolve `$ref`, `nullable` → null allowed."""
    if isinstance(node, list):
        return [json_schema(item, spec) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return json_schema(target, spec)
    out = {k: json_schema(v, spec) for k, v in node.items()
           if k not in ("nullable", "example", "examples", "description", "title")}
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def response_schema(spec: dict[str, Any], path: str, status: int) -> dict[str, Any]:
    responses = spec["paths"][path]["get"]["responses"]
    documented = responses.get(str(status))
    if documented is None:
        assert status >= 400, f"{path} : statut {status} absent de l'OpenAPI"
        schema: dict[str, Any] = json_schema({"$ref": "#/components/schemas/Error"}, spec)
        return schema
    result: dict[str, Any] = json_schema(documented["content"]["application/json"]["schema"], spec)
    return result


def validate(spec: dict[str, Any], route: Route, status: int, headers: dict[str, str], raw: bytes,
             scopes: frozenset[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(raw)
    schema = copy.deepcopy(response_schema(spec, route.path, status))
    if status == 200 and scopes is not None:
        # keys of scopes not held are absent (REFERENCE §6.1): only the others stay required
        opened = {k for k, s in route.keys.items() if not s or s in scopes}
        data_schema = schema["properties"]["data"]
        data_schema["required"] = [k for k in data_schema.get("required", []) if k in opened]
        assert set(body["data"]) == opened, (route.path, sorted(scopes))
    jsonschema.validate(body, schema, format_checker=jsonschema.FormatChecker())
    if status == 200:
        documented = spec["paths"][route.path]["get"]["responses"]["200"].get("headers", {})
        assert set(documented) <= set(headers), f"{route.path} : en-têtes absents"
    else:
        for error in body["errors"]:
            assert len(error["code"]) == 5 and error["code"].isdigit()
            assert isinstance(error["meta"], dict)
            assert "source" not in error or set(error["source"]) <= {"parameter", "header"}
    if route.cache_ttl is not None and "X-Response-Cached" in headers:
        assert headers["X-Response-Cached"] in ("true", "false")
        assert headers["X-Cache-Expires-in"] == "" or headers["X-Cache-Expires-in"].isdigit()
    return body


def query_of(route: Route, key: str) -> dict[str, list[str]]:
    if route.family == "france_travail":
        return {"recipient": [SIRET], "identifiant": [key]}
    return who(key, route.family)


def answers(fake: FakeApiParticulier, route: Route) -> Iterator[tuple[str, int, dict[str, str], bytes]]:
    """Every fixture's answer on this route, with a token holding every scope."""
    token = fake.issue_token(ALL_SCOPES)
    keys = [*FT_FIXTURES, *FT_FAILURES, "inconnu"] if route.family == "france_travail" else [p.key for p in PEOPLE]
    for key in keys:
        if route.mode == "france_connect":
            fc = fake.issue_france_connect_token(key, ALL_SCOPES)
            yield (key, *fake.handle("GET", route.path, {"recipient": [SIRET]}, {"Authorization": f"Bearer {fc}"}))
        elif route.mode == "ine":
            for person in PEOPLE:
                if person.ine:
                    query = {"recipient": [SIRET], "ine": [person.ine]}
                    yield (person.key, *fake.handle("GET", route.path, query, {"Authorization": f"Bearer {token}"}))
            return
        else:
            yield (key, *fake.handle("GET", route.path, query_of(route, key), {"Authorization": f"Bearer {token}"}))


@pytest.mark.parametrize("path", list(ROUTES))
def test_every_fixture_answer_conforms(spec: dict[str, Any], fake: FakeApiParticulier, path: str) -> None:
    route = ROUTES[path]
    assert path in spec["paths"], f"route absente de l'OpenAPI : {path}"
    statuses = set()
    for key, status, headers, raw in answers(fake, route):
        try:
            validate(spec, route, status, headers, raw, frozenset(ALL_SCOPES))
        except jsonschema.ValidationError as exc:
            raise AssertionError(f"{path} / {key} ({status}) : {exc.message} à {list(exc.absolute_path)}") from None
        statuses.add(status)
    assert 200 in statuses
    if route.mode != "ine":
        assert {404, 502, 503, 504} <= statuses, (path, statuses)


@pytest.mark.parametrize("path", list(ROUTES))
def test_each_scope_alone_conforms(spec: dict[str, Any], fake: FakeApiParticulier, path: str) -> None:
    """A token with a single gate scope gets a masked body that is still valid."""
    route = ROUTES[path]
    witness = "demandeur.cat1" if route.family == "france_travail" else WITNESS[route.resource]
    for scope in sorted(route.gate):
        if route.mode == "france_connect":
            if "_identite" in scope:
                continue  # removed from FranceConnect scopes: 403 (covered by test_fake_api)
            token = fake.issue_france_connect_token(witness, [scope])
            query: dict[str, list[str]] = {"recipient": [SIRET]}
        else:
            token = fake.issue_token([scope])
            query = ({"recipient": [SIRET], "ine": ["2405003410F"]} if route.mode == "ine"
                     else query_of(route, witness))
        status, headers, raw = fake.handle("GET", path, query, {"Authorization": f"Bearer {token}"})
        assert status == 200, (path, scope, raw)
        try:
            validate(spec, route, status, headers, raw, frozenset([scope]))
        except jsonschema.ValidationError as exc:
            raise AssertionError(f"{path} / {scope} : {exc.message} à {list(exc.absolute_path)}") from None


@pytest.mark.parametrize("path", list(ROUTES))
def test_generic_errors_conform(spec: dict[str, Any], path: str) -> None:
    """401 (no token), 403 (no scope of the route), 422 (no recipient, bad parameter), 429."""
    route = ROUTES[path]
    fake = FakeApiParticulier(clock=Clock(), rate_limit=1)
    witness = "demandeur.cat1" if route.family == "france_travail" else WITNESS[route.resource]
    other = "pole_emploi_paiements" if route.family != "france_travail" else "cnaf_quotient_familial"
    def fresh(scopes: Any = ALL_SCOPES) -> str:
        if route.mode == "france_connect":
            return fake.issue_france_connect_token(witness, scopes)
        return fake.issue_token(scopes)

    query: dict[str, list[str]] = {"recipient": [SIRET]}
    if route.mode == "ine":
        query["ine"] = ["2405003410F"]
    elif route.mode != "france_connect":
        query = query_of(route, witness)
    bad_parameter = {**query, "ine": ["x"]} if route.mode == "ine" else {
        **query, "identifiant": []} if route.family == "france_travail" else {**query, "prenoms[]": []}
    good = fresh()
    cases = [(401, None, query), (403, fresh([other]), query),
             (422, good, {k: v for k, v in query.items() if k != "recipient"}),
             (422, fresh(), {**query, "recipient": ["12345678901234"]})]
    if route.mode != "france_connect":
        cases.append((422, fresh(), bad_parameter))
    cases.append((429, good, query))  # second call of `good` in the same second
    for expected, token, sent in cases:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        status, out, raw = fake.handle("GET", path, sent, headers)
        assert status == expected, (path, expected, raw)
        body = validate(spec, route, status, out, raw)
        if status == 422:
            assert "parameter" in body["errors"][0]["source"]
        if status == 429:
            assert {"Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(out)


def test_synthetic_population_conforms(spec: dict[str, Any]) -> None:
    fake = FakeApiParticulier(clock=Clock(), rate_limit=100_000, population=60, seed=11)
    token = {"Authorization": f"Bearer {fake.issue_token()}"}
    seen = set()
    for household in synthetic_population(60, seed=11):
        query = {("prenoms[]" if k == "prenoms" else k): (v if isinstance(v, list) else [v])
                 for k, v in household.identity.items()}
        for path in ("/v3/dss/quotient_familial/identite", "/v3/dss/revenu_solidarite_active/identite"):
            status, headers, raw = fake.handle("GET", path, {**query, "recipient": [SIRET]}, token)
            validate(spec, ROUTES[path], status, headers, raw, frozenset(ALL_SCOPES))
            seen.add(status)
        if household.france_travail:
            for path in ("/v3/france_travail/statut/identifiant", "/v3/france_travail/indemnites/identifiant"):
                sent = {"recipient": [SIRET], "identifiant": [household.france_travail]}
                status, headers, raw = fake.handle("GET", path, sent, token)
                validate(spec, ROUTES[path], status, headers, raw, frozenset(ALL_SCOPES))
                seen.add(status)
    assert seen == {200, 404}


def test_introspect_conforms_to_v2_spec(fake: FakeApiParticulier) -> None:
    if not V2_FILE.is_file():
        pytest.skip(SKIP)
    v2 = yaml.safe_load(V2_FILE.read_text(encoding="utf-8"))
    responses = v2["paths"]["/api/introspect"]["get"]["responses"]
    token = fake.issue_token(["cnaf_quotient_familial"])
    for sent, status in ((token, 200), ("inconnu", 401)):
        got, _, raw = fake.handle("GET", "/api/introspect", {"token": [sent]}, {})
        assert got == status
        schema = json_schema(responses[str(status)]["content"]["application/json"]["schema"], v2)
        body = json.loads(raw)
        jsonschema.validate(body, schema)
        assert set(body) == set(schema["properties"])


# ------------------------------------------------------------------ the client's requests


def client_requests() -> Iterator[tuple[str, Any]]:
    """One request per route as the client builds it (identity of the route's witness)."""
    for path, route in ROUTES.items():
        params: dict[str, Any] = {}
        identity = None
        token = "jeton"
        if route.family == "france_travail":
            params = {"identifiant": "demandeur.cat1"}
        elif route.mode == "ine":
            params = {"ine": "2405003410F"}
        elif route.mode == "identite":
            person = next(p for p in PEOPLE if p.key == WITNESS[route.resource])
            identity = Identity.parse(client_identity(person.identity))
        if route.resource == "quotient_familial":
            params.update(annee=2025, mois=9)
        if route.family == "cnous":
            params["campaignYear"] = 2024
        if route.family == "men":
            params.update(codeEtablissement="0240012X", anneeScolaire="2025")
        yield path, build_request(path, identity, recipient=SIRET, token=token, params=params, base_url="local")


@pytest.mark.parametrize(("path", "request_"), list(client_requests()), ids=list(ROUTES))
def test_client_requests_conform(spec: dict[str, Any], path: str, request_: Any) -> None:
    assert request_.url.path in spec["paths"], f"chemin absent de l'OpenAPI : {request_.url.path}"
    operation = spec["paths"][request_.url.path]["get"]
    declared = {p["name"]: p for p in (json_schema(p, spec) for p in operation.get("parameters", []))
                if p["in"] == "query"}
    sent: dict[str, list[str]] = {}
    for name, value in parse_qsl(request_.url.query.decode(), keep_blank_values=True):
        sent.setdefault(name, []).append(value)
    assert set(sent) <= set(declared), f"paramètres inconnus de l'OpenAPI : {set(sent) - set(declared)}"
    missing = {n for n, p in declared.items() if p.get("required") and n not in sent}
    assert not missing, f"paramètres obligatoires absents : {missing}"
    for name, given in sent.items():
        schema = declared[name]["schema"]
        if schema.get("type") == "array":
            jsonschema.validate(given, schema)
            continue
        assert len(given) == 1, f"{name} répété"
        value: Any = given[0]
        if schema.get("type") == "integer":
            assert value.lstrip("-").isdigit(), f"{name} : entier attendu"
            value = int(value)
        jsonschema.validate(value, schema, format_checker=jsonschema.FormatChecker())
    assert request_.headers["Authorization"] == "Bearer jeton"  # jwt_bearer_token (or the FranceConnect token)
