"""Reading rule files: every way a file can be unreadable becomes a French diagnostic."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from .diagnostics import Diagnostic, TarifError, error
from .files import FileProblem, read_regular_file
from .span import Span

MAX_BYTES = 1_000_000  # a rule file is a few Ko; lark reads about 100 Ko a second: a bound on the time too


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
    """The bytes of a rule file: a regular file of at most `MAX_BYTES` (`files.read_regular_file`)."""
    try:
        return read_regular_file(path, MAX_BYTES)
    except FileProblem as problem:
        raise TarifError([_unreadable(problem, Span(name, 0, 0, 0, 0))]) from None


def _unreadable(problem: FileProblem, where: Span) -> Diagnostic:
    limit = f"limite : {MAX_BYTES // 1_000_000} Mo"
    match problem.reason:
        case "too_large":
            shown = f"{problem.size / 1_000_000:.1f} Mo".replace(".", ",") if problem.size is not None else (
                f"plus de {MAX_BYTES // 1_000_000} Mo")
            return error("F004", f"le fichier est trop gros ({shown})", where,
                         f"un fichier de règles dépasse rarement quelques Ko ; {limit}")
        case "directory":
            return error("F001", problem.message, where, "donnez le chemin d'un fichier .tarif")
        case "special":
            return error("F001", problem.message, where,
                         "donnez le chemin d'un fichier .tarif enregistré sur le disque")
        case _:
            return error("F001", problem.message, where, problem.hint)


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
