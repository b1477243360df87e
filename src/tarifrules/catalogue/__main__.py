"""`python -m tarifrules.catalogue`: validate `catalogue.yaml`, rewrite its JSON snapshot and,
from a checkout, `docs/catalogue.md`. Run it after editing the YAML."""

from __future__ import annotations

import sys
from pathlib import Path

from .entries import CatalogueError
from .loading import SNAPSHOT, load_catalogue_file, snapshot
from .markdown import catalogue_markdown

HERE = Path(__file__).resolve().parent


def main() -> int:
    try:
        catalogue = load_catalogue_file(HERE / "catalogue.yaml")
    except CatalogueError as exc:
        print(exc, file=sys.stderr)
        return 1
    (HERE / SNAPSHOT).write_text(snapshot(catalogue), encoding="utf-8")
    print(f"écrit : {HERE / SNAPSHOT}")
    docs = HERE.parents[2] / "docs" / "catalogue.md"
    if docs.parent.is_dir():
        docs.write_text(catalogue_markdown(catalogue), encoding="utf-8")
        print(f"écrit : {docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
