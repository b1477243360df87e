"""The catalogue's entries: frozen dataclasses, and how a source text finds its entry.

Plain dataclasses rather than pydantic models so that checking a rule file does not pay
for importing pydantic: `loading.py` validates a catalogue file with pydantic (field
types, unknown fields) and then with `Catalogue.problems()` (the catalogue's own rules).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from ..nodes import Granularity, Kind

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


_STRICT = {"extra": "forbid"}  # read by pydantic when it validates these dataclasses (loading.py)


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    """One route of an API that returns the datum, and how it identifies the person."""

    __pydantic_config__ = _STRICT

    path: str
    mode: Mode

    @property
    def mode_label(self) -> str:
        return MODE_LABELS[self.mode]


@dataclass(frozen=True, kw_only=True)
class CatalogueEntry:
    """One datum a rule may read.

    `scope` is the single least intrusive scope that opens `field`; `requires_also` lists
    scopes that must be held with it for the field to be returned at all (a key nested in
    a list that has its own scope), `requires_one_of` a group of which one must be held
    (the DGFiP year scopes). `negative_unreliable_before` (JJ/MM, in the school year) is
    the day before which a negative answer (`non`, no échelon) may only mean "not known
    yet". `reference` cites the section of the reference notes the facts come from.
    """

    __pydantic_config__ = _STRICT

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

    def problems(self) -> Iterator[str]:
        """What breaks the catalogue's rules in this entry (French), beyond field types."""
        api = self.source in API_SOURCES
        for name in ("name", "reference"):
            if not getattr(self, name).strip():
                yield f"{name} ne doit pas être vide"
        day = self.negative_unreliable_before
        if day is not None and not _DAY_MONTH.match(day):
            yield f"negative_unreliable_before : « {day} » n'est pas un jour au format JJ/MM"
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


@dataclass(frozen=True, kw_only=True)
class Catalogue:
    """The whole catalogue: `entries` maps each key (the normalised name) to its entry."""

    __pydantic_config__ = _STRICT

    version: Literal[1]
    entries: dict[str, CatalogueEntry]
    _index: dict[str, str] = field(init=False, repr=False, compare=False, default_factory=dict)
    _written: dict[str, str] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        for key, entry in self.entries.items():
            for written in (*entry.aliases, entry.name):
                self._index[normalize(written)] = key
                self._written[normalize(written)] = written

    def problems(self) -> Iterator[tuple[str | None, str]]:
        """(entry key or None for the whole catalogue, French message) for every rule broken."""
        if not self.entries:
            yield None, "le catalogue n'a aucune entrée"
        for key, entry in self.entries.items():
            entry_problems = list(entry.problems())
            if entry_problems:
                yield key, " ; ".join(entry_problems)
        index: dict[str, str] = {}
        names: list[str] = []
        for key, entry in self.entries.items():
            if key != entry.key:
                names.append(f"entrée « {key} » : la clé doit être le nom en minuscules, « {entry.key} »")
            for written in (entry.name, *entry.aliases):
                folded = normalize(written)
                other = index.get(folded)
                if other == key:
                    names.append(f"entrée « {key} » : « {written} » y figure deux fois")
                elif other is not None:
                    names.append(f"« {written} » désigne deux entrées : « {other} » et « {key} »")
                index[folded] = key
        if names:
            yield None, " ; ".join(names)

    def __iter__(self) -> Iterator[CatalogueEntry]:
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
        import difflib

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


