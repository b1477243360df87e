"""Text → AST. The only module that talks to lark's parser; lark errors become diagnostics.

Syntax errors say what was expected in words a policy writer knows ("un montant",
"une fin de ligne", "« : »"), never lark's terminal names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from lark import Lark, Token, Tree, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.exceptions import VisitError

from . import nodes as n
from .build import AstBuilder
from .characters import describe, hidden_characters
from .diagnostics import Diagnostic, TarifError, error
from .source import grammar_path, normalise
from .span import Span

# What each terminal means, in the words of the language reference.
_EXPECTED_WORDS: dict[str, str] = {
    "NAME": "un nom",
    "NUMBER": "un nombre (par exemple 1 234,56)",
    "DATE": "une date JJ/MM/AAAA",
    "STRING": "un texte entre guillemets",
    "REFERENCE": "un numéro de délibération",
    "ARTICLE_NUMBER": "un numéro d'article",
    "SOURCE_TEXT": "la source de la donnée",
    "ENUM_WORD": "une valeur",
    "_NL": "une fin de ligne",
    "$END": "la fin du fichier",
    "UNIT": "une unité (€ ou %)",
    "COMPARATOR": "une comparaison (<, ≤, >, ≥, =, ≠)",
    "ADD_OP": "« + » ou « − »",
    "MUL_OP": "« × » ou « / »",
    "BOUND_WORD": "« inclus » ou « exclu »",
    "GRANULARITY": "« entier » ou « au centime »",
    "ROUNDING_STEP": "« au centime », « à l'euro », « à l'unité » ou « au dixième »",
    "ROUNDING_DIRECTION": "« le plus proche », « inférieur » ou « supérieur »",
    "APPLICABLE_FROM": "« applicable à partir du »",
    "JUSQUA": "« jusqu'à »",
    "MOINS_DE": "« moins de »",
    "A_PARTIR_DE": "« à partir de »",
    "PLUS_DE": "« plus de »",
    "AU_DELA_DE": "« au-delà de »",
    "A_DEFAUT": "« à défaut »",
    "SAUF_SI": "« sauf si »",
    "PAR_DEROGATION": "« par dérogation à l'article »",
    "AU_MOINS": "« au minimum »",
    "AU_PLUS": "« au plus »",
    "AU_MULTIPLE_DE": "« au multiple de »",
    "LE_MINIMUM_DE": "« le minimum de »",
    "LE_MAXIMUM_DE": "« le maximum de »",
    "INDETERMINE": "« indéterminé »",
}



@functools.cache
def _parser() -> Lark:
    return Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
        cache=True,  # lark keeps the built tables in the temporary folder: later processes start faster
    )


@functools.cache
def _terminal_words() -> dict[str, str]:
    words = dict(_EXPECTED_WORDS)
    for terminal in _parser().terminals:
        if terminal.name not in words and terminal.pattern.type == "str":
            words[terminal.name] = f"« {terminal.pattern.value} »"
    return words


def parse(text: str, file: str = "<texte>") -> n.Program:
    """Parse `.tarif` text; raise `TarifError` with located diagnostics on a syntax error.

    The text is normalised first (NFC, `\n`) as `source.read_source` does, so that a text given
    directly reads like the same text saved in a file; bidirectional controls and invisible
    characters outside comments are refused before the grammar sees them (S006, S007).
    """
    text = normalise(text)
    if not text.endswith("\n"):
        text += "\n"
    hidden = hidden_characters(text, file)
    if hidden:
        raise TarifError(hidden, {file: text})
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise TarifError([_syntax_diagnostic(exc, text, file)], {file: text}) from None
    too_deep = _too_deep(tree, text, file)
    if too_deep is not None:
        raise TarifError([too_deep], {file: text})
    builder = AstBuilder(file)
    try:
        program: n.Program = builder.transform(tree)
    except VisitError as exc:  # pragma: no cover - a builder bug, reported rather than hidden
        raise TarifError(
            [error("S900", f"erreur interne de tarifrules à la lecture du fichier ({type(exc.orig_exc).__name__})",
                   _tree_span(exc.obj, file),
                   "ce n'est pas une faute de votre fichier : merci de le transmettre à l'équipe tarifrules")],
            {file: text},
        ) from None
    if builder.problems:
        raise TarifError(builder.problems, {file: text})
    from dataclasses import replace

    strings = tree.scan_values(lambda value: isinstance(value, Token) and value.type == "STRING")
    return replace(program, comments=tuple(scan_comments(text, strings)))


MAX_TREE_DEPTH = 200
"""Levels of the parse tree the builder (a recursive lark `Transformer`) is given; a real file has about 10."""


def _too_deep(tree: Tree[Token], text: str, file: str) -> Diagnostic | None:
    """S008 on the line where the parse tree goes deeper than `MAX_TREE_DEPTH` (a sum of thousands of
    terms), found without recursion."""
    stack: list[tuple[Tree[Token], int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            number = _tree_span(node, file).line
            line = text.split("\n")[number - 1] if number <= text.count("\n") + 1 else ""
            start = len(line) - len(line.lstrip()) + 1
            where = Span(file, number, start, number, max(start + 1, len(line.rstrip()) + 1))
            return error("S008", f"expression trop longue ou trop imbriquée pour être lue (plus de {MAX_TREE_DEPTH} "
                         "opérations les unes dans les autres)", where,
                         "découpez-la en quelques sous-totaux nommés, ou écrivez une grille (« grille selon … »)")
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))
    return None


def _tree_span(tree: object, file: str) -> Span:
    """Where a parse-tree node starts (the first line of the file if it has no position)."""
    meta = getattr(tree, "meta", None)
    if meta is None or getattr(meta, "empty", True):
        return Span(file, 1, 1, 1, 2)
    return Span(file, meta.line, meta.column, meta.line, meta.column + 1)


def scan_comments(text: str, strings: Iterable[Token]) -> list[n.Comment]:
    """Every `#` comment with its line: the first `#` of a line outside the quoted `strings` the
    lexer found (a quote is not always a string: a description may read `le « QF`)."""
    quoted: dict[int, list[tuple[int, int]]] = {}
    for token in strings:
        quoted.setdefault(token.line or 0, []).append((token.column or 0, token.end_column or 0))
    comments = []
    for number, line in enumerate(text.split("\n"), start=1):
        for index, char in enumerate(line):
            if char == "#" and not any(start <= index + 1 < end for start, end in quoted.get(number, ())):
                comments.append(n.Comment(line[index:].rstrip(), number, bool(line[:index].strip())))
                break
    return comments


def _describe(token: Token | str) -> str:
    kind = token.type if isinstance(token, Token) else ""
    if kind == "_NL" or str(token).startswith("\n"):
        return "la fin de la ligne"
    if kind == "$END":
        return "la fin du fichier"
    text = str(token).strip()
    return f"« {text[:40]} »"


def _expected(names: set[str] | frozenset[str]) -> str:
    words = _terminal_words()
    # Short words first: punctuation such as « : » is what a writer most often forgot.
    described = sorted({words.get(name, name.lower()) for name in names if name != "COMMENT"},
                       key=lambda word: (len(word), word))
    if len(described) > 8:
        described = [*described[:8], "…"]
    return ", ".join(described)


@functools.cache
def _word_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(t.pattern.to_regexp()) for t in _parser().terminals
                 if t.name not in ("SOURCE_TEXT", "COMMENT") and not t.name.startswith("_"))


def _word_at(text: str, pos: int) -> str:
    """The longest word of the language (keyword, name, number, sign) that starts at `pos`, or ''."""
    found = ""
    for pattern in _word_patterns():
        match = pattern.match(text, pos)
        if match and len(match.group()) > len(found):
            found = match.group()
    return found.split("\n")[0]


def _unexpected_character(text: str, pos: int, line: int, column: int, file: str,
                          allowed: set[str] | frozenset[str]) -> Diagnostic:
    """A character no word of the language starts with (`$`, `.` in `2.10`, an unclosed quote…)."""
    char = text[pos] if 0 <= pos < len(text) else ""
    span = Span(file, line, column, line, column + 1)
    hint = f"attendu ici : {_expected(allowed)}" if allowed else "vérifiez l'orthographe de cette ligne"
    if char in "\"«":
        end = text.find("\n", pos)
        span = Span(file, line, column, line, column + max(1, (end if end >= 0 else len(text)) - pos))
        closing = "»" if char == "«" else "\""
        return error("S002", f"le texte ouvert par « {char} » n'est pas refermé", span,
                     f"un texte s'écrit sur une seule ligne, entre guillemets : {char}…{closing}")
    if char == "$":
        hint = "les montants s'écrivent en euros, le symbole après le nombre : « 1,00 € »"
    elif char == "." and pos > 0 and text[pos - 1].isdigit():
        hint = "un nombre décimal s'écrit avec une virgule : « 2,10 € »"
    elif char == ",":
        hint = "un nombre décimal s'écrit avec une seule virgule : « 1,50 € »"
    elif char.isspace():  # an espace insécable typed before « : », an em space pasted from a document
        hint = f"remplacez cette espace ({describe(char)}) par une espace ordinaire"
    elif char.isdigit():  # ٦٥٠, ６５０: read as no number at all, as in a situation (D002)
        hint = f"écrivez les nombres et les dates avec les chiffres 0 à 9 (ici : {describe(char)})"
    return error("S002", f"caractère inattendu « {char} »", span, hint)


def _syntax_diagnostic(exc: UnexpectedInput, text: str, file: str) -> Diagnostic:
    line = exc.line if exc.line and exc.line > 0 else text.count("\n")
    column = exc.column if exc.column and exc.column > 0 else 1
    if isinstance(exc, UnexpectedCharacters):
        return _unexpected_character(text, exc.pos_in_stream or 0, line, column, file, exc.allowed)
    if isinstance(exc, UnexpectedEOF):  # pragma: no cover - the LALR parser reports the end as a token
        span = Span(file, line, 1, line, 2)
        return error("S003", "le fichier s'arrête au milieu d'une ligne", span,
                     f"attendu : {_expected({str(e) for e in exc.expected})}")
    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    if token.type == "SOURCE_TEXT" and "SOURCE_TEXT" not in exc.expected:
        # The catch-all terminal (the free text after a declaration's comma) swallowed the rest of the line:
        # report the word of the language found there, or the character no word starts with.
        word = _word_at(text, token.start_pos or 0)
        if not word:
            return _unexpected_character(text, token.start_pos or 0, line, column, file, exc.expected)
        token = Token("WORD", word, token.start_pos, line, column)
    width = max(1, len(str(token).split("\n")[0])) if token.type != "_NL" else 1
    span = Span(file, line, column, line, column + width)
    if token.type == "$END":
        return error("S003", "le fichier s'arrête trop tôt", span,
                     f"attendu : {_expected(exc.expected)}")
    message = f"{_describe(token)} inattendu ici"
    hint = f"attendu : {_expected(exc.expected)}"
    if token.type == "_NL":
        message = "la ligne s'arrête trop tôt"
    elif str(token) in ("x", "X") and "MUL_OP" in exc.expected:
        hint = "pour multiplier, écrivez « × » ou « * » : « tarif_base × 50 % »"
    elif any(char.isdigit() and not char.isascii() for char in str(token)):  # ٦٥٠, ６５０: as in a situation (D002)
        hint = "écrivez les nombres et les dates avec les chiffres 0 à 9"
    else:
        hint = _known_mistake(text.split("\n")[line - 1], str(token), exc.expected) or hint
    return error("S001", message, span, hint)


def _known_mistake(line: str, word: str, expected: set[str] | frozenset[str]) -> str | None:
    """Hints for the mistakes policy writers make most, recognised from the line's words."""
    after_colon = line.partition(":")[2].split()
    if after_colon and after_colon[0] in ("si", "sinon", "alors"):
        return ("les cas s'écrivent sur les lignes suivantes : « nom : » seul sur sa ligne, puis "
                "« si condition : valeur », « sinon si … : … », « sinon : valeur »")
    if word == "alors":
        return "« alors » ne s'écrit pas : « si condition : valeur »"
    if word in ("arrondi", "au", "à") and "COMMA" in expected:
        return "ajoutez une virgule avant « arrondi », « au minimum », « au plus » ou « à défaut »"
    if word == "au" and "au maximum" in line:
        return "un plafond s'écrit « au plus 6,50 € » (et un plancher « au minimum 0,80 € »)"
    return None
