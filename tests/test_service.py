"""The HTTP service (`tarifrules serve`), through FastAPI's TestClient.

Every endpoint answers what the Python API computes; every kind of bad request gets a
4xx with a French message and a stable code, never a 500; a changed file is reloaded,
a broken one keeps its previous version served; the access log holds no situation value.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tarifrules import load
from tarifrules.schema import situation_schema
from tarifrules.scopes import analyse

from .helpers import ROOT

fastapi_testclient = pytest.importorskip("fastapi.testclient")

from tarifrules.characters import printable  # noqa: E402
from tarifrules.service.app import create_app  # noqa: E402
from tarifrules.service.registry import Moved, Registry, probe, read_stable  # noqa: E402

FOLDER = ROOT / "examples" / "deliberations"
CANTINE = FOLDER / "restauration-scolaire.tarif"
FAMILY = {"quotient_familial": 650, "demandeur_emploi": "oui"}
CANTINE_VERSION = {"sha256": hashlib.sha256(CANTINE.read_bytes()).hexdigest(), "valid_from": "2025-09-01",
                   "valid_until": None}


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with fastapi_testclient.TestClient(create_app(FOLDER)) as test_client:
        yield test_client


def _codes(response: Any) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]


# ------------------------------------------------------------------ endpoints


def test_files_lists_every_rule_file_with_dates_and_outputs(client: Any) -> None:
    files = client.get("/fichiers").json()["files"]
    assert [f["file"] for f in files] == sorted(p.name for p in FOLDER.glob("*.tarif"))
    cantine = next(f for f in files if f["name"] == "restauration-scolaire")
    ruleset = load(CANTINE)
    assert cantine["status"] == "ok" and cantine["served"] is True
    assert cantine["version"] == CANTINE_VERSION and cantine["reason"] is None
    assert cantine["title"] == ruleset.title
    assert cantine["valid_from"] == ruleset.valid_from.isoformat() and cantine["valid_until"] is None
    assert cantine["outputs"] == list(ruleset.output_names) and cantine["data"] == list(ruleset.data_names)


def test_evaluer_answers_the_documented_evaluation_json(client: Any) -> None:
    response = client.post("/evaluer", json={"file": "restauration-scolaire", "situation": FAMILY,
                                             "date": "15/09/2025"})
    assert response.status_code == 200
    expected = load(CANTINE, file=CANTINE.name).evaluate(FAMILY, date="15/09/2025").to_json()
    body = response.json()
    assert body.pop("version") == CANTINE_VERSION  # the text that computed: `sha256sum` of the file
    assert body == expected
    assert set(expected) >= {"outputs", "missing", "explanation"}


def test_evaluer_reports_missing_data(client: Any) -> None:
    response = client.post("/evaluer", json={"file": "restauration-scolaire.tarif",
                                             "situation": {"demandeur_emploi": "oui"}, "date": "2025-09-15"})
    expected = load(CANTINE, file=CANTINE.name).evaluate({"demandeur_emploi": "oui"}, date="15/09/2025")
    assert response.json()["missing"] == list(expected.missing)


def test_expliquer_adds_the_french_text(client: Any) -> None:
    response = client.post("/expliquer", json={"file": "restauration-scolaire", "situation": FAMILY,
                                               "date": "15/09/2025"})
    evaluation = load(CANTINE, file=CANTINE.name).evaluate(FAMILY, date="15/09/2025")
    body = response.json()
    assert body.pop("text") == f"{evaluation.ruleset.title} — au 15/09/2025\n{evaluation.explain()}"
    assert body.pop("version") == CANTINE_VERSION
    assert body == evaluation.to_json()


def test_portees_is_the_scopes_analysis(client: Any) -> None:
    one = client.get("/portees", params={"fichier": "restauration-scolaire"})
    assert one.json() == analyse([load(CANTINE, file=CANTINE.name)]).to_json()
    everything = client.get("/portees").json()
    assert everything == analyse([load(p, file=p.name) for p in sorted(FOLDER.glob("*.tarif"))]).to_json()
    assert _codes(client.get("/portees", params={"fichier": "cantine"})) == ["H003"]


def test_schema_is_the_situation_schema(client: Any) -> None:
    assert client.get("/schema/restauration-scolaire").json() == situation_schema(load(CANTINE).program)


def test_openapi_is_served_offline(client: Any) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/fichiers", "/evaluer", "/expliquer", "/portees", "/schema/{fichier}"} <= set(paths)
    assert "requestBody" in paths["/evaluer"]["post"]
    assert client.get("/docs").status_code == 404  # Swagger UI would load scripts from a CDN
    spec = client.get("/openapi.json").json()
    answer = spec["paths"]["/evaluer"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/ServedEvaluationModel"}
    assert spec["components"]["schemas"]["ServedEvaluationModel"]["required"][-1] == "version"
    assert {"408", "413", "415"} <= set(spec["paths"]["/evaluer"]["post"]["responses"])


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(("body", "code"), [
    (b"{bad", "H001"),
    (b"", "H001"),
    (b"\xff\xfe{}", "H001"),
    (b'{"file": "restauration-scolaire", "situation": {"quotient_familial": NaN}}', "H001"),
    (b"[" * 5000 + b"]" * 5000, "H001"),
])
def test_malformed_json_is_400(client: Any, body: bytes, code: str) -> None:
    response = client.post("/evaluer", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400 and _codes(response) == [code]


@pytest.mark.parametrize(("document", "codes"), [
    ([], ["H002"]),
    ({"situation": FAMILY}, ["H002"]),
    ({"file": 3, "situation": FAMILY}, ["H002"]),
    ({"file": "restauration-scolaire", "situation": [650]}, ["H002"]),
    ({"file": "restauration-scolaire", "date": 20250915}, ["H002"]),
    ({"file": "restauration-scolaire", "situation": {"quotient_familial": [650]}}, ["D002"]),
    ({"file": "restauration-scolaire", "situation": {"quotient_familial": True}}, ["D002"]),
    ({"file": "restauration-scolaire", "situation": {"quotient_familial": "650,50"}}, ["D004"]),
    ({"file": "restauration-scolaire", "situation": {"quotient_familial": -5}}, ["D003"]),
    ({"file": "restauration-scolaire", "situation": {"demandeur_emploi": {"a": 1}}}, ["D005"]),
    ({"file": "restauration-scolaire", "situation": {"quotient_familial": "٦٥٠"}}, ["D002"]),
])
def test_wrong_types_are_422(client: Any, document: Any, codes: list[str]) -> None:
    response = client.post("/evaluer", json=document)
    assert response.status_code == 422 and _codes(response) == codes
    assert all(e["message"] for e in response.json()["errors"])


@pytest.mark.parametrize("number", ["1e999999999", "1e-999999999", "-1E+5000", "1" * 1200])
def test_huge_numbers_are_refused_before_anything_writes_them_out(client: Any, number: str) -> None:
    body = f'{{"file": "restauration-scolaire", "situation": {{"quotient_familial": {number}}}}}'.encode()
    response = client.post("/evaluer", content=body)
    assert response.status_code == 422 and _codes(response) == ["H009"]


def test_unknown_names_say_what_was_meant(client: Any) -> None:
    response = client.post("/evaluer", json={"fichier": "restauration-scolaire"})
    errors = response.json()["errors"]
    assert response.status_code == 422 and errors[0]["hint"] == "vouliez-vous dire « file » ?"
    response = client.post("/evaluer", json={"file": "restauration-scolaire",
                                             "situation": {"quotient_familal": 650, "tarif_base": 2}})
    errors = response.json()["errors"]
    assert [e["code"] for e in errors] == ["D001", "D001"]
    assert errors[0]["hint"] == "vouliez-vous dire « quotient_familial » ?"
    assert "calculé par les règles" in errors[1]["message"]


def test_unknown_file_is_404_with_a_suggestion(client: Any) -> None:
    response = client.post("/evaluer", json={"file": "restauration-scolair", "situation": {}})
    assert response.status_code == 404 and _codes(response) == ["H003"]
    assert "restauration-scolaire" in response.json()["errors"][0]["hint"]
    assert client.get("/schema/inconnu").status_code == 404


def test_dates_outside_the_validity_are_422(client: Any) -> None:
    outside = client.post("/evaluer", json={"file": "restauration-scolaire", "date": "01/01/2020"})
    assert outside.status_code == 422 and _codes(outside) == ["E001"]
    assert "--date" not in outside.json()["errors"][0]["hint"]
    invalid = client.post("/evaluer", json={"file": "restauration-scolaire", "date": "31/02/2026"})
    assert invalid.status_code == 422 and _codes(invalid) == ["E004"]


def test_a_10_mb_body_is_413_in_french(client: Any) -> None:
    response = client.post("/evaluer", content=b"x" * 10_000_000)
    assert response.status_code == 413 and _codes(response) == ["H004"]
    assert "taille maximale" in response.json()["errors"][0]["message"]


def test_a_chunked_body_is_counted_while_read(client: Any) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"file": "restauration-scolaire", "situation": {"x": "'
        for _ in range(200):
            yield b"y" * 1024
        yield b'"}}'

    response = client.post("/evaluer", content=chunks())
    assert response.status_code == 413 and _codes(response) == ["H004"]


def test_the_limit_is_configurable() -> None:
    with fastapi_testclient.TestClient(create_app(FOLDER, limit=200)) as small:
        assert small.post("/evaluer", json={"file": "restauration-scolaire", "situation": FAMILY,
                                            "date": "15/09/2025"}).status_code == 200
        response = small.post("/evaluer", content=b" " * 201)
        assert response.status_code == 413 and "200 octets" in response.json()["errors"][0]["message"]


def test_unknown_paths_and_methods_are_french(client: Any) -> None:
    assert _codes(client.get("/evaluation")) == ["H006"]
    response = client.get("/evaluer")
    assert response.status_code == 405 and _codes(response) == ["H007"]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_NAMES = st.sampled_from(["quotient_familial", "demandeur_emploi", "échelon", "interne", "x", ""])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(file=st.sampled_from([p.stem for p in FOLDER.glob("*.tarif")]) | st.text(max_size=10),
       situation=st.dictionaries(_NAMES, _JSON, max_size=3) | _JSON,
       date=st.none() | st.sampled_from(["15/09/2025", "2025-12-01", "31/02/2025", "demain"]) | _JSON,
       path=st.sampled_from(["/evaluer", "/expliquer"]))
def test_no_request_body_gets_a_500(client: Any, file: Any, situation: Any, date: Any, path: str) -> None:
    response = client.post(path, json={"file": file, "situation": situation, "date": date})
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert all(e["code"] and e["message"] for e in response.json()["errors"])


def _operations() -> list[tuple[str, str]]:
    spec = create_app(FOLDER).openapi()
    return [(path, method) for path, item in sorted(spec["paths"].items()) for method in sorted(item)]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operation=st.sampled_from(_operations()), name=st.text(max_size=12),
       query=st.lists(st.tuples(st.sampled_from(["fichier", "x", ""]), st.text(max_size=8)), max_size=3),
       body=st.one_of(st.none(), st.binary(max_size=64), _JSON.map(lambda v: json.dumps(v).encode())))
def test_no_request_built_from_the_openapi_gets_a_500(client: Any, operation: tuple[str, str], name: str,
                                                      query: list[tuple[str, str]], body: bytes | None) -> None:
    """Every operation of /openapi.json, with random path parameters, query strings and bodies."""
    from urllib.parse import quote

    path, method = operation
    url = path.replace("{fichier}", quote(name, safe="") or "x")
    response = client.request(method.upper(), url, params=query, content=body)
    assert response.status_code < 500, (method, url, query, body, response.text)
    if response.status_code >= 400:
        assert all(e["code"] and e["message"] for e in response.json()["errors"])


# ------------------------------------------------------------------ reload


def _touch(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))  # a later mtime, even on coarse clocks


def test_a_changed_file_is_reloaded_and_a_broken_one_keeps_its_previous_version(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    served = tmp_path / "cantine.tarif"
    shutil.copy(CANTINE, served)
    request = {"file": "cantine", "situation": FAMILY, "date": "15/09/2025"}
    app = create_app(tmp_path, reload_interval=0, settle=0)
    with fastapi_testclient.TestClient(app) as client:
        before = client.post("/evaluer", json=request).json()["outputs"]["tarif_repas"]["value"]
        original = CANTINE.read_text(encoding="utf-8")
        assert "2,10 €" in original and "1,05 €" in original
        dearer = original.replace("2,10 €", "2,20 €").replace("1,05 €", "1,10 €")  # grid and examples
        _touch(served, dearer)
        app.state.registry.refresh()  # what a request starts in a worker thread, waited for
        answer = client.post("/evaluer", json=request).json()
        assert (before, answer["outputs"]["tarif_repas"]["value"]) == ("1.05", "1.10")
        assert answer["version"]["sha256"] == hashlib.sha256(dearer.encode()).hexdigest()

        _touch(served, original.replace("de 400 € à 700 € exclu", "de 400 € à 700 €"))  # T014: ambiguous bound
        with caplog.at_level(logging.INFO, logger="tarifrules.service"):
            app.state.registry.refresh()
            assert client.post("/evaluer", json=request).json()["outputs"]["tarif_repas"]["value"] == "1.10"
        assert "fichier en erreur : cantine.tarif (T014) ; la version précédente reste servie" in caplog.messages
        entry = client.get("/fichiers").json()["files"][0]
        assert (entry["status"], entry["served"], entry["reason"]) == ("erreur", True, "le fichier ne se vérifie pas")
        assert entry["version"]["sha256"] == hashlib.sha256(dearer.encode()).hexdigest()
        assert [d["code"] for d in entry["diagnostics"] if d["severity"] == "erreur"] == ["T014"]

        _touch(tmp_path / "neuf.tarif", "délibération \"Neuf\"\n")
        app.state.registry.refresh()
        files = {f["name"]: f for f in client.get("/fichiers").json()["files"]}
        assert (files["neuf"]["status"], files["neuf"]["served"]) == ("erreur", False)
        response = client.post("/evaluer", json={"file": "neuf"})
        assert response.status_code == 409 and _codes(response) == ["H005"]

        served.unlink()
        app.state.registry.refresh()
        assert client.post("/evaluer", json=request).status_code == 404


def test_files_are_scanned_at_most_once_per_interval(tmp_path: Path) -> None:
    now = [0.0]
    shutil.copy(CANTINE, tmp_path / "cantine.tarif")
    registry = Registry(tmp_path, 1.0, settle=0.2, clock=lambda: now[0])
    registry.scan()
    now[0] = 0.3
    registry.scan()  # unchanged for 0.3 s: read
    assert sorted(registry.entries) == ["cantine"] and not registry.due()
    _touch(tmp_path / "autre.tarif", CANTINE.read_text(encoding="utf-8"))
    now[0] = 0.5
    assert not registry.due()
    now[0] = 1.3
    assert registry.due()
    registry.scan()  # seen changed: not read before it has stayed the same for 0.2 s
    assert sorted(registry.entries) == ["cantine"] and not registry.due()
    now[0] = 1.6
    assert registry.due()  # a changed file has settled: no need to wait for the interval
    registry.scan()
    assert sorted(registry.entries) == ["autre", "cantine"]


def test_a_file_is_read_only_if_it_is_still_the_one_stamped(tmp_path: Path) -> None:
    served = tmp_path / "cantine.tarif"
    shutil.copy(CANTINE, served)
    folder = tmp_path.resolve()
    stamp = probe(served, folder)
    assert read_stable(served, folder, stamp) == CANTINE.read_bytes()
    with served.open("ab") as file:
        file.write(b"\n# encore\n")  # being written after its stamp was taken
    with pytest.raises(Moved):
        read_stable(served, folder, stamp)
    replacement = tmp_path / "nouveau"
    shutil.copy(CANTINE, replacement)
    stamp = probe(served, folder)
    os.replace(replacement, served)  # renamed over: another inode
    with pytest.raises(Moved):
        read_stable(served, folder, stamp)


def test_a_link_inside_the_folder_is_served_a_link_out_of_it_is_not(tmp_path: Path) -> None:
    served = tmp_path / "servi"
    served.mkdir()
    shutil.copy(CANTINE, served / "cantine.tarif")
    (served / "alias.tarif").symlink_to("cantine.tarif")
    shutil.copy(CANTINE, tmp_path / "dehors.tarif")
    (served / "dehors.tarif").symlink_to(tmp_path / "dehors.tarif")
    (served / "remonte.tarif").symlink_to("../dehors.tarif")
    registry = Registry(served, settle=0)
    registry.refresh()
    assert registry.get("alias").served() is not None
    for name in ("dehors", "remonte"):
        entry = registry.get(name)
        assert entry.version is None and entry.reason and "hors du dossier" in entry.reason


def test_log_lines_hold_no_control_character() -> None:
    assert printable("/fichiers\r\n2026 POST /evaluer 200") == "/fichiers\\x0d\\x0a2026 POST /evaluer 200"
    assert printable("/a\x1b[2J\u202e\u2028\\x0d") == "/a\\x1b[2J\\u202e\\u2028\\\\x0d"
    assert printable("/schema/goûter-été") == "/schema/goûter-été"
    assert printable("x" * 500) == "x" * 200 + "…"


# ------------------------------------------------------------------ access log


def test_the_access_log_never_holds_situation_values(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    secret = {"quotient_familial": 987654, "demandeur_emploi": "oui"}
    with caplog.at_level(logging.INFO, logger="tarifrules.service"):
        client.post("/evaluer", json={"file": "restauration-scolaire", "situation": secret, "date": "15/09/2025"})
        client.post("/evaluer", json={"file": "restauration-scolaire", "situation": {"quotient_familial": "x98765x"}})
        client.get("/portees", params={"fichier": "secret-query-value"})
    lines = [record.getMessage() for record in caplog.records]
    assert any(line.startswith("POST /evaluer 200 ") and line.endswith(" ms") for line in lines)
    assert any(line.startswith("POST /evaluer 422 ") for line in lines)
    text = json.dumps(lines)
    assert "987654" not in text and "98765" not in text and "secret-query-value" not in text


# ------------------------------------------------------------------ the real server


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_tarifrules_serve_logs_no_body_nor_query(tmp_path: Path) -> None:
    """`tarifrules serve` under uvicorn: its log has method, path, status, duration; no value."""
    import subprocess
    import sys
    import time

    import httpx

    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        server = subprocess.Popen([sys.executable, "-m", "tarifrules.cli", "serve", str(FOLDER), "--port", str(port)],
                                  stdout=sink, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60  # a loaded CI machine can be slow to start a process
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/fichiers", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        ok = httpx.post(f"{url}/evaluer", json={"file": "restauration-scolaire", "date": "15/09/2025",
                                                "situation": {"quotient_familial": 987654}})
        bad = httpx.post(f"{url}/evaluer?cle=valeur-secrete", json={"file": "restauration-scolaire",
                                                                    "situation": {"quotient_familial": "x98765x"}})
        assert (ok.status_code, bad.status_code) == (200, 422)
    finally:
        server.terminate()
        server.wait(timeout=10)
    text = log.read_text(encoding="utf-8")
    assert "POST /evaluer 200" in text and "POST /evaluer 422" in text
    assert "98765" not in text and "valeur-secrete" not in text and "cle=" not in text


def test_the_cli_does_not_import_the_service_framework() -> None:
    import subprocess
    import sys

    code = "import sys, tarifrules.cli; assert 'fastapi' not in sys.modules and 'uvicorn' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_serve_refuses_a_missing_folder_or_a_busy_port_in_french() -> None:
    import socket
    import subprocess
    import sys

    missing = subprocess.run([sys.executable, "-m", "tarifrules.cli", "serve", "/nulle/part"],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "dossier introuvable" in missing.stderr
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        taken = subprocess.run([sys.executable, "-m", "tarifrules.cli", "serve", str(FOLDER), "--port", str(port)],
                               capture_output=True, text=True)
    assert taken.returncode == 2 and "port déjà utilisé" in taken.stderr
