"""The rule files served from a folder, reloaded when they change.

Each `.tarif` file directly in the folder is an entry named after its stem
(`restauration-scolaire`). What is served is always a complete, checked version:

* only regular files whose real path is inside the folder are read (a symbolic link to
  `/etc/passwd` or a FIFO is listed as refused, with its reason, and never opened);
* a changed file is read once its identity, size, mtime and ctime have stayed the same for
  `settle` seconds (an editor writing it in several pieces is not caught half-way), and
  the read is checked with `fstat` before and after: a file that changed while read is
  read again later;
* a version that does not load and check, or whose own `exemple` blocks fail, is not
  served: the previous one stays, and the entry says why (`GET /fichiers`);
* every version carries the sha256 of its bytes, given with every evaluation.

Scanning and loading run outside the event loop (`poke`, called by requests, starts a
worker thread; `refresh` scans in the calling thread until the files have settled, for
the first scan and for tests; one scan at a time): a multi-megabyte file takes seconds to
check, during which requests are answered from the previous versions. The worker builds a new dictionary of immutable
entries and swaps it in one assignment: a request sees either all of the old state or all
of the new one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat as stat_module
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..characters import printable
from ..diagnostics import Diagnostic, TarifError, error
from ..ruleset import RuleSet, checked
from ..schema import situation_schema, validator
from ..situation import SituationReader
from ..source import MAX_BYTES, decode
from ..span import Span
from .errors import BROKEN_FILE, REFUSED_FILE, UNKNOWN_FILE, did_you_mean, fail

SUFFIX = ".tarif"
SETTLE = 0.2  # seconds a changed file must stay unchanged before it is read
LOG = logging.getLogger("tarifrules.service")

Stamp = tuple[int, int, int, int, int]  # device, inode, size, mtime_ns, ctime_ns of the file read


@dataclass(frozen=True)
class Version:
    """A checked version of a file, with what serving it needs (built once)."""

    ruleset: RuleSet
    schema: dict[str, Any]
    validator: Any
    reader: SituationReader
    datum_validators: dict[str, Any]  # each property of `schema`, validated alone
    sha256: str = ""
    json: dict[str, Any] = field(default_factory=dict)  # `version` of every evaluation answer

    @classmethod
    def of(cls, ruleset: RuleSet, sha256: str = "") -> Version:
        ruleset.compile()  # built now rather than by the first request: the generated code
        _ = ruleset.skeleton  # and what every explanation shares
        schema = situation_schema(ruleset.program)
        reader = SituationReader(ruleset.symbols.data, set(ruleset.symbols.pieces))
        datum_validators = {name: validator(datum) for name, datum in schema["properties"].items()}
        sha256 = sha256 or hashlib.sha256(ruleset.source.encode("utf-8")).hexdigest()
        described = {"sha256": sha256, "valid_from": ruleset.valid_from.isoformat(),
                     "valid_until": ruleset.valid_until.isoformat() if ruleset.valid_until else None}
        return cls(ruleset, schema, validator(schema), reader, datum_validators, sha256, described)

    def accepts(self, situation: dict[str, Any]) -> bool:
        """The verdict of `validator` on a situation (an object whose every key is a declared
        datum with a valid value), property by property: twice as fast as the whole schema."""
        for name, value in situation.items():
            datum = self.datum_validators.get(name)
            if datum is None or not datum.is_valid(value):
                return False
        return True


@dataclass(frozen=True)
class Entry:
    """What the service knows of one file: the version it serves (None: none) and, when the
    file on disk is not that version, why (`reason`, `diagnostics`)."""

    name: str
    path: Path
    stamp: Stamp | None = None
    version: Version | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    checks: bool = False  # the file on disk loads, checks and passes its examples
    reason: str | None = None  # why the file on disk is not what is served (French)

    def served(self) -> Version:
        if self.version is None:
            raise fail(409, BROKEN_FILE, f"le fichier « {self.name} » a des erreurs : aucune version n'est servie",
                       "corrigez le fichier (tarifrules check, tarifrules test) ; GET /fichiers donne ses "
                       "diagnostics")
        return self.version


class Refused(Exception):
    """A folder entry that is not served, and why (French, without anything of its content)."""


class Moved(Exception):
    """The file changed between its check and its read, or while read."""


def _stamp(info: os.stat_result) -> Stamp:
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def probe(path: Path, folder: Path) -> Stamp:
    """The stamp of the regular file `path` names, if its real path is inside `folder` (real
    path); else `Refused`. `OSError` if it vanished."""
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(folder) or real == folder:
        raise Refused("lien symbolique vers un fichier hors du dossier servi : refusé")
    info = os.stat(real)
    if not stat_module.S_ISREG(info.st_mode):
        kind = "un dossier" if stat_module.S_ISDIR(info.st_mode) else "un fichier spécial (tube, périphérique…)"
        raise Refused(f"{kind}, pas un fichier ordinaire : refusé")
    if info.st_size > MAX_BYTES:
        raise Refused(f"fichier trop gros ({info.st_size / 1_000_000:.1f} Mo ; limite : "
                      f"{MAX_BYTES // 1_000_000} Mo) : refusé".replace(".", ","))
    return _stamp(info)


def read_stable(path: Path, folder: Path, expected: Stamp) -> bytes:
    """The bytes of `path`, read once, if the file is still the one stamped `expected` before
    and after the read (else `Moved`); at most `MAX_BYTES` whatever its size says."""
    real = os.path.realpath(path)
    if not Path(real).is_relative_to(folder):
        raise Moved
    fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        before = os.fstat(fd)
        if not stat_module.S_ISREG(before.st_mode) or _stamp(before) != expected:
            raise Moved
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, 1 << 20):
            total += len(chunk)
            if total > MAX_BYTES:
                raise Moved  # grown beyond its stamp: being written
            chunks.append(chunk)
        if _stamp(os.fstat(fd)) != expected or total != expected[2]:
            raise Moved
    finally:
        os.close(fd)
    if _stamp(os.stat(real)) != expected:  # replaced (renamed over) while read
        raise Moved
    return b"".join(chunks)


def _source(raw: bytes, name: str) -> str:
    text = decode(raw, name)
    if not text.strip():
        raise TarifError([error("F003", "le fichier est vide", Span(name, 1, 1, 1, 1),
                                "un fichier commence par : délibération \"Titre\"")])
    return text


@dataclass
class Registry:
    """The entries of `folder`, scanned at most every `interval` seconds (`poke`, from a request),
    a changed file read once unchanged for `settle` seconds."""

    folder: Path
    interval: float = 1.0
    settle: float = SETTLE
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    entries: dict[str, Entry] = field(default_factory=dict)
    _scanned: float | None = None
    _pending: dict[str, tuple[Stamp, float]] = field(default_factory=dict)  # changed: stamp, since
    _lock: threading.Lock = field(default_factory=threading.Lock)  # one scan at a time
    _worker: threading.Thread | None = None

    def due(self) -> bool:
        """A scan is due: none yet, the last one is `interval` old, or a changed file has settled."""
        if self._scanned is None:
            return True
        now = self.clock()
        if now - self._scanned >= self.interval:
            return True
        pending = tuple(self._pending.values())  # (copied at once: a scan may be changing it)
        return any(now - since >= self.settle for _, since in pending)

    def poke(self) -> None:
        """Start a scan in a worker thread if one is due and none runs; return at once."""
        worker = self._worker
        if (worker is not None and worker.is_alive()) or not self.due():
            return
        self._worker = threading.Thread(target=self._scan_logged, name="tarifrules-relecture", daemon=True)
        self._worker.start()

    def refresh(self, wait: float = 10.0) -> None:
        """Scan now, in this thread, until every changed file has settled and been read (at most
        `wait` seconds): the first scan of `create_app`, and tests."""
        rounds = max(1, int(wait / max(self.settle, 0.01)) + 1)
        for _ in range(rounds):
            if not self.scan():
                return
            self.sleep(max(self.settle / 2, 0.005))

    def _scan_logged(self) -> None:
        try:
            self.scan()
        except Exception as exc:  # a worker thread's exception would be printed with its traceback
            LOG.error("erreur interne pendant la relecture du dossier (%s)", type(exc).__name__)

    def scan(self) -> bool:
        """One pass over the folder; True if some changed file has not settled yet."""
        with self._lock:
            now = self.clock()
            self._scanned = now
            folder = Path(os.path.realpath(self.folder))
            seen: dict[str, Entry] = {}
            for path in sorted(self.folder.glob(f"*{SUFFIX}")):
                old = self.entries.get(path.stem)
                try:
                    entry = self._update(path, folder, old, now)
                except Exception as exc:  # a defect while loading one file: the others are served
                    LOG.error("erreur interne en lisant %s (%s)", printable(path.name), type(exc).__name__)
                    entry = old
                if entry is not None:
                    seen[path.stem] = entry
            for gone in set(self.entries) - set(seen):
                LOG.info("fichier retiré : %s", printable(gone))
            for gone in set(self._pending) - {p.stem for p in self.folder.glob(f"*{SUFFIX}")}:
                del self._pending[gone]
            self.entries = seen  # one assignment: requests see the old state or the new one
            return bool(self._pending)

    def _update(self, path: Path, folder: Path, old: Entry | None, now: float) -> Entry | None:
        name = path.stem
        try:
            stamp = probe(path, folder)
        except Refused as refused:
            self._pending.pop(name, None)
            reason = str(refused)
            if old is None or old.reason != reason:
                LOG.warning("fichier refusé : %s (%s)", printable(path.name), reason)
            problem = error(REFUSED_FILE, f"« {path.name} » : {reason}", Span(path.name, 0, 0, 0, 0),
                            "servez un fichier ordinaire placé dans le dossier (copiez-le plutôt que de le lier)")
            return Entry(name, path, None, old.version if old else None, (problem,), False, reason)
        except OSError:
            self._pending.pop(name, None)
            return None  # vanished between the listing and its stat
        if old is not None and stamp == old.stamp:
            self._pending.pop(name, None)
            return old
        if self.settle > 0:
            since = self._pending.get(name)
            if since is None or since[0] != stamp:
                self._pending[name] = (stamp, now)  # changed: wait until it stays the same
                return old
            if now - since[1] < self.settle:
                return old
        try:
            raw = read_stable(path, folder, stamp)
        except (Moved, OSError):
            self._pending[name] = (stamp, now)
            return old
        self._pending.pop(name, None)
        return self._load(name, path, stamp, raw, old)

    @staticmethod
    def _load(name: str, path: Path, stamp: Stamp, raw: bytes, old: Entry | None) -> Entry:
        sha256 = hashlib.sha256(raw).hexdigest()
        previous = old.version if old else None
        if previous is not None and previous.sha256 == sha256:  # touched, or back to the served text
            return Entry(name, path, stamp, previous, previous.ruleset.warnings, True, None)
        kept = "la version précédente reste servie" if previous else "il n'est pas servi"
        try:
            ruleset = checked(_source(raw, path.name), path.name)
        except TarifError as exc:
            codes = ", ".join(sorted({d.code for d in exc.diagnostics if d.is_error}))
            LOG.warning("fichier en erreur : %s (%s) ; %s", printable(path.name), codes, kept)
            return Entry(name, path, stamp, previous, exc.diagnostics, False, "le fichier ne se vérifie pas")
        from ..examples import run_examples

        results = run_examples(ruleset)
        failed = [r for r in results if not r.passed]
        if failed:
            LOG.warning("fichier en erreur : %s (%d exemple(s) en échec sur %d) ; %s", printable(path.name),
                        len(failed), len(results), kept)
            failures = tuple(d for r in failed for d in r.failures)
            return Entry(name, path, stamp, previous, failures, False,
                         f"{len(failed)} exemple(s) sur {len(results)} en échec : cette version n'est pas servie")
        LOG.info("fichier %s : %s (sha256 %s)", "rechargé" if previous else "chargé", printable(path.name),
                 sha256[:12])
        return Entry(name, path, stamp, Version.of(ruleset, sha256), ruleset.warnings, True, None)

    def get(self, name: str) -> Entry:
        key = name[: -len(SUFFIX)] if name.endswith(SUFFIX) else name
        entry = self.entries.get(key)
        if entry is None:
            raise fail(404, UNKNOWN_FILE, f"« {name[:80]} » n'est pas un fichier servi",
                       did_you_mean(key, sorted(self.entries)))
        return entry
