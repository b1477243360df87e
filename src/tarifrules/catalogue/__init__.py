"""The data catalogue: every datum a rule may read, where it comes from and what opens it.

The facts live in `catalogue.yaml` (shipped in the package) and are validated at load by
the pydantic models below, so a wrong entry fails loudly instead of producing a wrong
DataPass request. Public functions:

* `load_catalogue() -> Catalogue` — the shipped catalogue (read once, cached);
* `parse_catalogue(text, origin=...) -> Catalogue` / `load_catalogue_file(path)` — the same
  validation for any YAML text or file (raises `CatalogueError` with a French message
  naming the entry and the field);
* `Catalogue.lookup(text)` — the entry named by the source text of a `données` line
  (case and spacing folded, accents kept, aliases accepted; `…, déclaré par la famille`
  finds its last comma-separated part); `Catalogue.suggest(text)` — a did-you-mean;
* `catalogue_markdown()` — the French page `docs/catalogue.md`.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError, field_validator, model_validator

from ..nodes import Granularity, Kind

__all__ = [
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

Source = Literal["api_particulier", "dgfip", "famille"]
Provider = Literal["CNAF/MSA", "MEN", "CNOUS", "MESRI", "France Travail", "DGFiP"]
Habilitation = Literal["api_particulier", "api_impot_particulier"]
Mode = Literal["identite_pivot", "france_connect", "identifiant", "ine"]
Use = Literal["eaje"]

API_SOURCES: frozenset[str] = frozenset({"api_particulier", "dgfip"})
HABILITATION_OF: dict[str, str] = {"api_particulier": "api_particulier", "dgfip": "api_impot_particulier"}

MODE_LABELS: dict[str, str] = {
    "identite_pivot": "identité pivot",
    "france_connect": "FranceConnect",
    "identifiant": "identifiant",
    "ine": "INE",
}

_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'", "`": "'"})
_QUOTES = "«»\"“”"
_SCOPE = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
_DAY_MONTH = re.compile(r"^(0[1-9]|[12]\d|3[01])/(0[1-9]|1[0-2])$")


class CatalogueError(ValueError):
    """The catalogue YAML is malformed or breaks a rule of the models (French message)."""


def normalize(text: str) -> str:
    """The lookup form of a name: NFC, case folded, spaces collapsed, typographic
    apostrophes made straight, surrounding quotes and a final period dropped. Accents are kept."""
    folded = unicodedata.normalize("NFC", text).translate(_APOSTROPHES).casefold()
    folded = " ".join(folded.split())
    return folded.strip(_QUOTES + " ").rstrip(".").strip()


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Endpoint(_Model):
    """One route of an API that returns the datum, and how it identifies the person."""

    path: str
    mode: Mode

    @property
    def mode_label(self) -> str:
        return MODE_LABELS[self.mode]


class CatalogueEntry(_Model):
    """One datum a rule may read.

    `scope` is the single least intrusive scope that opens `field`; `requires_also` lists
    scopes that must be held with it for the field to be returned at all (a key nested in
    a list that has its own scope), `requires_one_of` a group of which one must be held
    (the DGFiP year scopes). `negative_unreliable_before` (JJ/MM, in the school year) is
    the day before which a negative answer (`non`, no échelon) may only mean "not known
    yet". `reference` cites the section of the reference notes the facts come from.
    """

    name: str
    aliases: tuple[str, ...] = ()
    kind: Kind | None = None
    granularity: Granularity | None = None
    choices: tuple[str, ...] = ()
    null_means: str | None = None
    source: Source
    provider: Provider | None = None
    habilitation: Habilitation | None = None
    endpoints: tuple[Endpoint, ...] = ()
    field: str | None = None
    derivation: str | None = None
    scope: str | None = None
    requires_also: tuple[str, ...] = ()
    requires_one_of: tuple[str, ...] = ()
    scope_label: str | None = None
    forbidden_uses: tuple[Use, ...] = ()
    cache: str | None = None
    freshness: str | None = None
    negative_unreliable_before: str | None = None
    caveats: tuple[str, ...] = ()
    reference: str

    @field_validator("name", "reference")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("ne doit pas être vide")
        return value

    @field_validator("negative_unreliable_before")
    @classmethod
    def _day_month(cls, value: str | None) -> str | None:
        if value is not None and not _DAY_MONTH.match(value):
            raise ValueError(f"« {value} » n'est pas un jour au format JJ/MM")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> CatalogueEntry:
        problems = list(self._problems())
        if problems:
            raise ValueError(" ; ".join(problems))
        return self

    def _problems(self) -> Iterator[str]:
        api = self.source in API_SOURCES
        # type
        if self.kind is None and self.source != "famille":
            yield "kind est obligatoire (seule la source « famille » convient à tout type)"
        if self.source == "famille" and self.kind is not None:
            yield "une donnée déclarée par la famille n'a pas de kind : elle prend le type déclaré"
        if self.kind is Kind.MONTANT and self.granularity not in (Granularity.ENTIER, Granularity.CENTIME):
            yield "un montant doit dire sa granularité : « entier » ou « au centime »"
        if self.kind is not Kind.MONTANT and self.granularity is not None:
            yield "granularity ne s'applique qu'à un montant"
        if (self.kind is Kind.ENUM) != bool(self.choices):
            yield ("choices est obligatoire pour une énumération" if self.kind is Kind.ENUM
                   else "choices ne s'applique qu'à une énumération")
        if len(set(self.choices)) != len(self.choices):
            yield "choices contient deux fois la même valeur"
        if any(not choice.strip() for choice in self.choices):
            yield "choices contient une valeur vide"
        if self.null_means is not None and self.kind is not Kind.ENUM:
            yield "null_means ne s'applique qu'à une énumération"
        # origin
        if api != (self.scope is not None):
            yield (f"scope est obligatoire pour la source {self.source}" if api
                   else "une donnée déclarée par la famille n'a pas de scope")
        if api:
            for name in ("provider", "habilitation", "field"):
                if getattr(self, name) is None:
                    yield f"{name} est obligatoire pour la source {self.source}"
            if not self.endpoints:
                yield f"endpoints est obligatoire pour la source {self.source}"
            if self.habilitation is not None and self.habilitation != HABILITATION_OF[self.source]:
                yield (f"la source {self.source} relève de l'habilitation {HABILITATION_OF[self.source]},"
                       f" pas {self.habilitation}")
        else:
            for name in ("provider", "habilitation", "field", "derivation", "scope_label", "cache", "freshness"):
                if getattr(self, name) is not None:
                    yield f"{name} ne s'applique pas à une donnée déclarée par la famille"
            if self.endpoints or self.requires_also or self.requires_one_of:
                yield "une donnée déclarée par la famille n'a ni endpoint ni scope"
        # scopes: DGFiP and API Particulier never mix
        for scope in self.all_scopes:
            if not _SCOPE.match(scope):
                yield f"« {scope} » n'est pas un nom de scope"
            elif self.source == "dgfip" and not scope.startswith("dgfip_"):
                yield f"le scope {scope} n'est pas un scope de l'API Impôt particulier (dgfip_…)"
            elif self.source == "api_particulier" and scope.startswith("dgfip_"):
                yield f"le scope {scope} relève de l'API Impôt particulier, pas d'API Particulier"
        if self.source == "dgfip" and self.provider not in (None, "DGFiP"):
            yield "une donnée DGFiP a pour fournisseur DGFiP"
        if self.source == "api_particulier" and self.provider == "DGFiP":
            yield "API Particulier ne transmet plus de données fiscales (DGFiP)"
        # endpoints
        for endpoint in self.endpoints:
            if self.source == "api_particulier":
                if not re.match(r"^/v([3-9]|\d{2,})/", endpoint.path):
                    yield f"{endpoint.path} : seules les routes v3 et suivantes sont cataloguées"
                elif not endpoint.path.endswith("/" + (suffix := _ROUTE_SUFFIX[endpoint.mode])):
                    yield f"{endpoint.path} : une route en mode {endpoint.mode} finit par /{suffix}"
            if self.source == "dgfip" and not endpoint.path.startswith("/impotparticulier/"):
                yield f"{endpoint.path} : une route DGFiP commence par /impotparticulier/"
        if len({(e.path, e.mode) for e in self.endpoints}) != len(self.endpoints):
            yield "endpoints contient deux fois la même route"

    # ---------------------------------------------------------------- derived facts

    @property
    def key(self) -> str:
        """The catalogue key: the normalised name."""
        return normalize(self.name)

    @property
    def all_scopes(self) -> tuple[str, ...]:
        """Every scope the entry names (its own, those required with it, the alternatives)."""
        own = (self.scope,) if self.scope else ()
        return own + self.requires_also + self.requires_one_of

    @property
    def required_scopes(self) -> tuple[str, ...]:
        """The scopes that must all be held to read the datum (`requires_one_of` aside)."""
        return ((self.scope,) if self.scope else ()) + self.requires_also

    @property
    def modes(self) -> tuple[str, ...]:
        """Call modes, in catalogue order, without repeats."""
        return tuple(dict.fromkeys(endpoint.mode for endpoint in self.endpoints))

    @property
    def france_connect(self) -> bool:
        """True when some route of the datum accepts a FranceConnect token."""
        return "france_connect" in self.modes

    @property
    def is_api(self) -> bool:
        return self.source in API_SOURCES

    def type_text(self) -> str:
        """The type as written in a `données` line (`montant entier`, `parmi (1, 2, 3)`)."""
        if self.kind is None:
            return "tout type"
        if self.kind is Kind.MONTANT:
            return "montant entier" if self.granularity is Granularity.ENTIER else "montant au centime"
        if self.kind is Kind.ENUM:
            return f"parmi ({', '.join(self.choices)})"
        return self.kind.value


_ROUTE_SUFFIX: dict[str, str] = {
    "identite_pivot": "identite",
    "france_connect": "france_connect",
    "identifiant": "identifiant",
    "ine": "ine",
}


class Catalogue(_Model):
    """The whole catalogue: `entries` maps each key (the normalised name) to its entry."""

    version: Literal[1]
    entries: dict[str, CatalogueEntry]
    _index: dict[str, str] = PrivateAttr(default_factory=dict)
    _written: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _keys_and_aliases(self) -> Catalogue:
        if not self.entries:
            raise ValueError("le catalogue n'a aucune entrée")
        index: dict[str, str] = {}
        problems: list[str] = []
        for key, entry in self.entries.items():
            if key != entry.key:
                problems.append(f"entrée « {key} » : la clé doit être le nom en minuscules, « {entry.key} »")
            for written in (entry.name, *entry.aliases):
                folded = normalize(written)
                other = index.get(folded)
                if other == key:
                    problems.append(f"entrée « {key} » : « {written} » y figure deux fois")
                elif other is not None:
                    problems.append(f"« {written} » désigne deux entrées : « {other} » et « {key} »")
                index[folded] = key
        if problems:
            raise ValueError(" ; ".join(problems))
        return self

    def model_post_init(self, context: Any, /) -> None:
        for key, entry in self.entries.items():
            for written in (*entry.aliases, entry.name):
                self._index[normalize(written)] = key
                self._written[normalize(written)] = written

    def __iter__(self) -> Iterator[CatalogueEntry]:  # type: ignore[override]
        return iter(self.entries.values())

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, key: str) -> CatalogueEntry:
        entry = self.lookup(key)
        if entry is None:
            raise KeyError(key)
        return entry

    def lookup(self, text: str) -> CatalogueEntry | None:
        """The entry a source text names: its name or one of its aliases, case and spaces
        folded (accents kept). When the whole text is not a name, each comma-separated part
        is tried from the last (`élève interne, déclaré par la famille`)."""
        for candidate in _candidates(text):
            key = self._index.get(candidate)
            if key is not None:
                return self.entries[key]
        return None

    def suggest(self, text: str) -> str | None:
        """The closest name or alias (as written in the catalogue), for a did-you-mean."""
        known = list(self._index)
        best: tuple[float, str] | None = None
        for candidate in _candidates(text):
            for match in difflib.get_close_matches(candidate, known, n=1, cutoff=0.75):
                ratio = difflib.SequenceMatcher(None, candidate, match).ratio()
                if best is None or ratio > best[0]:
                    best = (ratio, match)
        return self._written[best[1]] if best else None

    def scopes(self, habilitation: str = "api_particulier") -> set[str]:
        """Every scope the catalogue names for one habilitation."""
        return {scope for entry in self if entry.habilitation == habilitation for scope in entry.all_scopes}


def _candidates(text: str) -> Iterator[str]:
    whole = normalize(text)
    if whole:
        yield whole
    parts = [normalize(part) for part in text.split(",")]
    if len(parts) > 1:
        for part in reversed(parts):
            if part:
                yield part


# ------------------------------------------------------------------ loading


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_catalogue(text: str, origin: str = "catalogue.yaml") -> Catalogue:
    """Validate a catalogue written in YAML; `CatalogueError` names the entry and the field."""
    try:
        raw = yaml.load(text, Loader=_SAFE_LOADER)  # the libyaml safe loader when built with it: 10× faster
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (ligne {mark.line + 1}, colonne {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogueError(f"{origin} : YAML illisible{where} : {problem}") from exc
    if not isinstance(raw, dict):
        raise CatalogueError(f"{origin} : le catalogue doit être un dictionnaire avec « version » et « entries »")
    try:
        return Catalogue.model_validate(raw)
    except ValidationError as exc:
        raise CatalogueError(_explain(origin, exc)) from exc


def load_catalogue_file(path: str | Path) -> Catalogue:
    path = Path(path)
    return parse_catalogue(path.read_text(encoding="utf-8"), origin=str(path))


@functools.cache
def load_catalogue() -> Catalogue:
    """The catalogue shipped with tarifrules (validated once, then cached)."""
    text = resources.files(__name__).joinpath("catalogue.yaml").read_text(encoding="utf-8")
    return parse_catalogue(text, origin="tarifrules/catalogue/catalogue.yaml")


def _explain(origin: str, exc: ValidationError) -> str:
    lines = [f"{origin} : catalogue invalide ({exc.error_count()} problème{'s' if exc.error_count() > 1 else ''})"]
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        if len(loc) >= 2 and loc[0] == "entries":
            where = f"entrée « {loc[1]} »" + (f", champ {'.'.join(loc[2:])}" if loc[2:] else "")
        else:
            where = "champ " + ".".join(loc) if loc else "catalogue"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "champ inconnu"
        elif error["type"] == "missing":
            message = "champ obligatoire absent"
        lines.append(f"  - {where} : {message}")
    return "\n".join(lines)


# ------------------------------------------------------------------ documentation


def catalogue_markdown(catalogue: Catalogue | None = None) -> str:
    """The French page `docs/catalogue.md`, generated from the catalogue."""
    catalogue = catalogue or load_catalogue()
    out: list[str] = [
        "# Le catalogue des données",
        "",
        "<!-- Page produite par tarifrules.catalogue.catalogue_markdown() à partir de",
        "     src/tarifrules/catalogue/catalogue.yaml : ne pas la modifier à la main. -->",
        "",
        "Chaque donnée qu'une règle peut lire a une entrée dans le catalogue. On la désigne",
        "après la virgule d'une ligne de `données`, par son nom ou l'un de ses autres noms",
        "(majuscules et espaces indifférents, accents comptés) :",
        "",
        "```text",
        "  quotient_familial : montant entier, quotient familial CAF",
        "  interne : booléen, élève interne du collège, déclaré par la famille",
        "```",
        "",
        "Le catalogue dit pour chaque donnée son type (tel qu'on l'écrit dans `données`), d'où",
        "elle vient, le **scope** — la case à cocher dans la demande DataPass — qui l'ouvre, le",
        "moins intrusif possible, les modes d'appel de l'API et les précautions de lecture.",
        "Les données fiscales (DGFiP) relèvent d'une **habilitation distincte**, l'API Impôt",
        "particulier : elles ne sont jamais mêlées aux scopes d'API Particulier.",
        "",
        "Modes d'appel : *identité pivot* (nom, prénoms, date et lieu de naissance),",
        "*FranceConnect* (jeton de la personne connectée), *identifiant* (identifiant propre",
        "au fournisseur : identifiant France Travail, numéro fiscal), *INE* (identifiant",
        "national étudiant).",
        "",
        "## Tableau des données",
        "",
        "| donnée | type | source / fournisseur | scope | modes d'appel | précautions |",
        "|---|---|---|---|---|---|",
    ]
    for entry in catalogue:
        out.append("| " + " | ".join(_cell(text) for text in (
            f"[{entry.name}](#{_slug(entry.name)})",
            f"`{entry.type_text()}`",
            _origin(entry),
            _scope_text(entry),
            _modes_text(entry),
            "<br>".join(entry.caveats),
        )) + " |")
    out += ["", "## Détail des entrées", ""]
    for entry in catalogue:
        out += [f"### {entry.name}", ""]
        details = [("nom dans `données`", f"« {entry.key} »")]
        if entry.aliases:
            details.append(("autres noms", ", ".join(f"« {alias} »" for alias in entry.aliases)))
        details.append(("type", f"`{entry.type_text()}`"))
        if entry.null_means:
            details.append(("valeur absente", entry.null_means))
        details.append(("source", _origin(entry)))
        if entry.habilitation:
            details.append(("habilitation", f"`{entry.habilitation}`"))
        if entry.scope:
            label = f" (« {entry.scope_label} »)" if entry.scope_label else ""
            details.append(("scope", f"`{entry.scope}`{label}"))
        if entry.requires_also:
            details.append(("à demander avec", ", ".join(f"`{s}`" for s in entry.requires_also)))
        if entry.requires_one_of:
            details.append(("et l'un de", ", ".join(f"`{s}`" for s in entry.requires_one_of)))
        for endpoint in entry.endpoints:
            details.append(("route", f"`GET {endpoint.path}` ({endpoint.mode_label})"))
        if entry.is_api and not entry.france_connect:
            details.append(("FranceConnect", "pas de route FranceConnect"))
        if entry.field:
            details.append(("champ", f"`{entry.field}`"))
        if entry.derivation:
            details.append(("valeur", entry.derivation))
        if entry.cache:
            details.append(("cache", entry.cache))
        if entry.freshness:
            details.append(("fraîcheur", entry.freshness))
        if entry.negative_unreliable_before:
            details.append(("réponse négative peu fiable avant le", entry.negative_unreliable_before))
        if entry.forbidden_uses:
            details.append(("usage interdit", ", ".join(_USE_LABELS[use] for use in entry.forbidden_uses)))
        details.append(("référence", entry.reference))
        out += [f"- **{label}** : {text}" for label, text in details]
        if entry.caveats:
            out += ["", "Précautions :", ""]
            out += [f"- {caveat}" for caveat in entry.caveats]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


_USE_LABELS: dict[str, str] = {"eaje": "participations familiales en EAJE (crèches)"}


def _origin(entry: CatalogueEntry) -> str:
    if entry.source == "famille":
        return "déclaré par la famille"
    api = "API Particulier" if entry.source == "api_particulier" else "API Impôt particulier"
    return f"{api} / {entry.provider}"


def _scope_text(entry: CatalogueEntry) -> str:
    if entry.scope is None:
        return "aucun"
    text = f"`{entry.scope}`"
    if entry.requires_also:
        text += " + " + " + ".join(f"`{s}`" for s in entry.requires_also)
    if entry.requires_one_of:
        text += " + un scope d'année"
    return text


def _modes_text(entry: CatalogueEntry) -> str:
    if not entry.endpoints:
        return "—"
    text = ", ".join(MODE_LABELS[mode] for mode in entry.modes)
    return text if entry.france_connect else text + " (pas de FranceConnect)"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _slug(title: str) -> str:
    """GitHub-style anchor of a heading (the one tests/test_docs.py checks)."""
    text = title.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")
