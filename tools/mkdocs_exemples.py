"""MkDocs hooks for the documentation site (mkdocs.yml).

* Headings get GitHub's anchors (lower case, punctuation dropped, each space a hyphen,
  accents kept), the ones docs/ links use and tests/test_docs.py checks, so the same
  links work on GitHub and on the site.
* The site has no README: a link to `../README.md` points to the installation section
  of the home page instead.
* The tariff sheets of every rule file of examples/ (`tarifrules doc`), with their
  index and version comparisons, are added to the site under `exemples/` (as files
  MkDocs knows, so links to them are checked like any other).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tarifrules.pages import build_site

ROOT = Path(__file__).resolve().parents[1]
_BUILT: list[Path] = []  # temporary folders of generated sheets, removed after the build


def github_slug(value: str, separator: str = "-") -> str:
    text = re.sub(r"[^\w\- ]", "", value.strip().lower().replace("`", ""))
    return text.replace(" ", separator)


def on_config(config: Any, **_: Any) -> Any:
    config["mdx_configs"].setdefault("toc", {})["slugify"] = github_slug
    if "toc" not in config["markdown_extensions"]:
        config["markdown_extensions"].append("toc")
    return config


def on_page_markdown(markdown: str, **_: Any) -> str:
    return markdown.replace("](../README.md)", "](index.md#installer-et-essayer)")


def on_files(files: Any, config: Any, **_: Any) -> Any:
    from mkdocs.structure.files import File

    out = Path(tempfile.mkdtemp(prefix="tarifrules-exemples-"))
    _BUILT.append(out)
    inside = Path.cwd().resolve() == ROOT  # relative paths read better in the pages
    sources = sorted((ROOT / "examples").rglob("*.tarif"))
    site = build_site([f.relative_to(ROOT) if inside else f for f in sources], out)
    for path in (*([site.index] if site.index else []), *site.pages, *site.comparisons):
        files.append(File.generated(config, f"exemples/{path.name}", abs_src_path=str(path)))
    return files


def on_post_build(**_: Any) -> None:
    while _BUILT:
        shutil.rmtree(_BUILT.pop(), ignore_errors=True)
