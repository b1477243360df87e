"""Reading a catalogue: any YAML file, validated; the shipped one, fast.

`parse_catalogue` / `load_catalogue_file` validate a YAML text with pydantic (field types,
literals, unknown fields) then with `Catalogue.problems()`, and raise `CatalogueError`
with a French message naming the entry and the field.

`load_catalogue()` reads the catalogue shipped with tarifrules from `catalogue.json`, a
snapshot of `catalogue.yaml` written by `python -m tarifrules.catalogue` (the YAML is the
file people edit). Parsing YAML and importing pydantic cost ~70 ms, more than checking a
rule file; the JSON snapshot loads in under 2 ms. The test suite validates the YAML and
checks that the snapshot is its exact image (tests/test_catalogue.py).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..nodes import Granularity, Kind
from .entries import Catalogue, CatalogueEntry, CatalogueError, Endpoint

if TYPE_CHECKING:
    from pydantic import ValidationError

SNAPSHOT = "catalogue.json"


def parse_catalogue(text: str, origin: str = "catalogue.yaml") -> Catalogue:
    """Validate a catalogue written in YAML; `CatalogueError` names the entry and the field."""
    import yaml
    from pydantic import TypeAdapter, ValidationError

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it: 10× faster
    try:
        raw = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (ligne {mark.line + 1}, colonne {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogueError(f"{origin} : YAML illisible{where} : {problem}") from exc
    if not isinstance(raw, dict):
        raise CatalogueError(f"{origin} : le catalogue doit être un dictionnaire avec « version » et « entries »")
    try:
        catalogue = TypeAdapter(Catalogue).validate_python(raw)
    except ValidationError as exc:
        raise CatalogueError(_explain(origin, exc)) from exc
    problems = list(catalogue.problems())
    if problems:
        lines = [f"{origin} : catalogue invalide ({_count(len(problems))})"]
        lines += [f"  - {f'entrée « {key} »' if key else 'catalogue'} : {message}" for key, message in problems]
        raise CatalogueError("\n".join(lines))
    return catalogue


def load_catalogue_file(path: str | Path) -> Catalogue:
    path = Path(path)
    return parse_catalogue(path.read_text(encoding="utf-8"), origin=str(path))


@functools.cache
def load_catalogue() -> Catalogue:
    """The catalogue shipped with tarifrules (read once from its snapshot, then cached)."""
    raw = json.loads((Path(__file__).parent / SNAPSHOT).read_text(encoding="utf-8"))
    return from_snapshot(raw)


def snapshot(catalogue: Catalogue) -> str:
    """The JSON image of a validated catalogue (every field written, in catalogue order)."""
    entries = {key: _plain(entry) for key, entry in catalogue.entries.items()}
    return json.dumps({"version": catalogue.version, "entries": entries}, ensure_ascii=False, indent=1) + "\n"


def from_snapshot(raw: dict[str, Any]) -> Catalogue:
    """The catalogue a snapshot describes, built without validation (the snapshot is trusted:
    it is written from a validated catalogue and checked by the test suite)."""
    return Catalogue(version=raw["version"], entries={key: _entry(value) for key, value in raw["entries"].items()})


def _plain(entry: CatalogueEntry) -> dict[str, Any]:
    import dataclasses

    return {
        name.name: ([dataclasses.asdict(e) for e in value] if name.name == "endpoints"
                    else list(value) if isinstance(value, tuple) else value)
        for name in dataclasses.fields(entry)
        for value in [getattr(entry, name.name)]
    }


def _entry(raw: dict[str, Any]) -> CatalogueEntry:
    values: dict[str, Any] = {name: tuple(value) if isinstance(value, list) else value for name, value in raw.items()}
    values["endpoints"] = tuple(Endpoint(**endpoint) for endpoint in raw["endpoints"])
    values["kind"] = Kind(raw["kind"]) if raw["kind"] is not None else None
    values["granularity"] = Granularity(raw["granularity"]) if raw["granularity"] is not None else None
    return CatalogueEntry(**values)


def _count(number: int) -> str:
    return f"{number} problème{'s' if number > 1 else ''}"


def _explain(origin: str, exc: ValidationError) -> str:
    lines = [f"{origin} : catalogue invalide ({_count(exc.error_count())})"]
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        if len(loc) >= 2 and loc[0] == "entries":
            where = f"entrée « {loc[1]} »" + (f", champ {'.'.join(loc[2:])}" if loc[2:] else "")
        else:
            where = "champ " + ".".join(loc) if loc else "catalogue"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            message = "champ inconnu"
        elif error["type"] == "missing":
            message = "champ obligatoire absent"
        lines.append(f"  - {where} : {message}")
    return "\n".join(lines)
