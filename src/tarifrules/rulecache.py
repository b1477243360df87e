"""A cache of checked rule files for the command line (the `.pyc` of a `.tarif` file).

Parsing and checking a file is the same work at every command on an unchanged file; the
command line keeps its result, the checked program, its warnings and what it needs from
the data catalogue (`catalogue.negatives`), in a cache folder and reads it back next time
without loading the grammar, the checks or the catalogue. An entry is
found by a hash of the file name, the file's text, the Python version and the stat of
every file of tarifrules itself (code, grammar, catalogue): editing the rules or
upgrading tarifrules never reads a stale entry. Files with errors are not kept: they are
checked again, and their diagnostics printed, every time.

The folder is `$TARIFRULES_CACHE`, else `$XDG_CACHE_HOME/tarifrules`, else
`~/.cache/tarifrules`; `TARIFRULES_CACHE=non` turns the cache off. It may be deleted at
any time. The cache is an optimisation only: an entry that cannot be read or written is
ignored, and the file is checked as without a cache. The library's `tarifrules.load`
never reads nor writes it.

Nothing read from the cache can run code or change a result:
* an entry is a pickle read by an unpickler that builds only the program's own values (the
  node, span, diagnostic and catalogue dataclasses, named tuples and enumerations of
  tarifrules, `Decimal`, `date`): no other class nor function can be named in it;
* each entry carries an HMAC-SHA256 of its bytes and of its own name, keyed by a random key
  kept in the folder (`key`, mode 0600): an entry changed, truncated or moved from another
  file's place is ignored, and the file is checked again;
* the folder, the key and each entry must belong to the user and be writable by no one else,
  and every folder above too (or be a sticky folder such as `/tmp`); otherwise they are
  ignored and the command says so (`Loading.notes`, printed on stderr by the command line).

A command with other work to do meanwhile (`batch` reads its population) calls
`start_loading`: each file not in the cache is then checked by a child process, on another
core, which sends the pickled result through a pipe. A child that cannot check the file
(errors in it, anything unexpected) sends nothing, and the file is checked again by the
command, which reports its errors as `load` does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import enum
import functools
import hashlib
import hmac
import io
import os
import pickle
import stat
import sys
import threading
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from . import __version__, diagnostics, span
from . import nodes as n
from .catalogue import negatives
from .catalogue.negatives import Unreliable
from .diagnostics import Diagnostic, TarifError
from .source import grammar_path, read_source

if TYPE_CHECKING:
    from .ruleset import RuleSet

CACHE_VARIABLE = "TARIFRULES_CACHE"
OFF = ("non", "no", "off", "0")
MAX_ENTRIES = 256  # beyond, the entries written longest ago are removed
MAX_ENTRY_BYTES = 256_000_000  # far above the program of the largest rule file `read_source` accepts
KEY_NAME, KEY_BYTES = "key", 32
MAGIC = b"tarifrules-cache-1\n"


def cache_folder() -> Path | None:
    """Where entries are kept, or `None` when the cache is turned off."""
    chosen = os.environ.get(CACHE_VARIABLE, "").strip()
    if chosen.lower() in OFF:
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "tarifrules"


@functools.cache
def _code_stamp() -> bytes:
    """What tarifrules is made of: each of its files' path, size and modification time."""
    stamp = hashlib.sha256(f"{__version__}\0{sys.version}\0".encode())
    package = Path(__file__).resolve().parent
    files = [grammar_path()]
    for folder, subfolders, names in os.walk(package):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        files.extend(Path(folder, name) for name in sorted(names) if not name.endswith((".pyc", ".tmp")))
    for file in files:
        status = file.stat()
        stamp.update(f"{file}\0{status.st_size}\0{status.st_mtime_ns}\0".encode())
    return stamp.digest()


def load_cached(path: str | Path) -> RuleSet:
    """`tarifrules.load(path)`, read back from the cache when the file was checked before.

    Raises `TarifError` exactly as `load` does (unreadable file, errors in the file).
    """
    return start_loading([path], fork=False).results()[0]


