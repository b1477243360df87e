"""`tarifrules doc`: the tariff sheet, the index and the comparison of versions.

The prices a page shows are checked against `RuleSet.evaluate` at both ends of every
tranche; the page of the cantine example is a golden file (`--update-golden`).
"""

from __future__ import annotations

import html
import re
from decimal import Decimal
from pathlib import Path

import pytest

import tarifrules
from tarifrules.cli import main
from tarifrules.pages import build_site
from tarifrules.pages.chart import segments
from tarifrules.pages.curves import curves
from tarifrules.values import spell

from .helpers import EXAMPLES, GOLDEN, ROOT, assert_golden

CANTINE = "examples/deliberations/restauration-scolaire.tarif"
PREVIOUS = "examples/versions/restauration-scolaire-2024-2025.tarif"
_ROW = re.compile(r"<tr ((?:data-[a-z]+=\"[^\"]*\" ?)+)>(.*?)</tr>")
_PRICE = re.compile(r"<span class=\"prix\">(.*?)</span>")


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(ROOT)
    return ROOT


def grid_rows(page: str) -> list[tuple[dict[str, str], list[str]]]:
    rows = []
    for attributes, cells in _ROW.findall(page):
        data = dict(re.findall(r"data-([a-z]+)=\"([^\"]*)\"", attributes))
        rows.append((data, [html.unescape(p) for p in _PRICE.findall(cells)]))
    return rows


def test_the_cantine_page_matches_its_golden_file(at_root: Path, tmp_path: Path) -> None:
    build_site([CANTINE], tmp_path)
    assert_golden(GOLDEN / "pages" / "restauration-scolaire.html",
                  (tmp_path / "restauration-scolaire.html").read_text(encoding="utf-8"))


def test_grid_prices_are_the_evaluators_at_both_ends_of_each_tranche(at_root: Path, tmp_path: Path) -> None:
    build_site([CANTINE], tmp_path)
    page = (tmp_path / "restauration-scolaire.html").read_text(encoding="utf-8")
    rules = tarifrules.load(CANTINE)
    rows = grid_rows(page)
    assert len(rows) == 7  # six tranches and « à défaut »
    for data, prices in rows:
        ends = [data[k] for k in ("de", "a") if k in data]
        situations = [{"quotient_familial": v, "demandeur_emploi": "non"} for v in ends] or [{}]
        for situation in situations:
            assert prices == [rules.evaluate(situation, date=rules.valid_from).outputs["tarif_repas"].display()]


def test_a_single_file_is_its_own_entry_point(at_root: Path, tmp_path: Path) -> None:
    site = build_site([CANTINE], tmp_path)
    assert site.index is None and [p.name for p in tmp_path.iterdir()] == ["restauration-scolaire.html"]
    assert "index.html" not in site.pages[0].read_text(encoding="utf-8")


def test_the_page_is_self_contained_and_escaped(tmp_path: Path) -> None:
    source = (EXAMPLES / "champcevinel-cantine.tarif").read_text(encoding="utf-8")
    hostile = source.replace('"Mise en place de la tarification sociale à la cantine (2022-2023)"',
                             '"Cantine <script>alert(1)</script> & co"')
    file = tmp_path / "hostile.tarif"
    file.write_text(hostile, encoding="utf-8")
    build_site([file], tmp_path / "out")
    page = (tmp_path / "out" / "hostile.html").read_text(encoding="utf-8")
    assert "<script" not in page
    assert "Cantine &lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page.replace('href="https://www.champcevinel.fr', ""))
    assert "<link" not in page and "@import" not in page
    assert "@media print" in page and "size: A4" in page


def test_every_example_gets_a_page_and_the_index_lists_their_validity(at_root: Path, tmp_path: Path) -> None:
    files = sorted(str(p.relative_to(ROOT)) for p in EXAMPLES.rglob("*.tarif"))
    site = build_site(files, tmp_path)
    assert len(site.pages) == len(files)
    assert site.index is not None
    index = site.index.read_text(encoding="utf-8")
    for path in site.pages:
        assert f"href=\"{path.name}\"" in index
    assert "du 14/11/2022 au 31/08/2023" in index and "à partir du 01/09/2025" in index
    wrong = (tmp_path / "laval-pradel-cantine.html").read_text(encoding="utf-8")
    assert "erreur[" in wrong and "<svg" not in wrong  # a file with errors: its diagnostics, no chart
    assert set(site.errors) == {str(p.relative_to(ROOT)) for p in (EXAMPLES / "a-corriger").glob("*.tarif")}


def test_successive_versions_get_a_comparison_page(at_root: Path, tmp_path: Path) -> None:
    site = build_site([CANTINE, PREVIOUS], tmp_path)
    assert len(site.comparisons) == 1
    page = site.comparisons[0].read_text(encoding="utf-8")
    old, new = tarifrules.load(PREVIOUS), tarifrules.load(CANTINE)
    differences = re.findall(r"<td>([+-]?[0-9 ,]+ €[^<]*|—)</td></tr>", page)
    assert len(differences) == 7
    for qf, shown in zip((0, 400, 700, 1000, 1300, 1700), differences, strict=False):
        situation = {"quotient_familial": qf, "demandeur_emploi": "non"}
        a = old.evaluate(situation, date=old.valid_from).outputs["tarif_repas"].value
        b = new.evaluate(situation, date=new.valid_from).outputs["tarif_repas"].value
        assert isinstance(a, Decimal) and isinstance(b, Decimal)
        expected = ("+" if b > a else "") + spell(b - a, "€") if b != a else "0,00 €"
        assert html.unescape(shown).startswith(expected)
    assert page.count("<svg class=\"graphique\"") == 1


def test_an_explicit_comparison_is_written_even_without_successive_dates(at_root: Path, tmp_path: Path) -> None:
    champcevinel = "examples/deliberations/champcevinel-cantine.tarif"
    site = build_site([CANTINE], tmp_path, compare=[(champcevinel, CANTINE)])
    assert len(site.comparisons) == 1 and len(site.pages) == 2


def test_one_step_per_tranche_and_one_series_per_case() -> None:
    rules = tarifrules.load(EXAMPLES / "restauration-scolaire.tarif")
    (curve,) = curves(rules)
    assert [s.label for s in curve.series] == ["demandeur emploi : non", "demandeur emploi : oui"]
    for series in curve.series:
        steps = [s for s in segments(series, curve.step) if s.kind == "palier"]
        assert [str(s.points[0][0]) for s in steps] == ["0", "400", "700", "1000", "1300", "1700"]
    rate = tarifrules.load(EXAMPLES / "accueil-loisirs-taux-effort.tarif")
    (line,) = curves(rate)
    kinds = [s.kind for s in segments(line.series[0], line.step)]
    assert kinds == ["palier", "pente", "palier"]  # plancher, taux d'effort, plafond


def test_cli_doc(at_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["doc", CANTINE, PREVIOUS, "-o", str(tmp_path)])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "2 page(s) et 1 comparaison(s)" in out
    with pytest.raises(SystemExit) as exit_info:
        main(["doc", "examples/deliberations/a-corriger/laval-pradel-cantine.tarif", "-o", str(tmp_path / "x")])
    assert exit_info.value.code == 1
    assert "contient des erreurs" in capsys.readouterr().err
