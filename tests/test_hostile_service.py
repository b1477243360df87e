"""Hostile inputs of the HTTP service (issue 15, item 9), against a real `tarifrules serve`.

The corpus is `tests/hostile/service/` (raw HTTP requests, rule files, the recipe of a
symbolic link out of the folder). Whatever the case: an answer in French (JSON error
document), never a 500 nor « erreur interne » in the log, never a traceback, every
connection ended within a bounded time (`--delai 1`: the headers, then the body, must
arrive within a second), and nothing of a file outside the folder nor of a request body
in an answer or in the log.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .helpers import ROOT
from .hostile_support import HOSTILE, assert_handled, run_cli
from .service_support import Exchange, Served, exchange

pytest.importorskip("uvicorn")

CORPUS = HOSTILE / "service"
CANTINE = ROOT / "examples" / "deliberations" / "restauration-scolaire.tarif"
DELAY = 1.0  # --delai of the server under test
BOUND = DELAY + 2.0  # a connection the server must drop is gone by then (a loaded machine is slow)
SECRET = ("MOT-SECRET-4242", "revenu_secret_4242", "contenu hors du dossier")
GOOD_GOUTER = (CORPUS / "exemples-faux.tarif").read_text(encoding="utf-8").replace(
    "= 0,50 €", "= 0,60 €").replace("= 0,90 €", "= 0,95 €")


def request_bytes(name: str) -> bytes:
    """A request of the corpus as sent: CRLF line ends, `Content-Length: auto` computed, `\\x1b` raw;
    without a blank line, the headers stop after the last character of the file."""
    text = (CORPUS / name).read_text(encoding="utf-8")
    head, blank, body = text.partition("\n\n")
    raw_body = body.encode("utf-8")
    head = head.replace("Content-Length: auto", f"Content-Length: {len(raw_body)}")
    head = head + "\n\n" if blank else head.rstrip("\n")  # no blank line: headers never finished
    raw = head.replace("\n", "\r\n").encode("utf-8") + raw_body
    return raw.replace(b"\\x1b", b"\x1b")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("hostile-service")
    folder = root / "servi"
    folder.mkdir()
    shutil.copy(CANTINE, folder / "cantine.tarif")
    (folder / "gouter.tarif").write_text(GOOD_GOUTER, encoding="utf-8")
    outside = root / "ailleurs"
    outside.mkdir()
    shutil.copy(CORPUS / "secret-hors-dossier.tarif", outside / "regles.tarif")
    os.symlink(outside / "regles.tarif", folder / "fuite.tarif")  # the recipe of the corpus
    os.symlink("cantine.tarif", folder / "alias.tarif")  # a link inside the folder is served
    served = Served.start(folder, "--delai", str(DELAY), log=root / "serve.log")
    try:
        yield served
    finally:
        served.stop()
    log = served.log_text()
    for word in ("Traceback", "erreur interne", " 500 ", *SECRET, "987654"):
        assert word not in log, f"« {word} » dans le journal : {log[-3000:]}"


def _french_error(answer: Exchange, status: int, code: str, *words: str) -> dict[str, Any]:
    assert answer.status == status, answer.raw[:500]
    assert b"Traceback" not in answer.raw and b"Internal Server Error" not in answer.raw
    [problem] = answer.body["errors"]
    assert problem["code"] == code, problem
    for word in words:
        assert word in problem["message"] + (problem["hint"] or ""), problem
    return dict(problem)


def _log_lines(server: Served, needle: str, timeout: float = 5) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [line for line in server.log_text().splitlines() if needle in line]
        if lines:
            return lines
        time.sleep(0.05)
    raise AssertionError(f"« {needle} » absent du journal : {server.log_text()[-2000:]}")


# ------------------------------------------------------------------ slow clients


def test_a_slowloris_client_gets_a_408_and_is_dropped_within_the_delay(server: Served) -> None:
    drip = [request_bytes("entetes-lents.http")] + [b"b"] * 100  # one more byte every 0.3 s: 30 s
    answer = exchange(server.port, drip, pause=0.3, timeout=15)
    assert answer.closed and answer.elapsed < BOUND, answer
    _french_error(answer, 408, "H013", "en-têtes", "non reçus")


def test_a_connection_that_sends_nothing_is_closed_silently(server: Served) -> None:
    answer = exchange(server.port, [], timeout=15)
    assert answer.closed and answer.elapsed < BOUND and answer.raw == b""


def test_sixty_slow_connections_are_all_dropped_and_others_still_served(server: Served) -> None:
    connections = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(60)]
    try:
        for connection in connections:
            connection.sendall(b"GET /fichiers HTTP/1.1\r\nHost: x\r\nX-Lent: ")
        start = time.monotonic()
        assert httpx.get(f"{server.url}/fichiers", timeout=5).status_code == 200  # not starved
        for connection in connections:
            connection.settimeout(max(0.1, BOUND - (time.monotonic() - start)))
            received = b""
            while chunk := connection.recv(4096):  # a TimeoutError here: still open after the bound
                received += chunk
            assert received.startswith(b"HTTP/1.1 408 "), received
        assert time.monotonic() - start < BOUND
    finally:
        for connection in connections:
            connection.close()


def test_a_body_that_does_not_come_gets_a_french_408(server: Served) -> None:
    answer = exchange(server.port, [request_bytes("corps-lent.http")], timeout=15)
    assert answer.closed and answer.elapsed < BOUND, answer
    _french_error(answer, 408, "H013", "corps", "non reçu")
    assert "POST /evaluer 408" in server.log_text()


def test_headers_beyond_64_kio_get_a_431(server: Served) -> None:
    huge = b"GET /fichiers HTTP/1.1\r\nHost: x\r\nX-Gros: " + b"a" * 70_000 + b"\r\n\r\n"
    answer = exchange(server.port, [huge[:40_000], huge[40_000:]], timeout=15)
    assert answer.closed
    _french_error(answer, 431, "H014", "en-têtes", "trop gros")


# ------------------------------------------------------------------ the access log


def test_a_client_gone_in_the_middle_of_its_body_is_not_an_internal_error(server: Served) -> None:
    exchange(server.port, [request_bytes("corps-interrompu.http")], close_after=True)
    [line] = _log_lines(server, "POST /evaluer 499")
    assert line.rstrip().endswith(" ms")
    log = server.log_text()
    assert "ClientDisconnect" not in log and "erreur interne" not in log and "987654" not in log


def test_a_crlf_in_the_path_cannot_forge_a_line_of_the_log(server: Served) -> None:
    answer = exchange(server.port, [request_bytes("chemin-crlf.http")], timeout=10)
    _french_error(answer, 404, "H006", "adresse inconnue")
    [line] = _log_lines(server, "GET /fichiers\\x0d\\x0a2026-01-01")
    assert "\\x1b[2J" in line and line.rstrip().endswith(" ms")
    assert not any(line.startswith("2026-01-01") for line in server.log_text().splitlines())
    assert "\x1b" not in server.log_text()


def test_a_raw_control_character_in_the_path_is_a_french_400(server: Served) -> None:
    answer = exchange(server.port, [request_bytes("chemin-controle-brut.http")], timeout=10)
    assert answer.closed
    _french_error(answer, 400, "H002", "requête HTTP illisible")
    assert "\x1b" not in server.log_text()
    assert "Invalid HTTP request" not in server.log_text()  # uvicorn's English beside the French line


# ------------------------------------------------------------------ bodies that are not JSON


@pytest.mark.parametrize("name", ["texte-brut.http", "formulaire.http", "json-latin1.http"])
def test_a_body_that_is_not_json_in_utf8_gets_a_415(server: Served, name: str) -> None:
    answer = exchange(server.port, [request_bytes(name)], timeout=10)
    problem = _french_error(answer, 415, "H012", "type de contenu non pris en charge", "application/json")
    assert "quotient_familial" not in json.dumps(problem)


def test_a_json_body_without_content_type_is_still_read(server: Served) -> None:
    body = json.dumps({"file": "cantine", "situation": {"quotient_familial": 650, "demandeur_emploi": "oui"},
                       "date": "15/09/2025"}).encode()
    answer = httpx.post(f"{server.url}/evaluer", content=body, timeout=10)
    assert answer.status_code == 200 and answer.json()["outputs"]["tarif_repas"]["value"] == "1.05"


# ------------------------------------------------------------------ files of the folder


def test_a_link_out_of_the_folder_is_refused_and_its_content_never_shown(server: Served) -> None:
    files = server.files()
    leak = files["fuite"]
    assert (leak["status"], leak["served"], leak["title"], leak["data"]) == ("erreur", False, None, [])
    assert "hors du dossier servi" in leak["reason"]
    assert [d["code"] for d in leak["diagnostics"]] == ["H011"]
    assert files["alias"]["served"] and files["alias"]["version"] == files["cantine"]["version"]
    answers = [httpx.get(f"{server.url}/fichiers", timeout=10),
               httpx.get(f"{server.url}/portees", timeout=10),
               httpx.get(f"{server.url}/portees", params={"fichier": "fuite"}, timeout=10),
               httpx.get(f"{server.url}/schema/fuite", timeout=10),
               httpx.post(f"{server.url}/evaluer", json={"file": "fuite"}, timeout=10),
               httpx.post(f"{server.url}/expliquer", json={"file": "fuite"}, timeout=10)]
    assert [a.status_code for a in answers] == [200, 200, 409, 409, 409, 409]
    for answer in answers:
        for word in SECRET:
            assert word not in answer.text


def test_a_version_whose_examples_fail_is_not_served(server: Served) -> None:
    request = {"file": "gouter", "situation": {"quotient_familial": 650}, "date": "15/09/2025"}
    before = httpx.post(f"{server.url}/evaluer", json=request, timeout=10).json()
    assert before["outputs"]["tarif_gouter"]["value"] == "0.60"
    shutil.copy(CORPUS / "exemples-faux.tarif", server.log.parent / "servi" / "gouter.tarif")
    entry = server.wait_for("gouter", lambda e: e["status"] == "erreur")
    assert entry["served"] and entry["version"] == before["version"]
    assert entry["reason"] == "2 exemple(s) sur 2 en échec : cette version n'est pas servie"
    assert {d["code"] for d in entry["diagnostics"]} == {"X001"}
    assert "attendu 0,50 €, obtenu 0,60 €" in entry["diagnostics"][0]["message"]
    after = httpx.post(f"{server.url}/evaluer", json=request, timeout=10).json()
    assert after["outputs"]["tarif_gouter"]["value"] == "0.60" and after["version"] == before["version"]
    assert "fichier en erreur : gouter.tarif (2 exemple(s) en échec sur 2) ; la version précédente reste servie" \
        in server.log_text()


def test_a_fifo_or_a_folder_named_tarif_is_refused_without_blocking(tmp_path: Path) -> None:
    fastapi_testclient = pytest.importorskip("fastapi.testclient")
    from tarifrules.service.app import create_app

    shutil.copy(CANTINE, tmp_path / "cantine.tarif")
    os.mkfifo(tmp_path / "tube.tarif")  # reading it would block forever
    (tmp_path / "dossier.tarif").mkdir()
    made: list[Any] = []
    starting = threading.Thread(target=lambda: made.append(create_app(tmp_path, settle=0)), daemon=True)
    starting.start()
    starting.join(30)
    assert made, "create_app bloqué par un tube nommé"
    with fastapi_testclient.TestClient(made[0]) as client:
        files = {f["name"]: f for f in client.get("/fichiers").json()["files"]}
    assert files["cantine"]["served"]
    assert "pas un fichier ordinaire" in files["tube"]["reason"] and not files["tube"]["served"]
    assert "un dossier" in files["dossier"]["reason"] and not files["dossier"]["served"]


def test_serve_refuses_a_bad_delay_in_french() -> None:
    assert_handled(run_cli(["serve", str(CORPUS), "--delai", "0"]), 2, "--delai")


def test_a_body_beyond_64_kio_sent_with_its_headers_is_no_header(server: Served) -> None:
    # The body's bytes in the same packet as the headers were counted as headers: 431 for a valid request.
    start = {"file": "cantine", "situation": {"quotient_familial": 650, "demandeur_emploi": "non"},
             "date": "15/09/2025"}
    body = json.dumps({**start, "note": ""}).encode()
    body = json.dumps({**start, "note": "x" * (65_500 - len(body))}).encode()  # under the 64 Kio body limit,
    assert len(body) == 65_500  # and headers plus body over 64 Kio of « headers »
    head = (f"POST /evaluer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
            "\r\nConnection: close\r\n\r\n").encode()
    answer = exchange(server.port, [head + body], timeout=15)
    assert answer.status != 431, answer
    assert answer.status in (200, 422), answer  # computed, or the extra key refused


def test_a_body_with_a_byte_order_mark_is_read_as_the_command_line_reads_it(server: Served) -> None:
    body = "\ufeff" + json.dumps({"file": "cantine", "situation": {"quotient_familial": 650,
                                                                   "demandeur_emploi": "non"}, "date": "15/09/2025"})
    answer = httpx.post(f"{server.url}/evaluer", content=body.encode("utf-8"),
                        headers={"Content-Type": "application/json"}, timeout=15)
    assert answer.status_code == 200, answer.text
    assert answer.json()["outputs"]["tarif_repas"]["value"] == "2.10"