def start_loading(paths: Sequence[str | Path], *, fork: bool = True) -> Loading:
    """Starts `load_cached` of each file, for a command that has other work to do meanwhile.

    The files are read now (an unreadable one raises `TarifError` now); each file not in the cache
    is checked by a child process, on another core, while the caller goes on (`fork`, where
    `os.fork` exists and no other thread runs); `results()` gives the `RuleSet`s.
    """
    read = [read_source(Path(path)) for path in paths]
    notes: list[str] = []
    cache = _open_cache(notes)
    return Loading([_Pending(text, name, fork, cache, notes) for text, name in read], notes)


class Loading:
    """Rule files being loaded (`start_loading`)."""

    def __init__(self, files: list[_Pending], notes: list[str]):
        self._files = files
        self._notes = notes

    @property
    def children(self) -> int:
        """How many files are being checked by a child process."""
        return sum(file.child is not None for file in self._files)

    @property
    def notes(self) -> tuple[str, ...]:
        """What the command should tell its user about the cache (in French): a folder, key or entry
        ignored because others may write in it, an entry changed outside tarifrules. Each once."""
        return tuple(dict.fromkeys(self._notes))

    def results(self) -> list[RuleSet]:
        """Each file's `RuleSet`, once every child has ended; the first file with errors raises its
        `TarifError`, as `load` does."""
        rulesets: list[RuleSet] = []
        problems: list[TarifError] = []
        for file in self._files:
            try:
                rulesets.append(file.result())
            except TarifError as problem:
                problems.append(problem)
        if problems:
            raise problems[0]
        return rulesets


@dataclasses.dataclass(frozen=True)
class _Cache:
    """A cache folder found safe to use, the key that signs its entries, and the stamp of tarifrules' files."""

    folder: Path
    key: bytes
    stamp: bytes


class _Pending:
    """One file: read back from the cache, being checked by a child process, or to check here."""

    def __init__(self, text: str, name: str, fork: bool, cache: _Cache | None, notes: list[str]):
        from .ruleset import RuleSet

        self.text, self.name, self.cache, self.notes = text, name, cache, notes
        self.entry = _entry(cache, text, name) if cache is not None else None
        kept = _read(self.entry, cache.key, notes) if cache is not None and self.entry is not None else None
        self.ruleset = RuleSet(*kept[:2], text, kept[2]) if kept is not None else None
        self.child = _check_in_child(text, name) if fork and self.ruleset is None else None

    def result(self) -> RuleSet:
        from .ruleset import RuleSet, checked

        if self.ruleset is not None:
            return self.ruleset
        data = _child_output(*self.child) if self.child is not None else b""
        self.child = None
        kept = _kept(data) if data else None
        if kept is not None:
            self.ruleset = RuleSet(*kept[:2], self.text, kept[2])
        else:  # no child, or it could not check the file: checked here (errors raise, as from `load`)
            self.ruleset, data = checked(self.text, self.name), b""
        if self.cache is not None and self.entry is not None:
            _write(self.entry, self.cache.key, data or _dump(self.ruleset))
        return self.ruleset


def _entry(cache: _Cache, text: str, name: str) -> Path:
    """Where the entry of this file is kept."""
    return cache.folder / (hashlib.sha256(cache.stamp + f"\0{name}\0{text}".encode()).hexdigest() + ".pickle")


# ------------------------------------------------------------------ whose folder, whose key

_ADVICE = "donnez dans TARIFRULES_CACHE un dossier à vous seul (chmod 700), ou TARIFRULES_CACHE=non"


def _open_cache(notes: list[str]) -> _Cache | None:
    """The cache folder and its key, or `None` (turned off, or not safe: then a note says why)."""
    folder = cache_folder()
    if folder is None:
        return None
    try:
        stamp = _code_stamp()
    except OSError:  # tarifrules' own files changing under our feet (a checkout being edited)
        return None
    try:
        folder = folder.absolute()
        unsafe = _unsafe_folder(folder)
        if unsafe is not None:
            notes.append(f"cache des fichiers vérifiés ignoré : {unsafe} ; {_ADVICE}")
            return None
        key = _key(folder, notes)
    except OSError:  # a folder that cannot be created or read: no cache, as when it is turned off
        return None
    return _Cache(folder, key, stamp) if key is not None else None


