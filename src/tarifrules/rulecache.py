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
any time. Entries are pickles: a folder owned by another user, or that others may write in,
is never used. The cache is an optimisation only: an entry that cannot be read or written is
ignored, and the file is checked as without a cache. The library's `tarifrules.load`
never reads nor writes it.

A command with other work to do meanwhile (`batch` reads its population) calls
`start_loading`: each file not in the cache is then checked by a child process, on another
core, which sends the pickled result through a pipe. A child that cannot check the file
(errors in it, anything unexpected) sends nothing, and the file is checked again by the
command, which reports its errors as `load` does.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from . import nodes as n
from .catalogue.negatives import Unreliable
from .diagnostics import Diagnostic, TarifError
from .source import grammar_path, read_source

if TYPE_CHECKING:
    from .ruleset import RuleSet

CACHE_VARIABLE = "TARIFRULES_CACHE"
OFF = ("non", "no", "off", "0")
MAX_ENTRIES = 256  # beyond, the entries written longest ago are removed


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
    return Loading([_Pending(text, name, fork) for text, name in read])


class Loading:
    """Rule files being loaded (`start_loading`)."""

    def __init__(self, files: list[_Pending]):
        self._files = files

    @property
    def children(self) -> int:
        """How many files are being checked by a child process."""
        return sum(file.child is not None for file in self._files)

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


class _Pending:
    """One file: read back from the cache, being checked by a child process, or to check here."""

    def __init__(self, text: str, name: str, fork: bool):
        from .ruleset import RuleSet

        self.text, self.name = text, name
        self.entry = _entry(text, name)
        kept = _read(self.entry) if self.entry is not None else None
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
        if self.entry is not None:
            _write(self.entry, data or _dump(self.ruleset))
        return self.ruleset


def _entry(text: str, name: str) -> Path | None:
    """Where the entry of this file is kept, or `None` when there is no usable cache."""
    folder = cache_folder()
    try:
        stamp = _code_stamp()
    except OSError:  # tarifrules' own files changing under our feet (a checkout being edited)
        return None
    if folder is None or not _private(folder):
        return None
    return folder / (hashlib.sha256(stamp + f"\0{name}\0{text}".encode()).hexdigest() + ".pickle")


def _private(folder: Path) -> bool:
    """An entry is code that runs when read (pickle): only a folder of this user, that no one else
    may write in, is read or written."""
    try:
        status = folder.stat()
    except FileNotFoundError:
        return True  # `_write` creates it for this user alone
    except OSError:
        return False
    if not hasattr(os, "getuid"):  # (Windows: no owner and mode bits to check this way)
        return True
    return status.st_uid == os.getuid() and not status.st_mode & 0o022


Kept = tuple[n.Program, tuple[Diagnostic, ...], tuple[Unreliable, ...]]


def _dump(ruleset: RuleSet) -> bytes:
    return pickle.dumps((ruleset.program, ruleset.warnings, ruleset.unreliable), protocol=pickle.HIGHEST_PROTOCOL)


def _read(entry: Path) -> Kept | None:
    try:
        data = entry.read_bytes()
    except OSError:
        return None
    return _kept(data)


def _kept(data: bytes) -> Kept | None:
    try:
        kept = pickle.loads(data)
    except Exception:  # a damaged or foreign entry is only a miss
        return None
    if (isinstance(kept, tuple) and len(kept) == 3 and isinstance(kept[0], n.Program)
            and isinstance(kept[1], tuple) and all(isinstance(d, Diagnostic) for d in kept[1])
            and isinstance(kept[2], tuple) and all(isinstance(u, Unreliable) for u in kept[2])):
        return kept
    return None


def _write(entry: Path, data: bytes) -> None:
    folder = entry.parent
    temporary = entry.with_suffix(f".{os.getpid()}.tmp")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary.write_bytes(data)
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
