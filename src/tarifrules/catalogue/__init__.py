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

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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

# Each name loads its module on first use (PEP 562): evaluating a rule set read back from the
# command line's cache needs `negatives.py` only, never the catalogue itself.
_MODULE_OF = {"catalogue_markdown": "markdown", "load_catalogue": "loading", "load_catalogue_file": "loading",
              "parse_catalogue": "loading"}


def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_MODULE_OF.get(name, 'entries')}", __name__), name)
    globals()[name] = value
    return value
