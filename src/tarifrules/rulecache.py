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
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from . import nodes as n
from .catalogue.negatives import Unreliable
from .diagnostics import Diagnostic
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
    from .ruleset import RuleSet, checked

    text, name = read_source(Path(path))
    folder = cache_folder()
    try:
        stamp = _code_stamp()
    except OSError:  # tarifrules' own files changing under our feet (a checkout being edited)
        folder = None
    if folder is None or not _private(folder):
        return checked(text, name)
    entry = folder / (hashlib.sha256(stamp + f"\0{name}\0{text}".encode()).hexdigest() + ".pickle")
    kept = _read(entry)
    if kept is not None:
        return RuleSet(*kept[:2], text, kept[2])
    ruleset = checked(text, name)
    _write(folder, entry, (ruleset.program, ruleset.warnings, ruleset.unreliable))
    return ruleset


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


def _read(entry: Path) -> Kept | None:
    try:
        kept = pickle.loads(entry.read_bytes())
    except Exception:  # an absent, damaged or foreign entry is only a miss
        return None
    if (isinstance(kept, tuple) and len(kept) == 3 and isinstance(kept[0], n.Program)
            and isinstance(kept[1], tuple) and all(isinstance(d, Diagnostic) for d in kept[1])
            and isinstance(kept[2], tuple) and all(isinstance(u, Unreliable) for u in kept[2])):
        return kept
    return None


def _write(folder: Path, entry: Path, kept: Kept) -> None:
    temporary = entry.with_suffix(f".{os.getpid()}.tmp")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary.write_bytes(pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(temporary, entry)  # readers see a whole entry or none
        entries = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime_ns)
        for old in entries[: max(0, len(entries) - MAX_ENTRIES)]:
            old.unlink(missing_ok=True)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