def _unsafe_folder(folder: Path) -> str | None:
    """Why `folder` may not hold entries (someone else could write in it or in a folder above it),
    or `None`. A folder not there yet is created for this user alone."""
    if not hasattr(os, "getuid"):  # (Windows: no owner and mode bits to check this way)
        return None
    uid = os.getuid()
    try:
        status = os.lstat(folder)
    except FileNotFoundError:
        status = None
    if status is not None:
        if not stat.S_ISDIR(status.st_mode):
            return f"{folder} n'est pas un dossier"
        if status.st_uid != uid:
            return f"le dossier {folder} appartient à un autre utilisateur"
        if status.st_mode & 0o022:
            return f"d'autres utilisateurs peuvent écrire dans le dossier {folder}"
    for above in folder.resolve().parents if status is not None else _existing_parents(folder):
        up = os.stat(above)
        if up.st_uid not in (uid, 0):
            return f"le dossier {above}, qui contient le cache, appartient à un autre utilisateur"
        if up.st_mode & 0o022 and not up.st_mode & stat.S_ISVTX:
            return f"d'autres utilisateurs peuvent écrire dans le dossier {above}, qui contient le cache"
    return None


def _existing_parents(folder: Path) -> list[Path]:
    """The folders above a folder not created yet, from the nearest one that exists."""
    existing = next(p for p in folder.parents if p.exists())
    return [existing.resolve(), *existing.resolve().parents]


def _key(folder: Path, notes: list[str]) -> bytes | None:
    """The folder's signing key, created (random, mode 0600) when there is none or it is damaged."""
    path = folder / KEY_NAME
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return _new_key(folder, path)
    except OSError:  # a symbolic link (O_NOFOLLOW), or unreadable
        notes.append(f"cache des fichiers vérifiés ignoré : la clé {path} n'est pas un fichier à vous ; {_ADVICE}")
        return None
    with os.fdopen(descriptor, "rb") as file:
        status = os.fstat(file.fileno())
        if not stat.S_ISREG(status.st_mode) or (
                hasattr(os, "getuid") and (status.st_uid != os.getuid() or status.st_mode & 0o077)):
            notes.append(f"cache des fichiers vérifiés ignoré : d'autres utilisateurs peuvent lire ou modifier "
                         f"la clé {path} ; {_ADVICE}")
            return None
        key = file.read(KEY_BYTES + 1)
    if len(key) != KEY_BYTES:  # damaged: a new key (every entry signed with the old one is then a miss)
        path.unlink()
        return _new_key(folder, path)
    return key


