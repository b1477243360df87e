"""Small HTML building blocks shared by every page: escaping, tables, the page shell.

Every piece of text that reaches a page goes through `esc` (html.escape): rule files,
titles and diagnostics are data, never markup. The stylesheet is inline and has a print
section (A4), so a page works opened from disk, with no network and no script.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

__all__ = ["esc", "page", "table"]


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, css: str = "",
          row_attributes: Sequence[str] | None = None) -> str:
    """A table whose cells are already-escaped HTML fragments (headers are plain text)."""
    head = "".join(f"<th scope=\"col\">{esc(h)}</th>" for h in headers)
    body = []
    for index, row in enumerate(rows):
        extra = f" {row_attributes[index]}" if row_attributes and row_attributes[index] else ""
        body.append(f"<tr{extra}>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>")
    css_attr = f" class=\"{esc(css)}\"" if css else ""
    return f"<table{css_attr}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


STYLE = """
:root { --encre: #1b1b1b; --trait: #c8c8c8; --fond-titre: #f2f2f2; --accent: #000091; }
* { box-sizing: border-box; }
body { font-family: "Marianne", "Helvetica Neue", Arial, sans-serif; color: var(--encre);
  max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; line-height: 1.4; font-size: 15px; }
h1 { font-size: 1.5rem; margin: .5rem 0; color: var(--accent); }
h2 { font-size: 1.2rem; margin: 1.6rem 0 .5rem; border-bottom: 2px solid var(--accent); }
h3 { font-size: 1rem; margin: 1rem 0 .3rem; }
nav { font-size: .9rem; margin-bottom: .5rem; }
a { color: var(--accent); }
table { border-collapse: collapse; margin: .4rem 0 .8rem; font-size: .9rem; }
th, td { border: 1px solid var(--trait); padding: .2rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--fond-titre); }
td.nombre, th.nombre { text-align: right; white-space: nowrap; }
dl.entete { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .5rem 0; }
dl.entete dt { font-weight: bold; }
dl.entete dd { margin: 0; }
pre { background: #f7f7f7; border: 1px solid var(--trait); padding: .5rem; overflow-x: auto;
  font-size: .8rem; white-space: pre-wrap; }
figure { margin: .5rem 0 1rem; break-inside: avoid; }
figcaption { font-size: .85rem; }
svg.graphique { width: 100%; max-width: 44rem; height: auto; display: block; }
ul.legende { list-style: none; padding: 0; margin: .2rem 0; display: flex; flex-wrap: wrap; gap: .3rem 1.2rem;
  font-size: .85rem; }
ul.legende svg { vertical-align: middle; margin-right: .3rem; }
.ok { color: #18753c; } .echec { color: #ce0500; font-weight: bold; }
.note { font-size: .85rem; color: #555; }
section { break-inside: auto; }
@media print {
  @page { size: A4; margin: 12mm 12mm 14mm; }
  body { max-width: none; padding: 0; font-size: 9pt; line-height: 1.25; }
  nav, .ecran { display: none; }
  h1 { font-size: 14pt; } h2 { font-size: 11pt; margin: .7rem 0 .3rem; } h3 { font-size: 9.5pt; margin: .4rem 0 .2rem; }
  table { font-size: 8pt; margin: .2rem 0 .4rem; } th, td { padding: .05rem .3rem; }
  pre { font-size: 7.5pt; padding: .2rem .4rem; }
  svg.graphique { max-width: 15cm; max-height: 7cm; }
  table, figure, pre { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def page(title: str, body: str, *, navigation: str = "") -> str:
    """A whole HTML document: French, UTF-8, inline style, no script, no external resource."""
    nav = f"<nav>{navigation}</nav>\n" if navigation else ""
    return (
        "<!DOCTYPE html>\n"
        "<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"generator\" content=\"tarifrules\">\n"
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"{nav}<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
