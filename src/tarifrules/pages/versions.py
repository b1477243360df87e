"""Two successive versions of a tariff: the annex a council votes on when prices change.

Versions are found by what the files say, not by their names: the same collectivité,
the same outputs, and validity periods that follow each other (the older one ends before
the newer one starts). `--comparer A B` names a pair explicitly. The page shows both
grids side by side with the difference per tranche (evaluator values, never re-computed
here) and one chart with both versions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal

from ..ruleset import RuleSet
from ..values import format_decimal, spell
from .chart import render_chart
from .curves import MAX_SERIES, Curve, axis_datum, series_for
from .grids import GridTable, grid_tables
from .html import esc, page, table
from .sheet import Sheet, validity_text

__all__ = ["comparison_name", "find_versions", "render_comparison"]


def _collectivity(ruleset: RuleSet) -> str | None:
    item = ruleset.program.header.get("collectivité")
    return str(item.value) if item is not None else None


def successive(older: RuleSet, newer: RuleSet) -> bool:
    return (_collectivity(older) is not None and _collectivity(older) == _collectivity(newer)
            and older.output_names == newer.output_names
            and older.valid_until is not None and older.valid_until < newer.valid_from)


def find_versions(sheets: Sequence[Sheet]) -> list[tuple[Sheet, Sheet]]:
    """Pairs (older, newer) of successive versions among the checked files."""
    checked = sorted((s for s in sheets if s.ruleset is not None), key=lambda s: s.ruleset.valid_from)  # type: ignore[union-attr]
    pairs = []
    for index, older in enumerate(checked):
        assert older.ruleset is not None
        following = [s for s in checked[index + 1:] if s.ruleset is not None and successive(older.ruleset, s.ruleset)]
        if following:
            pairs.append((older, following[0]))
    return pairs


def comparison_name(older: Sheet, newer: Sheet) -> str:
    return f"comparaison-{older.page_name.removesuffix('.html')}-{newer.page_name.removesuffix('.html')}.html"


def _period(ruleset: RuleSet) -> str:
    return validity_text(ruleset.program.header)


def _difference(old: object, new: object, unit: str | None) -> str:
    if not isinstance(old, Decimal) or not isinstance(new, Decimal):
        return "—"
    delta = new - old
    sign = "+" if delta > 0 else ""
    text = f"{sign}{spell(delta, unit) if unit == '€' else format_decimal(delta)}"
    if old != 0:
        rate = (delta / old * 100).quantize(Decimal("0.1"))
        text += f" ({'+' if rate > 0 else ''}{format_decimal(rate)} %)"
    return text


def _grid_comparison(old: GridTable, new: GridTable, unit: str | None) -> str:
    rows = []
    count = max(len(old.tranches), len(new.tranches))
    for index in range(count):
        a = old.tranches[index] if index < len(old.tranches) else None
        b = new.tranches[index] if index < len(new.tranches) else None
        rows.append([esc(a.written if a else "—"), f"<span class=\"prix\">{esc(a.price) if a else '—'}</span>",
                     esc(b.written if b else "—"), f"<span class=\"prix\">{esc(b.price) if b else '—'}</span>",
                     esc(_difference(a.value if a else None, b.value if b else None, unit))])
    same_bounds = [t.written for t in old.tranches] == [t.written for t in new.tranches]
    note = "" if same_bounds else "<p class=\"note\">Les bornes des tranches ont changé : les lignes sont " \
                                  "rapprochées dans l'ordre.</p>"
    return (f"<h3>{esc(new.name)} : grille selon {esc(new.selector)}</h3>{note}"
            + table(["Tranche (ancienne)", "Montant ancien", "Tranche (nouvelle)", "Montant nouveau", "Différence"],
                    rows, css="comparaison"))


def _both_curves(older: RuleSet, newer: RuleSet, output: str) -> Curve | None:
    declaration = newer.symbols.outputs[output]
    axis = axis_datum(newer, output)
    if axis is None or axis != axis_datum(older, output):
        return None
    found = [series_for(ruleset, ruleset.symbols.outputs[output], axis) for ruleset in (older, newer)]
    if found[0] is None or found[1] is None:
        return None
    labelled = []
    for ruleset, curve in zip((older, newer), found, strict=True):
        assert curve is not None
        for series in curve.series[: MAX_SERIES // 2]:
            label = _period(ruleset) + ("" if series.label == "tous les cas" else f" — {series.label}")
            labelled.append(dataclasses.replace(series, label=label))
    base = found[1]
    assert base is not None and declaration is not None
    return dataclasses.replace(base, series=tuple(labelled), identical=0)


def render_comparison(older: Sheet, newer: Sheet) -> str:
    assert older.ruleset is not None and newer.ruleset is not None
    old_rules, new_rules = older.ruleset, newer.ruleset
    parts = [f"<h1>Comparaison : {esc(new_rules.title)}</h1>",
             "<dl class=\"entete\">",
             f"<dt>Version précédente</dt><dd><a href=\"{esc(older.page_name)}\">{esc(old_rules.title)}</a>, "
             f"{esc(_period(old_rules))}</dd>",
             f"<dt>Nouvelle version</dt><dd><a href=\"{esc(newer.page_name)}\">{esc(new_rules.title)}</a>, "
             f"{esc(_period(new_rules))}</dd></dl>",
             "<section id=\"grilles\"><h2>Grilles et différence par tranche</h2>"]
    old_grids = {g.name: g for g in grid_tables(old_rules)}
    shown = 0
    for grid in grid_tables(new_rules):
        if grid.name in old_grids:
            kind = new_rules.kinds.names.get(grid.name)
            unit = "€" if kind is not None and kind.value == "montant" else None
            parts.append(_grid_comparison(old_grids[grid.name], grid, unit))
            shown += 1
    if not shown:
        parts.append("<p>Aucune grille commune aux deux versions.</p>")
    parts.append("</section><section id=\"graphiques\"><h2>Graphiques</h2>")
    for output in new_rules.output_names:
        curve = _both_curves(old_rules, new_rules, output)
        if curve is not None:
            parts.append(render_chart(curve, title=f"{output} selon le {curve.axis.replace('_', ' ')} : "
                                                   "les deux versions"))
    parts.append("</section>")
    navigation = " · ".join(f"<a href=\"{esc(h)}\">{esc(t)}</a>" for h, t in (
        ("index.html", "Toutes les délibérations"), (older.page_name, "version précédente"),
        (newer.page_name, "nouvelle version")))
    return page(f"Comparaison : {new_rules.title}", "\n".join(parts), navigation=navigation)