def _new_key(folder: Path, path: Path) -> bytes:
    """A new random key, written whole under its final name (or the one another command wrote first)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = os.urandom(KEY_BYTES)
    temporary = folder / f"{KEY_NAME}.{os.getpid()}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(key)
        try:
            os.link(temporary, path)  # never replaces a key another command has just written
        except FileExistsError:
            with open(path, "rb") as file:
                key = file.read(KEY_BYTES)
    finally:
        temporary.unlink(missing_ok=True)
    return key


# ------------------------------------------------------------------ entries

Kept = tuple[n.Program, tuple[Diagnostic, ...], tuple[Unreliable, ...]]


def _dump(ruleset: RuleSet) -> bytes:
    return pickle.dumps((ruleset.program, ruleset.warnings, ruleset.unreliable), protocol=pickle.HIGHEST_PROTOCOL)


def _signature(key: bytes, entry: Path, data: bytes) -> bytes:
    return hmac.new(key, MAGIC + entry.name.encode() + b"\0" + data, hashlib.sha256).digest()


def _read(entry: Path, key: bytes, notes: list[str]) -> Kept | None:
    """The entry's program if it is this user's, unchanged since tarifrules signed it, and made of the
    program's own values only; else `None` (a miss), with a note when someone else could have made it."""
    try:
        descriptor = os.open(entry, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as file:
        status = os.fstat(file.fileno())
        if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_ENTRY_BYTES:
            return None
        if hasattr(os, "getuid") and (status.st_uid != os.getuid() or status.st_mode & 0o022):
            notes.append(f"entrée du cache ignorée : {entry} appartient à un autre utilisateur ou d'autres "
                         "peuvent y écrire ; le fichier de règles est vérifié à nouveau")
            return None
        raw = file.read(MAX_ENTRY_BYTES + 1)
    head = len(MAGIC) + hashlib.sha256().digest_size
    data = raw[head:]
    if not raw.startswith(MAGIC) or not hmac.compare_digest(raw[len(MAGIC):head], _signature(key, entry, data)):
        notes.append(f"entrée du cache ignorée : {entry} a été modifiée hors de tarifrules (signature "
                     "invalide) ; le fichier de règles est vérifié à nouveau")
        return None
    return _kept(data)


def _kept(data: bytes) -> Kept | None:
    try:
        kept = _ProgramUnpickler(io.BytesIO(data)).load()
    except Exception:  # a damaged or foreign entry is only a miss
        return None
    if (isinstance(kept, tuple) and len(kept) == 3 and isinstance(kept[0], n.Program)
            and isinstance(kept[1], tuple) and all(isinstance(d, Diagnostic) for d in kept[1])
            and isinstance(kept[2], tuple) and all(isinstance(u, Unreliable) for u in kept[2])):
        return kept
    return None


_PROGRAM_MODULES: dict[str, ModuleType] = {module.__name__: module for module in (n, span, diagnostics, negatives)}
_PROGRAM_VALUES: dict[tuple[str, str], type] = {("decimal", "Decimal"): Decimal, ("datetime", "date"): datetime.date}


class _ProgramUnpickler(pickle.Unpickler):
    """Builds the values a checked program is made of, and nothing else: a pickle naming any other
    class or function (`os.system`, `builtins.eval`…) is refused before anything runs."""

    def find_class(self, module: str, name: str) -> type:
        found = _PROGRAM_VALUES.get((module, name))
        if found is None and module in _PROGRAM_MODULES and not name.startswith("_"):
            candidate = vars(_PROGRAM_MODULES[module]).get(name)
            if isinstance(candidate, type) and (dataclasses.is_dataclass(candidate) or issubclass(candidate, enum.Enum)
                                                or (issubclass(candidate, tuple) and hasattr(candidate, "_fields"))):
                found = candidate  # a dataclass, an enumeration or a named tuple of the program's values
        if found is None:
            raise pickle.UnpicklingError(f"{module}.{name} n'est pas une valeur d'un programme vérifié")
        return found


def _write(entry: Path, key: bytes, data: bytes) -> None:
    folder = entry.parent
    temporary = entry.with_suffix(f".{os.getpid()}.tmp")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(MAGIC + _signature(key, entry, data) + data)
        os.replace(temporary, entry)  # readers see a whole entry or none
        entries = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime_ns)
        for old in entries[: max(0, len(entries) - MAX_ENTRIES)]:
            old.unlink(missing_ok=True)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def _check_in_child(text: str, name: str) -> tuple[int, int] | None:
    """A child process that checks the file and writes its pickled result to a pipe; `None` where
    forking is not possible or not safe (no `os.fork`, or other threads running: locks they hold would
    stay taken in the child)."""
    if not hasattr(os, "fork") or not _single_threaded():
        return None
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid:
        os.close(write_end)
        return pid, read_end
    status = 1  # the child: whatever happens, it ends here, without running the parent's exit handlers
    try:
        os.close(read_end)
        from .ruleset import checked

        data = _dump(checked(text, name))
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
        status = 0
    except BaseException:  # errors in the file included: the parent checks it again and reports them
        pass
    finally:
        os._exit(status)


def _single_threaded() -> bool:
    """No other thread in this process, counting those of C libraries (OpenBLAS, Arrow) where the system
    says so."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return threading.active_count() == 1


def _child_output(pid: int, read_end: int) -> bytes:
    """What the child wrote (empty if it failed), once it has ended."""
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    return data if os.waitstatus_to_exitcode(status) == 0 else b""
