"""The rule files served from a folder, reloaded when they change.

Each `.tarif` file directly in the folder is an entry named after its stem
(`restauration-scolaire`). The folder is scanned at most once per `interval` seconds
(file modification time and size): a changed file is loaded and checked again; if it no
longer checks, the previous version stays served and the entry reports the errors.
Requests run on one event loop, so the registry needs no lock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, TarifError
from ..ruleset import RuleSet, load
from ..schema import situation_schema, validator
from ..situation import SituationReader
from .errors import BROKEN_FILE, UNKNOWN_FILE, did_you_mean, fail

SUFFIX = ".tarif"
LOG = logging.getLogger("tarifrules.service")


@dataclass(frozen=True)
class Version:
    """A checked version of a file, with what serving it needs (built once)."""

    ruleset: RuleSet
    schema: dict[str, Any]
    validator: Any
    reader: SituationReader
    datum_validators: dict[str, Any]  # each property of `schema`, validated alone

    @classmethod
    def of(cls, ruleset: RuleSet) -> Version:
        ruleset.compile()  # built now rather than by the first request: the generated code
        _ = ruleset.skeleton  # and what every explanation shares
        schema = situation_schema(ruleset.program)
        reader = SituationReader(ruleset.symbols.data, set(ruleset.symbols.pieces))
        datum_validators = {name: validator(datum) for name, datum in schema["properties"].items()}
        return cls(ruleset, schema, validator(schema), reader, datum_validators)

    def accepts(self, situation: dict[str, Any]) -> bool:
        """The verdict of `validator` on a situation (an object whose every key is a declared
        datum with a valid value), property by property: twice as fast as the whole schema."""
        for name, value in situation.items():
            datum = self.datum_validators.get(name)
            if datum is None or not datum.is_valid(value):
                return False
        return True


@dataclass
class Entry:
    name: str
    path: Path
    stamp: tuple[int, int] = (0, 0)
    version: Version | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    checks: bool = False  # the file on disk loads and checks

    def served(self) -> Version:
        if self.version is None:
            raise fail(409, BROKEN_FILE, f"le fichier « {self.name} » a des erreurs : aucune version n'est servie",
                       "corrigez le fichier (tarifrules check) ; GET /fichiers donne ses diagnostics")
        return self.version


@dataclass
class Registry:
    folder: Path
    interval: float = 1.0
    clock: Callable[[], float] = time.monotonic
    entries: dict[str, Entry] = field(default_factory=dict)
    _scanned: float | None = None

    def refresh(self) -> None:
        """Scan the folder if the last scan is older than `interval` seconds."""
        now = self.clock()
        if self._scanned is not None and now - self._scanned < self.interval:
            return
        self._scanned = now
        seen: dict[str, Entry] = {}
        for path in sorted(self.folder.glob(f"*{SUFFIX}")):
            try:
                stat = path.stat()
            except OSError:
                continue
            entry = self.entries.get(path.stem) or Entry(path.stem, path)
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp != entry.stamp:
                entry.stamp = stamp
                self._load(entry)
            seen[path.stem] = entry
        for gone in set(self.entries) - set(seen):
            LOG.info("fichier retiré : %s", gone)
        self.entries = seen

    @staticmethod
    def _load(entry: Entry) -> None:
        try:
            ruleset = load(entry.path, file=entry.path.name)
        except TarifError as exc:
            entry.checks, entry.diagnostics = False, exc.diagnostics
            codes = ", ".join(sorted({d.code for d in exc.diagnostics if d.is_error}))
            kept = "la version précédente reste servie" if entry.version else "il n'est pas servi"
            LOG.warning("fichier en erreur : %s (%s) ; %s", entry.path.name, codes, kept)
            return
        LOG.info("fichier %s : %s", "rechargé" if entry.version else "chargé", entry.path.name)
        entry.version, entry.checks, entry.diagnostics = Version.of(ruleset), True, ruleset.warnings

    def get(self, name: str) -> Entry:
        key = name[: -len(SUFFIX)] if name.endswith(SUFFIX) else name
        entry = self.entries.get(key)
        if entry is None:
            raise fail(404, UNKNOWN_FILE, f"« {name[:80]} » n'est pas un fichier servi",
                       did_you_mean(key, sorted(self.entries)))
        return entry

