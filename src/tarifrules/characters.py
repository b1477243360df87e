"""Characters that make a rule file say something else than what it shows.

Three kinds of tricks, each met where it can be: bidirectional controls, which reorder what
an editor displays (« Trojan Source »), and invisible characters (zero-width space, soft
hyphen, byte order mark, Hangul fillers, control characters) are refused by the parser
outside comments (`hidden_characters`); names that mix alphabets (`foreign_letters`) or
that look like another name (`skeleton`, Unicode TR39) are warned about by the name checks.

Scripts are told from the characters' Unicode names (`LATIN SMALL LETTER A`, `CYRILLIC
SMALL LETTER A`): Python's `unicodedata` has no script property, and the names give the
script of every letter a rule file can hold. The confusables come from a table generated
from Unicode's `confusables.txt` by `tools/make_confusables.py`, shipped in the package.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from pathlib import Path

from .diagnostics import Diagnostic, error
from .span import Span

# U+061C ARABIC LETTER MARK, U+200E/U+200F LEFT-TO-RIGHT / RIGHT-TO-LEFT MARK, U+202A–U+202E
# embeddings and overrides, U+2066–U+2069 isolates: what Trojan Source attacks use.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Every character of Unicode 14 (Python 3.11) of category Cf (format: bidi controls, zero-width
# space and joiners, soft hyphen, byte order mark, tags…) or Cc (control) but tab, newline and
# form feed, with the letters that draw nothing (Hangul fillers, which `\w` accepts in a name),
# the line and paragraph separators that break a line in some editors but not for the parser,
# and the combining grapheme joiner. One class, so that a 1 Mo text is scanned at regex speed;
# `tests/test_hostile_unicode.py` checks it against `unicodedata`.
_HIDDEN = re.compile(
    "[\x00-\x08\x0b\x0d-\x1f\x7f-\x9f\xad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2"
    "\u115f-\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0"
    "\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]")
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2028\u2029\u034f")
_JOINERS = frozenset("\u200c\u200d")  # ZWNJ, ZWJ: needed inside words of Arabic, Persian, Indic scripts…
MAX_REPORTED = 10

_STRING = re.compile(r'"[^"\n]*"|«[^»\n]*»')


def printable(text: str, limit: int = 200) -> str:
    """`text` for a log line or a terminal: control characters (CR, LF, ESC, BEL…), line and paragraph
    separators and format characters (bidi controls) written as escapes (and `\\` as `\\\\`), at most `limit`
    characters: a request path, a file name or a value cannot forge a line of the log, hide a part of it,
    nor send a command to the terminal (`ESC ] 0 ;` sets its title)."""
    if text.isprintable() and "\\" not in text and len(text) <= limit:
        return text
    shown = "".join(
        "\\\\" if ch == "\\" else ch if ch.isprintable() else
        f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}"
        for ch in text[:limit])
    return shown + ("…" if len(text) > limit else "")


def is_hidden(char: str) -> bool:
    """A character that changes or hides what is displayed: a bidi control, a format character
    (category Cf), a control character other than tab and newline, a blank letter."""
    return _HIDDEN.fullmatch(char) is not None


def describe(char: str) -> str:
    """`U+202E RIGHT-TO-LEFT OVERRIDE`: how a message names a character that may not show."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}" if name else f"U+{ord(char):04X}"


def _quoted(line: str) -> list[tuple[int, int]]:
    """The quoted texts closed on the line (`"…"`, `«…»`), as the lexer reads them, in order."""
    return [(match.start(), match.end()) for match in _STRING.finditer(line)]


def _comment_start(line: str, quoted: list[tuple[int, int]]) -> int:
    """Where the line's `#` comment starts (its length if none): the first `#` outside a quoted text."""
    position = 0
    for start, end in quoted:
        sharp = line.find("#", position, start)
        if sharp >= 0:
            return sharp
        position = end
    sharp = line.find("#", position)
    return sharp if sharp >= 0 else len(line)


def _joiner_allowed(line: str, index: int, quoted: list[tuple[int, int]]) -> bool:
    """A ZWJ or ZWNJ inside a quoted text, after a character of a script that needs it (not
    ASCII, not a Latin, Greek or Cyrillic letter): Persian, Devanagari, emoji sequences."""
    around = bisect.bisect_right(quoted, (index, len(line))) - 1
    if around < 0 or not quoted[around][0] < index < quoted[around][1] - 1:
        return False
    before = line[index - 1]
    return not before.isascii() and script(before) not in ("LATIN", "GREEK", "CYRILLIC")


def hidden_characters(text: str, file: str) -> list[Diagnostic]:
    """Errors S006 (bidi control) and S007 (invisible character) for every such character outside
    a comment, the first `MAX_REPORTED` of them. Comments may hold them: they never change a
    computation, and a comment in Arabic or Hebrew may need a direction mark."""
    problems: list[Diagnostic] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.isascii() and line.isprintable():
            continue
        first = _HIDDEN.search(line)
        if first is None:
            continue
        quoted = _quoted(line)
        comment = _comment_start(line, quoted)
        for match in _HIDDEN.finditer(line, first.start(), comment):
            char, index = match.group(), match.start()
            if char in _JOINERS and _joiner_allowed(line, index, quoted):
                continue
            span = Span(file, number, index + 1, number, index + 2)
            if char in BIDI_CONTROLS:
                problems.append(error(
                    "S006", f"caractère de contrôle bidirectionnel {describe(char)} hors d'un commentaire", span,
                    "ce caractère invisible change l'ordre d'affichage : l'écran peut montrer autre chose que ce "
                    "que tarifrules lit ; retirez-le (il n'est accepté que dans un commentaire)"))
            elif unicodedata.category(char) == "Cc":
                problems.append(error(
                    "S007", f"caractère de contrôle {describe(char)} hors d'un commentaire", span,
                    "un fichier de règles est un texte brut : effacez ce caractère (il peut, par exemple, "
                    "changer l'affichage du terminal)"))
            else:
                problems.append(error(
                    "S007", f"caractère invisible {describe(char)} hors d'un commentaire", span,
                    "il vient souvent d'un copier-coller (page web, PDF, traitement de texte) : effacez-le, "
                    "ou retapez ce mot au clavier"))
            if len(problems) == MAX_REPORTED:
                return problems
    return problems


