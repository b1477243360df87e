"""The tariff sheet of one rule file: what a council votes on and an élu checks by eye.

Sections, in order: the délibération header and validity, each article with its text
(and its grids as tables), a chart of each output against the quotient familial, the
worked examples with the evaluator's results, the data read with their source and API
Particulier scope, and the diagnostics. A file with errors still gets a page: its header,
its articles as written and its diagnostics.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from .. import nodes as n
from ..catalogue import CatalogueEntry
from ..diagnostics import Diagnostic, TarifError
from ..examples import example_date, example_situation, expectations, matches, show_expected
from ..render import render_diagnostics
from ..ruleset import RuleSet
from ..scopes import analyse
from ..values import spell
from .chart import render_chart
from .curves import curves
from .grids import GridTable, grid_tables
from .html import esc, page, table

__all__ = ["Sheet", "render_sheet", "validity_text"]


@dataclass(frozen=True)
class Sheet:
    """What a page is made from: the file, its program (None if it does not parse), its rules if they check."""

    file: str
    source: str
    program: n.Program | None
    ruleset: RuleSet | None
    diagnostics: tuple[Diagnostic, ...]
    page_name: str  # « restauration-scolaire.html »

    @property
    def title(self) -> str:
        return self.program.header.title if self.program else self.file


def validity_text(header: n.Header) -> str:
    item = header.get("applicable")
    if item is None or not isinstance(item.value, tuple):
        return "période d'application non indiquée"
    start, end = item.value
    return f"du {start:%d/%m/%Y} au {end:%d/%m/%Y}" if end else f"à partir du {start:%d/%m/%Y}"


def _header(program: n.Program) -> str:
    header = program.header
    rows: list[tuple[str, str]] = []
    labels = {"collectivité": "Collectivité", "numéro": "Délibération n°", "adoptée": "Adoptée le",
              "fondement": "Fondement", "source": "Source", "note": "Note"}
    for item in header.items:
        if item.key == "applicable":
            rows.append(("Applicable", esc(validity_text(header))))
        elif isinstance(item.value, datetime.date):
            rows.append((labels.get(item.key, item.key), esc(f"{item.value:%d/%m/%Y}")))
        elif item.key == "source" and isinstance(item.value, str) and item.value.startswith("https://"):
            rows.append(("Source", f"<a href=\"{esc(item.value)}\">{esc(item.value)}</a>"))
        else:
            rows.append((labels.get(item.key, item.key), esc(item.value)))
    entries = "".join(f"<dt>{esc(label)}</dt><dd>{value}</dd>" for label, value in rows)
    return f"<h1>{esc(header.title)}</h1>\n<dl class=\"entete\">{entries}</dl>"


def _article_text(source_lines: list[str], article: n.Article) -> str:
    lines = source_lines[article.span.line - 1: max(article.span.end_line - 1, article.span.line)]
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith("#")):
        lines.pop()
    return "\n".join(lines)


def _grid_html(grid: GridTable) -> str:
    rows = []
    attributes = []
    for tranche in grid.tranches:
        rows.append([esc(tranche.written), esc(tranche.words), f"<span class=\"prix\">{esc(tranche.price)}</span>"])
        marks = [f"data-{key}=\"{value}\"" for key, value in (("de", tranche.first), ("a", tranche.last))
                 if value is not None]
        attributes.append(" ".join(marks) or "data-defaut=\"oui\"")
    caption = f"<h4>{esc(grid.name)} : grille selon {esc(grid.selector)}</h4>"
    return caption + table(["Tranche (texte voté)", "Soit", "Montant"], rows, css="grille",
                           row_attributes=attributes)


def _articles(sheet: Sheet) -> str:
    assert sheet.program is not None
    source_lines = sheet.source.split("\n")
    grids = grid_tables(sheet.ruleset) if sheet.ruleset else []
    parts = ["<section id=\"articles\"><h2>Articles</h2>"]
    for article in sheet.program.articles:
        title = f"Article {article.number}" + (f" — {article.title}" if article.title else "")
        parts.append(f"<article><h3>{esc(title)}</h3><pre>{esc(_article_text(source_lines, article))}</pre>")
        parts.extend(_grid_html(g) for g in grids if g.article is article)
        parts.append("</article>")
    parts.append("</section>")
    return "\n".join(parts)


def _charts(ruleset: RuleSet) -> str:
    found = curves(ruleset)
    if not found:
        return ""
    parts = ["<section id=\"graphiques\"><h2>Graphiques</h2>"]
    for curve in found:
        title = f"{curve.output} selon le {curve.axis.replace('_', ' ')}"
        parts.append(render_chart(curve, title=title))
    parts.append("</section>")
    return "\n".join(parts)


def _examples(ruleset: RuleSet) -> str:
    if not ruleset.program.examples:
        return ""
    rows = []
    for example in ruleset.program.examples:
        situation = example_situation(example)
        day = example_date(example, ruleset.valid_from)
        data = ", ".join(f"{k.replace('_', ' ')} = {_shown(ruleset, k, v)}" for k, v in situation.items()) \
            or "aucune donnée"
        try:
            evaluation = ruleset.evaluate(situation, date=day)
        except (TarifError, ArithmeticError):  # shown as a failed example; the checks say why
            evaluation = None
        for expectation in expectations(example):
            output = evaluation.outputs.get(expectation.name) if evaluation else None
            got = output.display() if output else "erreur"
            ok = output is not None and matches(expectation.value, output.status, output.value)
            verdict = "<span class=\"ok\">✓</span>" if ok else "<span class=\"echec\">✗ différent</span>"
            rows.append([esc(example.title), esc(data), esc(expectation.name),
                         esc(show_expected(expectation.value)), f"{esc(got)} {verdict}"])
    return ("<section id=\"exemples\"><h2>Exemples chiffrés</h2>"
            "<p class=\"note\">Chaque exemple écrit dans la délibération, recalculé par tarifrules.</p>"
            + table(["Exemple", "Données", "Résultat", "Attendu", "Calculé"], rows, css="exemples") + "</section>")


def _shown(ruleset: RuleSet, datum: str, value: object) -> str:
    if value is None:
        return "inconnu"
    declaration = ruleset.symbols.data.get(datum)
    money = declaration is not None and declaration.type.kind is n.Kind.MONTANT
    return spell(value, "€" if money else None, whole_euros=True)


def origin_text(entry: CatalogueEntry | None) -> str:
    """« CAF/MSA via API Particulier », « déclaré par la famille », « source inconnue du catalogue »."""
    if entry is None:
        return "source non reconnue par le catalogue"
    if entry.source == "famille":
        return "déclaré par la famille"
    api = "API Particulier" if entry.source == "api_particulier" else "API Impôt particulier"
    return f"{entry.provider} via {api}"


def _data(ruleset: RuleSet) -> str:
    report = analyse([ruleset])
    used = {u.datum: u for u in report.uses}
    rows = []
    for declaration in ruleset.program.data:
        use = used.get(declaration.name)
        entry = use.entry if use else None
        scope = "—"
        if entry is not None and entry.scope:
            scope = " + ".join(f"<code>{esc(s)}</code>" for s in entry.required_scopes)
            if entry.scope_label:
                scope += f" ({esc(entry.scope_label)})"
        articles = ", ".join(use.articles) if use else "jamais lue : ne pas la demander"
        rows.append([f"<code>{esc(declaration.name)}</code>", esc(declaration.description or ""),
                     esc(origin_text(entry)), scope, esc(articles)])
    return ("<section id=\"donnees\"><h2>Données utilisées</h2>"
            + table(["Donnée", "Description", "Source", "Scope API Particulier", "Articles"], rows, css="donnees")
            + "</section>")


def _diagnostics(sheet: Sheet) -> str:
    if not sheet.diagnostics:
        return ("<section id=\"diagnostics\"><h2>Vérifications</h2>"
                "<p>Aucune erreur ni aucun avertissement.</p></section>")
    text = render_diagnostics(sheet.diagnostics, {sheet.file: sheet.source})
    errors = sum(d.is_error for d in sheet.diagnostics)
    summary = f"{errors} erreur(s), {len(sheet.diagnostics) - errors} avertissement(s)."
    return f"<section id=\"diagnostics\"><h2>Vérifications</h2><p>{esc(summary)}</p><pre>{esc(text)}</pre></section>"


def render_sheet(sheet: Sheet, *, links: Sequence[tuple[str, str]] = (), index: bool = True) -> str:
    """The page; `links` are (href, text) pairs shown above it (comparisons), after the index's."""
    everything = [("index.html", "Toutes les délibérations")] if index else []
    navigation = " · ".join(f"<a href=\"{esc(href)}\">{esc(text)}</a>" for href, text in [*everything, *links])
    parts = [f"<p class=\"note\">Fichier : <code>{esc(sheet.file)}</code></p>"]
    if sheet.program is not None:
        parts.insert(0, _header(sheet.program))
        parts.append(_articles(sheet))
    else:
        parts.insert(0, f"<h1>{esc(sheet.file)}</h1>")
    if sheet.ruleset is not None:
        parts += [_charts(sheet.ruleset), _examples(sheet.ruleset), _data(sheet.ruleset)]
    else:
        parts.append("<p class=\"echec\">Le fichier contient des erreurs : ni tableau calculé ni graphique "
                     "tant qu'elles ne sont pas corrigées.</p>")
    parts.append(_diagnostics(sheet))
    return page(sheet.title, "\n".join(p for p in parts if p), navigation=navigation)
