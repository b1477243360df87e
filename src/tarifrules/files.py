"""Reading a file the caller names (rule file, situation, identity file): regular files only,
never more than a limit.

A path can lead to something that is not a file on disk: a named pipe (opening it blocks
until a writer comes), a device (`/dev/zero` never ends), a socket, a folder — also through
a symbolic link. `read_regular_file` refuses them before reading a byte, and counts the
bytes it reads itself: `stat` says nothing true about `/proc` files or a file that grows
while it is read. Every failure is a `FileProblem` whose `reason` lets each caller choose
its words (diagnostic F001/F004 for a rule file, a usage error for a situation).
"""

from __future__ import annotations

import errno
import os
import stat
from typing import Literal

Reason = Literal["missing", "denied", "directory", "special", "too_large", "unreadable", "bad_name"]

_CHUNK = 1 << 20


class FileProblem(Exception):
    """Why a file was not read: `reason`, a French `message` and `hint`; `size` for a file too large
    (None when its size is unknown: it went past the limit while read)."""

    def __init__(self, reason: Reason, message: str, hint: str, size: int | None = None):
        super().__init__(message)
        self.reason, self.message, self.hint, self.size = reason, message, hint, size


_SYSTEM_ERRORS = {  # the system's words are English (`strerror`): what a user reads is French
    errno.ENAMETOOLONG: "nom de fichier trop long",
    errno.ELOOP: "liens symboliques qui tournent en rond",
    errno.EIO: "erreur d'entrée-sortie du disque",
    errno.ENOSPC: "disque plein",
    errno.EMFILE: "trop de fichiers ouverts",
    errno.ENFILE: "trop de fichiers ouverts",
    errno.ENXIO: "périphérique absent",
    errno.ENODEV: "périphérique absent",
    errno.EROFS: "disque en lecture seule",
    errno.ESTALE: "fichier d'un partage réseau devenu inaccessible",
    errno.ETIMEDOUT: "délai dépassé (partage réseau ?)",
    errno.EBUSY: "fichier occupé",
    errno.EAGAIN: "fichier momentanément indisponible",
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.EISDIR: "c'est un dossier",
    errno.EACCES: "droits d'accès insuffisants",
    errno.EPERM: "opération non permise",
    errno.EEXIST: "le fichier existe déjà",
    errno.EXDEV: "autre disque",
    errno.EADDRINUSE: "adresse déjà utilisée (un autre programme écoute sur ce port ?)",
    errno.EADDRNOTAVAIL: "adresse absente de cette machine",
}


def system_error(exc: OSError) -> str:
    """The system's reason for `exc`, in French."""
    return _SYSTEM_ERRORS.get(exc.errno or 0, f"erreur système n° {exc.errno}" if exc.errno else "erreur système")


def megabytes(count: int) -> str:
    """`5_000_000` → `5 Mo`, `6_012_000` → `6,0 Mo`."""
    return f"{count // 1_000_000} Mo" if count % 1_000_000 == 0 else f"{count / 1_000_000:.1f} Mo".replace(".", ",")


def _special(mode: int) -> FileProblem:
    if stat.S_ISDIR(mode):
        return FileProblem("directory", "c'est un dossier, pas un fichier", "donnez le chemin d'un fichier")
    kind = ("un tube nommé (FIFO)" if stat.S_ISFIFO(mode) else "un périphérique" if stat.S_ISCHR(mode)
            or stat.S_ISBLK(mode) else "une socket" if stat.S_ISSOCK(mode) else "un fichier spécial")
    return FileProblem("special", f"ce n'est pas un fichier ordinaire : c'est {kind}",
                       "donnez le chemin d'un fichier enregistré sur le disque")


def _too_large(limit: int, size: int | None) -> FileProblem:
    shown = f"({megabytes(size)})" if size is not None else f"(plus de {megabytes(limit)})"
    return FileProblem("too_large", f"le fichier est trop gros {shown}", f"limite : {megabytes(limit)}", size)


def read_regular_file(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file at `path` (symbolic links followed), at most `limit` of them.

    The kind of file is checked twice: by `stat` before opening (a FIFO or a device is never
    opened), then on the open descriptor (the path may have changed in between); the open
    does not block (`O_NONBLOCK`) and the read stops at `limit + 1` bytes whatever the size
    announced."""
    try:
        status = os.stat(path)
        if not stat.S_ISREG(status.st_mode):
            raise _special(status.st_mode)
        if status.st_size > limit:
            raise _too_large(limit, status.st_size)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
        descriptor = os.open(path, flags)
        try:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):
                raise _special(status.st_mode)
            chunks: list[bytes] = []
            remaining = limit + 1
            while remaining > 0:
                chunk = os.read(descriptor, min(remaining, _CHUNK))
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
        finally:
            os.close(descriptor)
    except FileNotFoundError:
        raise FileProblem("missing", "fichier introuvable", "vérifiez le chemin et le nom du fichier") from None
    except NotADirectoryError:  # a/b where a is a file
        raise FileProblem("missing", "fichier introuvable", "vérifiez le chemin et le nom du fichier") from None
    except PermissionError:
        raise FileProblem("denied", "lecture du fichier refusée (droits d'accès)",
                          "demandez le droit de lire ce fichier, ou copiez-le dans votre dossier") from None
    except IsADirectoryError:
        raise _special(stat.S_IFDIR) from None
    except OSError as exc:
        raise FileProblem("unreadable", f"fichier illisible ({system_error(exc)})",
                          "vérifiez que le fichier est accessible (disque, partage réseau), puis réessayez") from None
    except ValueError:  # a path the system cannot name (a NUL character in it)
        raise FileProblem("bad_name", "nom de fichier invalide (caractère nul)",
                          "vérifiez le chemin et le nom du fichier") from None
    if remaining <= 0:
        raise _too_large(limit, None)
    return b"".join(chunks)



def write_atomically(path: str | os.PathLike[str], text: str) -> None:
    """Writes `text` (UTF-8) under `path` whole or not at all: into a temporary file of the same folder,
    put on the disk (`fsync`), then renamed over `path` (which keeps its permissions). On any error the
    temporary file is removed, and a file that was under `path` stays as it was: a disk full or an
    interruption while `tarifrules fmt` rewrites a rule file never leaves it cut in half.
    Raises `OSError`."""
    import contextlib
    import tempfile

    target = os.fspath(path)
    folder = os.path.dirname(target) or "."
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mode = None
    descriptor, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".partiel", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(text.encode("utf-8"))
            file.flush()
            os.fsync(file.fileno())
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(file.fileno(), mode)
            elif hasattr(os, "fchmod"):  # the permissions a new file gets (mkstemp gives 0600)
                umask = os.umask(0)
                os.umask(umask)
                os.fchmod(file.fileno(), 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def not_a_regular_file(path: str | os.PathLike[str]) -> FileProblem | None:
    """Why `path` cannot be read as a file (missing, a folder, a FIFO, a device, a loop of links…),
    or `None` for a regular file: for readers that open the file themselves (Arrow, DuckDB)."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return FileProblem("missing", "fichier introuvable", "vérifiez le chemin et le nom du fichier")
    except OSError as exc:
        return FileProblem("unreadable", f"fichier illisible ({system_error(exc)})",
                           "vérifiez le chemin du fichier et les liens symboliques qui y mènent")
    except ValueError:
        return FileProblem("bad_name", "nom de fichier invalide (caractère nul)",
                           "vérifiez le chemin et le nom du fichier")
    return None if stat.S_ISREG(status.st_mode) else _special(status.st_mode)