# ----------------------------------------------------------------- scripts and confusables

_NOT_A_SCRIPT = frozenset({"MATHEMATICAL", "MODIFIER", "SUPERSCRIPT", "SUBSCRIPT", "DOUBLE-STRUCK", "SCRIPT",
                           "BLACK-LETTER", "PARENTHESIZED", "CIRCLED", "SQUARED", "NEGATIVE", "SMALL", "TAG",
                           "COMBINING", "ROMAN"})
# Scripts written together in one word (TR39 « highly restrictive »): Japanese, Chinese, Korean.
_WRITTEN_TOGETHER = (frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}), frozenset({"LATIN", "HAN", "BOPOMOFO"}),
                     frozenset({"LATIN", "HAN", "HANGUL"}))
_FRENCH_SCRIPTS = {"LATIN": "latine", "CYRILLIC": "cyrillique", "GREEK": "grecque", "ARMENIAN": "arménienne",
                   "COPTIC": "copte", "CHEROKEE": "cherokee", "HEBREW": "hébraïque", "ARABIC": "arabe"}


@functools.lru_cache(maxsize=4096)
def script(char: str) -> str | None:
    """The script of a letter (`LATIN`, `CYRILLIC`, `GREEK`, `HAN`…), None for anything else
    (digits, `_`, mathematical letters, modifier letters: used with every script)."""
    if not char.isalpha():
        return None
    words = unicodedata.name(char, "").split()
    if not words:
        return None
    if words[0] == "CJK":
        return "HAN"
    if words[0] in ("FULLWIDTH", "HALFWIDTH") and len(words) > 1:
        words = words[1:]
    if words[0] in _NOT_A_SCRIPT or not any(w in ("LETTER", "LIGATURE", "SYLLABLE") for w in words):
        return None
    return words[0]


def script_adjective(found: str) -> str:
    """`cyrillique`: the French adjective for a script."""
    return _FRENCH_SCRIPTS.get(found, found.lower())


def letter(char: str) -> str:
    """`« а » (lettre cyrillique, U+0430 CYRILLIC SMALL LETTER A)`: a letter as a message shows it."""
    found = script(char)
    kind = f"lettre {script_adjective(found)}" if found is not None else "caractère"
    return f"« {char} » ({kind}, {describe(char)})"


def difference(first: str, second: str) -> str:
    """`« а » (…) au lieu de « a » (…)` for the first letters where two names of one length
    differ; empty if their lengths differ."""
    if len(first) != len(second):
        return ""
    pairs = [(a, b) for a, b in zip(first, second, strict=True) if a != b]
    return ", ".join(f"{letter(a)} au lieu de {letter(b)}" for a, b in pairs[:2])


def shown_name(name: str) -> str:
    """A name as an answer prints it: followed by its letters of another alphabet, if it mixes
    alphabets (`quotient_fаmilial [« а » : U+0430 CYRILLIC SMALL LETTER A]`)."""
    mixed = foreign_letters(name) if not name.isascii() else None
    if mixed is None:
        return name
    return f"{name} [{', '.join(f'« {char} » : {describe(char)}' for char in mixed[1][:3])}]"


def foreign_letters(name: str) -> tuple[str, list[str]] | None:
    """For a name that mixes alphabets, its main script and the letters of the other ones;
    None when the name is written in one script (or in scripts written together)."""
    scripts = [found for found in map(script, name) if found is not None]
    kinds = set(scripts)
    if len(kinds) < 2 or any(kinds <= together for together in _WRITTEN_TOGETHER):
        return None
    main = max(sorted(kinds), key=lambda kind: (scripts.count(kind), kind == "LATIN"))  # ties: Latin
    foreign = list(dict.fromkeys(char for char in name if script(char) not in (None, main)))
    return main, foreign


@functools.cache
def _prototypes() -> dict[str, str]:
    table: dict[str, str] = {}
    path = Path(__file__).with_name("confusables.txt")
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            source, *target = line.split()
            table[chr(int(source, 16))] = "".join(chr(int(code, 16)) for code in target)
    return table


def skeleton(name: str) -> str:
    """The TR39 skeleton: two names that look alike on screen have the same one
    (`quotient_fаmilial` with a Cyrillic а and `quotient_familial`)."""
    prototypes = _prototypes()
    decomposed = unicodedata.normalize("NFD", name)
    return unicodedata.normalize("NFD", "".join(prototypes.get(char, char) for char in decomposed))


def lookalike(char: str) -> str | None:
    """The ASCII letter or digit a character looks like (`а` → `a`), None if it has none."""
    shown = unicodedata.normalize("NFC", skeleton(char))
    return shown if shown != char and shown.isascii() and shown.isalnum() and len(shown) == 1 else None
