"""The pages as a person sees them: rendered by headless Chromium (Debian's `chromium`).

One browser for the whole session (Playwright driving /usr/bin/chromium with a fresh
profile, no network). The pages of every example are generated once into a temporary
folder; the tests assert on what is drawn and printed: the chart has ink where its steps
are, one visible step per tranche, French axis labels, table cells equal to the
evaluator's results, no console error and no request leaving the disk, and a six-tranche
sheet printing on one or two A4 pages. Screenshots go to build/captures/ for review
(gitignored). Skipped, with the reason, when Chromium or Playwright is missing; set
TARIFRULES_CHROMIUM to use another Chromium binary.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tarifrules
from tarifrules.pages import build_site

from .helpers import EXAMPLES, ROOT
from .png import read_png

CHROMIUM = os.environ.get("TARIFRULES_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CAPTURES = ROOT / "build" / "captures"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
CANTINE = EXAMPLES / "restauration-scolaire.tarif"
PREVIOUS = ROOT / "examples" / "versions" / "restauration-scolaire-2024-2025.tarif"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium absent ({CHROMIUM}) : apt-get install chromium pour les tests dans le navigateur")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright absent : pip install -e '.[dev]'")
    profile = tempfile.mkdtemp(prefix="tarifrules-chromium-")
    try:
        with sync_api.sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=FLAGS,
                viewport={"width": 1100, "height": 900}, locale="fr-FR", offline=True)
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def site() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="tarifrules-pages-"))
    files = [*sorted(EXAMPLES.rglob("*.tarif")), PREVIOUS]
    build_site(files, folder)
    rules = tarifrules.load(CANTINE)
    from tarifrules.pages.letter import build_letter

    letter = build_letter(rules.evaluate({"quotient_familial": 650, "demandeur_emploi": "oui"},
                                         date=rules.valid_from))
    (folder / "lettre.html").write_text(letter.to_html(), encoding="utf-8")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


class Visit:
    """A page opened from disk, with what it said on the console and what it tried to load."""

    def __init__(self, browser: Any, path: Path):
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def capture(self, name: str) -> None:
        CAPTURES.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(CAPTURES / name), full_page=True)

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def cantine(browser: Any, site: Path) -> Iterator[Visit]:
    visit = Visit(browser, site / "restauration-scolaire.html")
    yield visit
    visit.close()


def test_every_page_renders_without_console_errors_or_network(browser: Any, site: Path) -> None:
    pages = sorted(site.glob("*.html"))
    assert len(pages) >= 14
    for path in pages:
        visit = Visit(browser, path)
        try:
            assert visit.errors == [], f"{path.name} : {visit.errors}"
            outside = [u for u in visit.requests if not u.startswith(("file://", "data:", "about:"))]
            assert outside == [], f"{path.name} charge {outside}"
            assert visit.page.locator("h1").first.is_visible()
            visit.capture(path.name.replace(".html", ".png"))
        finally:
            visit.close()


def test_the_chart_is_drawn_with_one_visible_step_per_tranche(cantine: Visit) -> None:
    chart = cantine.page.locator("svg.graphique").first
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 120
    image = read_png(chart.screenshot(path=str(CAPTURES / "graphique-restauration-scolaire.png")))
    assert image.ink() > 0.02 * image.width * image.height, "le graphique est vide"
    for label in ("demandeur emploi : non", "demandeur emploi : oui"):
        steps = cantine.page.locator(f"g.serie[data-serie=\"{label}\"] line.palier")
        assert steps.count() == 6, label
        for index in range(6):
            step = steps.nth(index).bounding_box()
            assert step and step["width"] > 10, f"palier {index + 1} invisible ({label})"
            x = int(step["x"] - box["x"] + step["width"] / 2)
            y = int(step["y"] - box["y"] + step["height"] / 2)
            assert image.ink((x - 2, y - 3, 5, 7)) > 0, f"rien n'est dessiné sur le palier {index + 1} ({label})"


def test_the_axes_are_labelled_in_french(cantine: Visit) -> None:
    page = cantine.page
    assert page.locator("svg.graphique text.axe-x").first.text_content() == "Quotient familial (€)"
    assert page.locator("svg.graphique text.axe-y").first.text_content() == "Prix d'un repas facturé à la famille (€)"
    ticks = page.locator("svg.graphique text.graduation-x").all_text_contents()
    assert "1 000" in ticks
    assert any(re.fullmatch(r"\d,\d\d €", t) for t in page.locator("svg.graphique text.graduation-y")
               .all_text_contents())
    legend = page.locator("ul.legende").first.inner_text()
    assert "demandeur emploi : non" in legend and "demandeur emploi : oui" in legend


def test_the_table_shows_the_evaluators_prices_at_every_bound(cantine: Visit) -> None:
    rules = tarifrules.load(CANTINE)
    rows = cantine.page.locator("table.grille tbody tr")
    assert rows.count() == 7
    for index in range(rows.count()):
        row = rows.nth(index)
        shown = row.locator("td").nth(2).inner_text().strip()
        ends = [row.get_attribute(f"data-{k}") for k in ("de", "a")]
        situations = [{"quotient_familial": e, "demandeur_emploi": "non"} for e in ends if e] or [{}]
        for situation in situations:
            expected = rules.evaluate(situation, date=rules.valid_from).outputs["tarif_repas"].display()
            assert shown == expected, f"ligne {index + 1} ({row.inner_text()!r}) : {situation}"


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_a_six_tranche_sheet_prints_on_one_or_two_a4_pages(cantine: Visit) -> None:
    pdf = cantine.page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    CAPTURES.mkdir(parents=True, exist_ok=True)
    (CAPTURES / "restauration-scolaire.pdf").write_bytes(pdf)
    assert 1 <= _pdf_pages(pdf) <= 2, f"{_pdf_pages(pdf)} pages A4"
    for width, height in re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", pdf):
        assert abs(float(width) - 595.3) < 2 and abs(float(height) - 841.9) < 2, "pas au format A4"


def test_the_comparison_page_shows_both_versions(browser: Any, site: Path) -> None:
    (path,) = site.glob("comparaison-*.html")
    visit = Visit(browser, path)
    try:
        text = visit.page.locator("table.comparaison").inner_text()
        assert "2,00 €" in text and "2,10 €" in text and "+0,10 €" in text
        assert visit.page.locator("svg.graphique g.serie").count() == 4
    finally:
        visit.close()


def test_the_letter_shows_the_four_crpa_elements(browser: Any, site: Path) -> None:
    visit = Visit(browser, site / "lettre.html")
    try:
        headings = visit.page.locator("h2").all_inner_texts()
        assert headings[1:5] == ["1. Comment le traitement a contribué à la décision",
                                 "2. Les données utilisées et leur source",
                                 "3. Les paramètres appliqués à votre situation", "4. Les opérations effectuées"]
        assert "1,05 €" in visit.page.locator("section").first.inner_text()
        visit.capture("lettre.png")
        pdf = visit.page.pdf(format="A4")
        assert 1 <= _pdf_pages(pdf) <= 3
    finally:
        visit.close()
