"""Reading rule files: every way a file can be unreadable becomes a French diagnostic."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from .diagnostics import TarifError, error
from .span import Span

MAX_BYTES = 5_000_000


def grammar_path() -> Path:
    """The grammar of the language: inside the wheel, or in `grammars/` in a source checkout."""
    here = Path(__file__).resolve().parent
    packaged = here / "tarif.lark"
    return packaged if packaged.is_file() else here.parents[1] / "grammars" / "tarif.lark"


def looks_like_text(value: str) -> bool:
    """A string holding rule text rather than a path."""
    return "\n" in value


def read_source(path_or_text: str | Path, file: str | None = None) -> tuple[str, str]:
    """Return `(text, file name)`; raise `TarifError` (codes F001–F004) otherwise."""
    if isinstance(path_or_text, str) and looks_like_text(path_or_text):
        text, name = normalise(path_or_text), file or "<texte>"
    else:
        path = Path(path_or_text)
        name = file or str(path)
        text = decode(read_bytes(path, name), name)
    if not text.strip():
        raise TarifError([error("F003", "le fichier est vide", Span(name, 1, 1, 1, 1),
                                "un fichier commence par : délibération \"Titre\"")])
    return text, name


def read_bytes(path: Path, name: str) -> bytes:
    where = Span(name, 0, 0, 0, 0)
    try:
        if path.is_dir():
            raise TarifError([error("F001", "c'est un dossier, pas un fichier", where,
                                    "donnez le chemin d'un fichier .tarif")])
        size = path.stat().st_size
        if size > MAX_BYTES:
            shown = f"{size / 1_000_000:.1f}".replace(".", ",")
            limit = f"limite : {MAX_BYTES // 1_000_000} Mo"
            raise TarifError([error("F004", f"le fichier est trop gros ({shown} Mo)", where,
                                    f"un fichier de règles dépasse rarement quelques Ko ; {limit}")])
        return path.read_bytes()
    except FileNotFoundError:
        raise TarifError([error("F001", "fichier introuvable", where,
                                "vérifiez le chemin et le nom du fichier")]) from None
    except PermissionError:
        raise TarifError([error("F001", "lecture du fichier refusée (droits d'accès)", where,
                                "demandez le droit de lire ce fichier, ou copiez-le dans votre dossier")]) from None
    except OSError as exc:
        raise TarifError([error("F001", f"fichier illisible ({exc.strerror or 'erreur système'})", where,
                                "vérifiez que le fichier est accessible (disque, partage réseau), "
                                "puis réessayez")]) from None
    except ValueError:  # a path the system cannot name (a NUL character in it)
        raise TarifError([error("F001", "nom de fichier invalide (caractère nul)", where,
                                "vérifiez le chemin et le nom du fichier")]) from None


def decode(raw: bytes, name: str) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        # In characters of the text shown with the caret, which is normalised (NFC) like a readable file.
        column = len(normalise(raw[line_start: exc.start].decode("utf-8", errors="replace"))) + 1
        shown = normalise(raw.decode("utf-8", errors="replace"))
        raise TarifError([error(
            "F002", "le fichier n'est pas encodé en UTF-8 (caractère illisible)",
            Span(name, line, column, line, column + 1),
            "enregistrez le fichier en UTF-8 (dans votre éditeur : « Enregistrer sous… », encodage UTF-8)",
        )], {name: shown}) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise TarifError([error("F002", "le fichier contient des caractères binaires : ce n'est pas un texte",
                                Span(name, line, 1, line, 2), "donnez un fichier .tarif, un texte brut")])
    return normalise(text)


def normalise(text: str) -> str:
    """The text every later stage reads: `\n` line ends, and Unicode NFC.

    An editor that saves in NFD (macOS) writes `é` as `e` followed by a combining accent, which
    no name or keyword of the grammar matches; NFC writes it back as one character, so a file
    reads the same whatever the editor saved. Lines and columns of diagnostics count characters
    of this normalised text, the one shown under the carets.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)
