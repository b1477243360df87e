"""`tarifrules doc`: one page per rule file, the index, and comparison pages.

Reads each file once (parse, check), writes `<name>.html` pages, `index.html` listing
them with their validity (when there is more than one page: a single sheet is its own
entry point), and a comparison page per pair of successive versions (found
by `versions.find_versions`, or named with `--comparer A B`). Returns what it wrote so
the CLI can say it, and whether a file had errors (exit code 1).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..checks import check_program
from ..diagnostics import TarifError
from ..files import write_atomically
from ..parser import parse
from ..ruleset import RuleSet
from ..source import read_source
from .html import esc, page, table
from .sheet import Sheet, render_sheet, validity_text
from .versions import comparison_name, find_versions, render_comparison

__all__ = ["Site", "build_site", "read_sheet"]


@dataclass(frozen=True)
class Site:
    pages: tuple[Path, ...]
    index: Path | None  # None for a single page
    comparisons: tuple[Path, ...]
    errors: tuple[str, ...]  # files with errors (their page shows the diagnostics)


def _page_name(file: str, taken: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(file).stem).strip("-") or "deliberation"
    name, number = f"{stem}.html", 2
    while name in taken or name == "index.html":
        name, number = f"{stem}-{number}.html", number + 1
    taken.add(name)
    return name


def read_sheet(file: str | Path, page_name: str = "page.html") -> Sheet:
    """Parse and check one file; never raises for a bad file (its diagnostics are on the sheet)."""
    try:
        text, name = read_source(Path(file))
    except TarifError as exc:
        return Sheet(str(file), "", None, None, tuple(exc.diagnostics), page_name)
    try:
        program = parse(text, name)
    except TarifError as exc:
        return Sheet(name, text, None, None, tuple(exc.diagnostics), page_name)
    diagnostics = tuple(check_program(program))
    ruleset = None if any(d.is_error for d in diagnostics) else RuleSet(program, diagnostics, text)
    return Sheet(name, text, program, ruleset, diagnostics, page_name)


def _index(sheets: Sequence[Sheet], pairs: Sequence[tuple[Sheet, Sheet]]) -> str:
    rows = []
    for sheet in sheets:
        program = sheet.program
        collectivity = program.header.get("collectivité") if program else None
        state = "erreurs" if sheet.ruleset is None else (
            "avertissements" if sheet.diagnostics else "vérifié")
        rows.append([f"<a href=\"{esc(sheet.page_name)}\">{esc(sheet.title)}</a>",
                     esc(collectivity.value if collectivity else "—"),
                     esc(validity_text(program.header) if program else "—"), esc(state)])
    body = ["<h1>Délibérations tarifaires</h1>",
            table(["Délibération", "Collectivité", "Validité", "Vérification"], rows, css="index")]
    if pairs:
        items = "".join(f"<li><a href=\"{esc(comparison_name(a, b))}\">{esc(b.title)} : comparaison avec "
                        f"{esc(validity_text(a.program.header) if a.program else a.title)}</a></li>"
                        for a, b in pairs)
        body.append(f"<h2>Comparaisons de versions</h2><ul>{items}</ul>")
    return page("Délibérations tarifaires", "\n".join(body))


def build_site(files: Sequence[str | Path], out: str | Path,
               compare: Sequence[tuple[str, str]] = ()) -> Site:
    """Write the pages into `out` (created if needed)."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    sheets = [read_sheet(file, _page_name(str(file), taken)) for file in files]
    by_path = {str(Path(str(f))): s for f, s in zip(files, sheets, strict=True)}
    pairs = find_versions(sheets)
    for old, new in compare:
        older = by_path.get(str(Path(old))) or read_sheet(old, _page_name(old, taken))
        newer = by_path.get(str(Path(new))) or read_sheet(new, _page_name(new, taken))
        for sheet in (older, newer):
            if sheet not in sheets:
                sheets.append(sheet)
        if (older, newer) not in pairs:
            pairs.append((older, newer))
    comparisons = []
    for older, newer in pairs:
        if older.ruleset is None or newer.ruleset is None:
            continue
        path = folder / comparison_name(older, newer)
        write_atomically(path, render_comparison(older, newer))
        comparisons.append(path)
    with_index = len(sheets) + len(comparisons) > 1
    written = []
    for sheet in sheets:
        links = [(comparison_name(a, b), "comparaison avec l'autre version") for a, b in pairs
                 if sheet in (a, b) and a.ruleset is not None and b.ruleset is not None]
        path = folder / sheet.page_name
        write_atomically(path, render_sheet(sheet, links=links, index=with_index))
        written.append(path)
    index = folder / "index.html" if with_index else None
    if index is not None:
        write_atomically(index, _index(sheets, pairs))
    return Site(tuple(written), index, tuple(comparisons), tuple(s.file for s in sheets if s.ruleset is None))
