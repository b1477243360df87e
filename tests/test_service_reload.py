"""Served files rewritten in place (issue 15, item 4), against a real `tarifrules serve`.

An editor writes a file in two pieces 50 ms apart while a bounded load runs on 127.0.0.1:
every answer comes from a complete version (its `version.sha256` is the hash of the old or
of the new text, never of the half-written one, although that half is itself a valid file
whose examples pass), and every answer names its version. The folder is scanned every
20 ms (`TARIFRULES_SERVE_RELECTURE`): a reloader that read a file as soon as it changed
would catch the half. Loading a file that takes seconds to check does not stall the
requests answered meanwhile.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tarifrules import load
from tarifrules.examples import run_examples

from .helpers import ROOT
from .service_support import Served

pytest.importorskip("uvicorn")

CANTINE = ROOT / "examples" / "deliberations" / "restauration-scolaire.tarif"
REQUEST = {"file": "cantine", "situation": {"quotient_familial": 650, "demandeur_emploi": "oui"},
           "date": "15/09/2025"}
LATENCY = 1.0  # seconds: no request waits longer while a big file is checked


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _priced(base: str, meal: str) -> bytes:
    """The cantine with its second band at `base` (examples updated: they pass)."""
    text = CANTINE.read_text(encoding="utf-8")
    return text.replace("2,10 €", base).replace("1,05 €", meal).encode("utf-8")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("reload")
    folder = root / "servi"
    folder.mkdir()
    shutil.copy(CANTINE, folder / "cantine.tarif")
    served = Served.start(folder, log=root / "serve.log", env={"TARIFRULES_SERVE_RELECTURE": "0.02"})
    try:
        yield served
    finally:
        served.stop()
    log = served.log_text()
    assert "Traceback" not in log and "erreur interne" not in log, log[-3000:]


class Load:
    """Two clients posting the same household back to back until stopped; every answer kept."""

    def __init__(self, url: str):
        self.url = url
        self.answers: list[tuple[int, str | None, str | None]] = []  # status, version sha256, price
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(2)]

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set() and len(self.answers) < 20_000:  # bounded
                answer = client.post(f"{self.url}/evaluer", json=REQUEST)
                body = answer.json()
                price = body["outputs"]["tarif_repas"]["value"] if answer.status_code == 200 else None
                self.answers.append((answer.status_code, body.get("version", {}).get("sha256"), price))

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)


def _write_in_two_pieces(path: Path, text: bytes, cut: int) -> None:
    """As an editor saving in place: truncate, write the first part, 50 ms later the rest."""
    with path.open("r+b") as file:
        file.truncate(0)
        file.write(text[:cut])
        file.flush()
        os.fsync(file.fileno())
        time.sleep(0.05)
        file.write(text[cut:])
        file.flush()
        os.fsync(file.fileno())


def test_a_file_rewritten_in_two_writes_is_never_served_half_written(server: Served) -> None:
    path = server.log.parent / "servi" / "cantine.tarif"
    versions = [CANTINE.read_bytes(), _priced("2,20 €", "1,10 €"), _priced("2,40 €", "1,20 €")]
    price = {_sha(versions[0]): "1.05", _sha(versions[1]): "1.10", _sha(versions[2]): "1.20"}
    halves: set[str] = set()
    with Load(server.url) as running:
        time.sleep(0.3)
        for text in versions[1:]:
            cut = text.index("# ---- Réduction pour les demandeurs d'emploi".encode())
            half = text[:cut]  # every article, fewer examples: a valid file on its own
            assert all(r.passed for r in run_examples(load(half.decode(), file="cantine.tarif")))
            halves.add(_sha(half))
            _write_in_two_pieces(path, text, cut)
            server.wait_for("cantine", lambda e, text=text: e["version"]["sha256"] == _sha(text), timeout=30)
            time.sleep(0.3)
    answers = running.answers
    assert len(answers) > 50, "charge trop faible pour conclure"
    assert {status for status, _, _ in answers} == {200}
    seen = [sha for _, sha, _ in answers]
    assert not halves & set(seen), "une réponse vient d'une version à moitié écrite"
    assert set(seen) <= set(price), "une réponse vient d'une version inconnue"
    assert set(seen) == set(price)  # each complete version answered in turn
    assert all(value == price[sha] for _, sha, value in answers if sha)  # the price is that version's
    first = [seen.index(_sha(v)) for v in versions]
    assert first == sorted(first)  # and in the order they were written


def _big_grids(grids: int, bands: int = 1900) -> str:
    """A valid file of `grids` grids of `bands` bands each (T071 allows 2 000): seconds to check on a slow
    machine."""
    lines = ['délibération "Grande grille"', "  applicable à partir du 01/09/2025", "", "données",
             "  quotient_familial : montant entier au minimum 0 €, quotient familial CAF", "", "résultats",
             "  tarif : montant, prix", "", 'article 1 "Grilles"']
    for grid in range(1, grids + 1):
        lines += [f"  grille_{grid} : grille selon quotient_familial", "    moins de 1 € : 0,01 €"]
        lines += [f"    de {i} € à {i + 1} € exclu : {i // 100},{i % 100:02d} €" for i in range(1, bands)]
        lines += [f"    à partir de {bands} € : 19,00 €", "    à défaut : 1,00 €"]
    total = " + ".join(f"grille_{grid}" for grid in range(1, grids + 1))
    lines += [f"  tarif : {total} - {grids - 1} × grille_1",  # every grid read, the value of one
              "", 'exemple "QF 5 €"', "  quotient_familial = 5 €", "  attendu tarif = 0,05 €"]
    return "\n".join(lines) + "\n"


def test_checking_a_big_file_does_not_stall_other_requests(server: Served, tmp_path: Path) -> None:
    staged = tmp_path / "grande.tarif"
    staged.write_text(_big_grids(4), encoding="utf-8")
    start = time.monotonic()
    os.replace(staged, server.log.parent / "servi" / "grande.tarif")  # complete at once: settles at once
    latencies: list[float] = []
    served = False
    with httpx.Client(timeout=60) as client:
        while not served and time.monotonic() - start < 120:
            before = time.perf_counter()
            answer = client.post(f"{server.url}/evaluer", json=REQUEST)
            latencies.append(time.perf_counter() - before)
            assert answer.status_code == 200
            before = time.perf_counter()
            files = {f["name"]: f for f in client.get(f"{server.url}/fichiers").json()["files"]}
            latencies.append(time.perf_counter() - before)
            served = "grande" in files and files["grande"]["served"]
    loading = time.monotonic() - start
    assert served, "la grande grille n'est pas servie après 120 s"
    assert loading > 2 * LATENCY, f"grille vérifiée en {loading:.1f} s : trop vite pour montrer un blocage"
    assert max(latencies) < LATENCY, f"une requête a attendu {max(latencies):.2f} s pendant le chargement"
    answer = httpx.post(f"{server.url}/evaluer", json={"file": "grande", "situation": {"quotient_familial": 1234},
                                                       "date": "15/09/2025"}, timeout=30).json()
    assert answer["outputs"]["tarif"]["value"] == "12.34"
