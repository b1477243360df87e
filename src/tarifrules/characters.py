"""Characters that make a rule file say something else than what it shows.

Three kinds of tricks, each met where it can be: bidirectional controls, which reorder what
an editor displays (« Trojan Source »), and invisible characters (zero-width space, soft
hyphen, byte order mark, Hangul fillers, control characters) are refused by the parser
outside comments (`hidden_characters`).
"""

from __future__ import annotations

import re
import unicodedata

from .diagnostics import Diagnostic, error
from .span import Span

# U+061C ARABIC LETTER MARK, U+200E/U+200F LEFT-TO-RIGHT / RIGHT-TO-LEFT MARK, U+202A–U+202E
# embeddings and overrides, U+2066–U+2069 isolates: what Trojan Source attacks use.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters that draw nothing (`\w` accepts them in a name) and separators that break a line
# in some editors but not for the parser.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2028\u2029\u034f")
_JOINERS = frozenset("\u200c\u200d")  # ZWNJ, ZWJ: needed inside words of Arabic, Persian, Indic scripts…
_ALLOWED_CONTROLS = frozenset("\t\n\f")
MAX_REPORTED = 10

_SUSPECT = re.compile(r"[^\t\n\f\x20-\x7e]")
_STRING = re.compile(r'"[^"\n]*"|«[^»\n]*»')


def is_hidden(char: str) -> bool:
    """A character that changes or hides what is displayed: a bidi control, a format character
    (category Cf), a control character other than tab and newline, a blank letter."""
    if char in _ALLOWED_CONTROLS:
        return False
    return char in BIDI_CONTROLS or char in _BLANK_LETTERS or unicodedata.category(char) in ("Cf", "Cc")


def describe(char: str) -> str:
    """`U+202E RIGHT-TO-LEFT OVERRIDE`: how a message names a character that may not show."""
    return f"U+{ord(char):04X} {unicodedata.name(char, 'sans nom')}"


def _comment_start(line: str) -> int:
    """Where the line's `#` comment starts (its length if none): the first `#` outside a quoted
    text closed on the same line, as the lexer reads it."""
    position = 0
    while True:
        sharp = line.find("#", position)
        if sharp < 0:
            return len(line)
        inside = next((m for m in _STRING.finditer(line) if m.start() < sharp < m.end() - 1), None)
        if inside is None:
            return sharp
        position = inside.end()


def _joiner_allowed(line: str, index: int) -> bool:
    """A ZWJ or ZWNJ inside a quoted text, after a character of a script that needs it (not
    ASCII, not a Latin, Greek or Cyrillic letter): Persian, Devanagari, emoji sequences."""
    if not any(m.start() < index < m.end() - 1 for m in _STRING.finditer(line)):
        return False
    before = line[index - 1] if index > 0 else " "
    return not before.isascii() and unicodedata.name(before, "").split(" ")[0] not in ("LATIN", "GREEK", "CYRILLIC")


def hidden_characters(text: str, file: str) -> list[Diagnostic]:
    """Errors S006 (bidi control) and S007 (invisible character) for every such character outside
    a comment, the first `MAX_REPORTED` of them. Comments may hold them: they never change a
    computation, and a comment in Arabic or Hebrew may need a direction mark."""
    problems: list[Diagnostic] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.isascii() and line.isprintable():
            continue
        comment = None
        for match in _SUSPECT.finditer(line):
            char, index = match.group(), match.start()
            if not is_hidden(char):
                continue
            if comment is None:
                comment = _comment_start(line)
            if index > comment or (char in _JOINERS and _joiner_allowed(line, index)):
                continue
            span = Span(file, number, index + 1, number, index + 2)
            if char in BIDI_CONTROLS:
                problems.append(error(
                    "S006", f"caractère de contrôle bidirectionnel {describe(char)} hors d'un commentaire", span,
                    "ce caractère invisible change l'ordre d'affichage : l'écran peut montrer autre chose que ce "
                    "que tarifrules lit ; retirez-le (il n'est accepté que dans un commentaire)"))
            else:
                problems.append(error(
                    "S007", f"caractère invisible {describe(char)} hors d'un commentaire", span,
                    "il vient souvent d'un copier-coller (page web, PDF, traitement de texte) : effacez-le, "
                    "ou retapez ce mot au clavier"))
            if len(problems) == MAX_REPORTED:
                return problems
    return problems
