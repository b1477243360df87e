"""The data catalogue: every datum a rule may read, where it comes from and what opens it.

The facts live in `catalogue.yaml` (shipped in the package; `catalogue.json` is its
snapshot, read at run time). Public functions:

* `load_catalogue() -> Catalogue` — the shipped catalogue (read once, cached);
* `parse_catalogue(text, origin=...) -> Catalogue` / `load_catalogue_file(path)` — any YAML
  text or file, validated (raises `CatalogueError` with a French message naming the entry
  and the field);
* `Catalogue.lookup(text)` — the entry named by the source text of a `données` line
  (case and spacing folded, accents kept, aliases accepted; `…, déclaré par la famille`
  finds its last comma-separated part); `Catalogue.suggest(text)` — a did-you-mean;
* `catalogue_markdown()` — the French page `docs/catalogue.md`.

`python -m tarifrules.catalogue` validates `catalogue.yaml` and rewrites `catalogue.json`
and `docs/catalogue.md` (when run from a checkout).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .entries import (
    API_SOURCES,
    HABILITATION_OF,
    MODE_LABELS,
    Catalogue,
    CatalogueEntry,
    CatalogueError,
    Endpoint,
    normalize,
)
from .loading import load_catalogue, load_catalogue_file, parse_catalogue

if TYPE_CHECKING:
    from .markdown import catalogue_markdown

__all__ = [
    "API_SOURCES",
    "HABILITATION_OF",
    "MODE_LABELS",
    "Catalogue",
    "CatalogueEntry",
    "CatalogueError",
    "Endpoint",
    "catalogue_markdown",
    "load_catalogue",
    "load_catalogue_file",
    "normalize",
    "parse_catalogue",
]


def __getattr__(name: str) -> object:  # the documentation page's generator, loaded when asked for
    if name == "catalogue_markdown":
        from .markdown import catalogue_markdown

        return catalogue_markdown
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
