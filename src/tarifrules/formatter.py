"""AST → canonical `.tarif` text (`tarifrules fmt`).

The formatter reads the AST only, so two files with equal ASTs format identically and
`parse(format_program(p)) == p`. The layout is fixed: header, `données`, `résultats`,
articles, examples, separated by blank lines, two spaces per level, grid rows aligned on
their `:` the way délibération tables read. Numbers keep their written decimal places.

Comments are not in the AST proper: `Program.comments` lists them with their source line.
Each printed line remembers the source line of the node it prints; a trailing comment goes
back on the line printed for its source line, a full-line comment goes just before the line
printed for the next node in source order. On a formatted file the printed order is the
source order, so formatting again moves nothing.
"""

from __future__ import annotations

import bisect
import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from . import nodes as n
from .literals import bounds_text, date_text, literal_text
from .span import Span

__all__ = ["HEADER_ORDER", "format_program", "format_source"]

INDENT = "  "
HEADER_ORDER = n.HEADER_ORDER

# Expression precedence, low → high. CHAIN is a chain with modifiers (`x, au minimum y`),
# only written bare where the grammar accepts a chain, in parentheses elsewhere.
CHAIN, DEFAULT, OR, AND, NOT, COMPARISON, SUM, PRODUCT, ATOM = range(9)

_CANONICAL_OPERATORS = {"-": "−", "*": "×", "÷": "/", "<=": "≤", ">=": "≥", "!=": "≠"}
_BARE_CHOICE = re.compile(r"[^\W\d]\w*|\d+|\d+[^\W\d_]\w*")  # a name, an integer, `0bis`
_BARE_WORD = re.compile(r"[^\W\d]\w*|\d+[^\W\d_]\w*")
_KEYWORD_CHOICES = frozenset({"connu", "inconnu"})  # `x est connu` is not a list of values
_KEYWORD_WORDS = frozenset({"oui", "non", "inconnu"})  # literals in example values


@dataclass(frozen=True, slots=True)
class _Line:
    depth: int
    text: str  # "" for a blank line
    source: int | None = None  # source line of the node printed here, for comments
    width: int = 0  # trailing comments start after this many characters (aligned grid rows)


_BLANK = _Line(0, "")


def format_source(text: str, file: str = "<texte>") -> str:
    """Parse `.tarif` text and return it formatted; raises `TarifError` on a syntax error."""
    from .parser import parse  # (the grammar loads here: printing a program needs none)

    return format_program(parse(text, file))


def format_program(program: n.Program) -> str:
    """The canonical text of a program, with its comments put back."""
    lines = _with_comments(_program_lines(program), program.comments)
    return "".join(f"{INDENT * line.depth}{line.text}\n" if line.text else "\n" for line in lines)


# ------------------------------------------------------------------ layout


def _source(span: Span) -> int | None:
    return span.line if span.line > 0 else None


def _program_lines(program: n.Program) -> list[_Line]:
    blocks = [_header_lines(program.header)]
    if program.data:
        blocks.append(_declaration_lines("données", program.data, program.data_span))
    if program.outputs:
        blocks.append(_declaration_lines("résultats", program.outputs, program.outputs_span))
    blocks.extend(_article_lines(article) for article in program.articles)
    blocks.extend(_example_lines(example) for example in program.examples)
    lines: list[_Line] = []
    for block in blocks:
        if lines:
            lines.append(_BLANK)
        lines.extend(block)
    return lines


def _header_lines(header: n.Header) -> list[_Line]:
    items = header.items  # the builder keeps them in HEADER_ORDER
    return [
        _Line(0, f"délibération {_string(header.title)}", _source(header.span)),
        *(_Line(1, _header_item(item), _source(item.span)) for item in items),
    ]


def _header_item(item: n.HeaderItem) -> str:
    match item.key, item.value:
        case "adoptée", datetime.date() as day:
            return f"adoptée le {date_text(day)}"
        case "applicable", (datetime.date() as start, None):
            return f"applicable à partir du {date_text(start)}"
        case "applicable", (datetime.date() as start, datetime.date() as end):
            return f"applicable du {date_text(start)} au {date_text(end)}"
        case "numéro", str(reference):
            return f"numéro : {reference}"
        case key, str(text):
            return f"{key} : {_string(text)}"
    raise ValueError(f"élément d'en-tête inattendu : {item!r}")


def _declaration_lines(keyword: str, declarations: Sequence[n.Declaration], span: Span) -> list[_Line]:
    """A datum's granularity decides where a grid has gaps, so `données` always states it."""
    lines = [_Line(0, keyword, _source(span))]
    for declaration in declarations:
        text = f"{declaration.name} : {_type(declaration.type, keyword == 'données')}"
        if declaration.description:
            text += f", {declaration.description}"
        lines.append(_Line(1, text, _source(declaration.span)))
    return lines


def _type(spec: n.TypeSpec, granularity: bool) -> str:
    match spec.kind:
        case n.Kind.MONTANT if spec.granularity is n.Granularity.ENTIER:
            text = "montant entier"
        case n.Kind.MONTANT:
            text = "montant au centime" if granularity else "montant"
        case n.Kind.ENUM:
            text = f"parmi ({', '.join(_choice(choice) for choice in spec.choices)})"
        case kind:
            text = kind.value
    if spec.minimum is not None:
        text += f" au minimum {literal_text(spec.minimum)}"
    if spec.maximum is not None:
        text += f" au plus {literal_text(spec.maximum)}"
    return text


def _article_lines(article: n.Article) -> list[_Line]:
    title = f" {_string(article.title)}" if article.title is not None else ""
    lines = [_Line(0, f"article {article.number}{title}", _source(article.span))]
    for definition in article.definitions:
        lines.extend(_definition_lines(definition))
    return lines


def _definition_lines(definition: n.Definition) -> list[_Line]:
    head = f"{definition.name} :"
    source = _source(definition.span)
    match definition.body:
        case n.Grid(selector, rows):
            lines = [_Line(1, f"{head} grille selon {_expr(selector)}", source), *_grid_lines(rows)]
        case n.Cases(cases):
            lines = [_Line(1, head, source), *(_case_line(i, case) for i, case in enumerate(cases))]
        case body:
            lines = [_Line(1, f"{head} {_chain(body)}", source)]
    for unless in definition.unless:
        text = f"sauf si {_expr(unless.condition)} : {_chain(unless.value)}"
        lines.append(_Line(2, text, _source(unless.span)))
    if definition.only_if is not None:
        lines.append(_Line(2, f"si {_expr(definition.only_if)}", _source(definition.only_if_span)))
    if definition.derogates:
        text = "par dérogation à l'article " + " et ".join(definition.derogates)
        lines.append(_Line(2, text, _source(definition.derogation_span)))
    return lines


def _case_line(index: int, case: n.Case) -> _Line:
    if case.condition is None:
        text = f"sinon : {_chain(case.value)}"
    else:
        keyword = "si" if index == 0 else "sinon si"
        text = f"{keyword} {_expr(case.condition)} : {_chain(case.value)}"
    return _Line(2, text, _source(case.span))


def _grid_lines(rows: Sequence[n.GridRow]) -> list[_Line]:
    bounds = [bounds_text(row) for row in rows]
    width = max(len(bound) for bound in bounds)
    texts = [f"{bound.ljust(width)} : {_chain(row.value)}" for bound, row in zip(bounds, rows, strict=True)]
    comments_at = max(len(text) for text in texts)
    return [_Line(2, text, _source(row.span), comments_at) for text, row in zip(texts, rows, strict=True)]


def _example_lines(example: n.Example) -> list[_Line]:
    lines = [_Line(0, f"exemple {_string(example.title)}", _source(example.span))]
    for line in example.lines:
        lines.append(_Line(1, _example_line(line), _source(line.span)))
    return lines


def _example_line(line: n.ExampleLine) -> str:
    match line:
        case n.ExampleData(assignments):
            return ", ".join(f"{a.name} = {_example_value(a.value)}" for a in assignments)
        case n.Expectation(name, None):
            return f"attendu {name} indéterminé"
        case n.Expectation(name, value):
            return f"attendu {name} = {_example_value(value)}"
        case n.ExampleDate(day):
            return f"évalué le {date_text(day)}"
    raise ValueError(f"ligne d'exemple inattendue : {line!r}")


def _example_value(value: n.ExampleValue | None) -> str:
    match value:
        case n.Word(text):
            bare = _BARE_WORD.fullmatch(text) and text not in _KEYWORD_WORDS
            return text if bare else _string(text)
        case n.UnknownValue():
            return "inconnu"
        case n.Number() | n.Bool() | n.DateLiteral():
            return literal_text(value)
    raise ValueError(f"valeur d'exemple inattendue : {value!r}")


# ------------------------------------------------------------------ expressions


def _chain(expr: n.Expr) -> str:
    """An expression at a chain position (a definition, a grid row, a case or `sauf si` value,
    the base of a modifier): modifiers need no parentheses, `à défaut` is one of them."""
    return _render(expr, before_ou=False, chain=True)


def _expr(expr: n.Expr, context: int = DEFAULT, *, operand: bool = False, before_ou: bool = False) -> str:
    """`expr` where the grammar accepts precedence `context` or higher.

    `operand`: it is an operand of an operator, so `le minimum de …` needs parentheses (its
    last argument would swallow what follows). `before_ou`: an `ou` may follow, which
    `x est a` would take for one more accepted value.
    """
    match expr:
        case n.Extremum():
            wrap = operand
        case n.IsOneOf():
            wrap = before_ou or context > COMPARISON
        case _:
            wrap = _precedence(expr) < context
    return f"({_render(expr, before_ou=False)})" if wrap else _render(expr, before_ou)


def _precedence(expr: n.Expr) -> int:
    match expr:
        case n.Number() | n.Bool() | n.DateLiteral() | n.Ref() | n.Extremum():
            return ATOM
        case n.Arith(op):
            return SUM if _operator(op) in ("+", "−") else PRODUCT
        case n.Compare() | n.IsOneOf() | n.IsKnown():
            return COMPARISON
        case n.Not():
            return NOT
        case n.And():
            return AND
        case n.Or():
            return OR
        case n.Default(inner, fallback) if min(_precedence(inner), _precedence(fallback)) >= OR:
            return DEFAULT  # `x à défaut y`
    return CHAIN  # Limit, Round, and a Default written as a modifier: `x, à défaut y`


def _render(expr: n.Expr, before_ou: bool, chain: bool = False) -> str:
    match expr:
        case n.Number() | n.Bool() | n.DateLiteral():
            return literal_text(expr)
        case n.Ref(name):
            return name
        case n.Arith(op, left, right):
            level = _precedence(expr)
            return f"{_expr(left, level, operand=True)} {_operator(op)} {_expr(right, level + 1, operand=True)}"
        case n.Compare(op, left, right):
            return f"{_expr(left, SUM, operand=True)} {_operator(op)} {_expr(right, SUM, operand=True)}"
        case n.IsOneOf(subject, choices):
            return f"{_expr(subject, SUM, operand=True)} est {' ou '.join(_choice(c) for c in choices)}"
        case n.IsKnown(subject, known):
            return f"{_expr(subject, SUM, operand=True)} est {'connu' if known else 'inconnu'}"
        case n.Not(inner):
            return f"non {_expr(inner, NOT, operand=True, before_ou=before_ou)}"
        case n.And(left, right):
            return f"{_expr(left, AND, operand=True)} et {_expr(right, NOT, operand=True, before_ou=before_ou)}"
        case n.Or(left, right):
            return (f"{_expr(left, OR, operand=True, before_ou=True)} ou "
                    f"{_expr(right, AND, operand=True, before_ou=before_ou)}")
        case n.Default(inner, fallback) if not chain and _precedence(expr) == DEFAULT:
            return (f"{_expr(inner, OR, operand=True)} à défaut "
                    f"{_expr(fallback, OR, operand=True, before_ou=before_ou)}")
        case n.Default(inner, fallback):
            return f"{_chain(inner)}, à défaut {_expr(fallback)}"
        case n.Extremum(kind, args):
            return f"le {kind} de " + " et ".join(_expr(arg, SUM, operand=True) for arg in args)
        case n.Limit(kind, inner, limit):
            return f"{_chain(inner)}, {'au minimum' if kind == 'minimum' else 'au plus'} {_expr(limit, SUM)}"
        case n.Round(inner, _, direction, step_text, step_literal):
            step = step_text if step_literal is None else f"au multiple de {literal_text(step_literal)}"
            return f"{_chain(inner)}, arrondi {step} {direction.value}"
    raise ValueError(f"expression inattendue : {expr!r}")


def _operator(op: str) -> str:
    return _CANONICAL_OPERATORS.get(op, op)


# ------------------------------------------------------------------ literals


def _string(text: str) -> str:
    return f"« {text} »" if '"' in text else f'"{text}"'


def _choice(text: str) -> str:
    bare = _BARE_CHOICE.fullmatch(text) and text not in _KEYWORD_CHOICES
    return text if bare else _string(text)


# ------------------------------------------------------------------ comments


@dataclass
class _Placement:
    """Where each comment goes: after a printed line, before one, or at the end of the file."""

    trailing: dict[int, str] = field(default_factory=dict)  # line index → comment
    before: dict[int, list[n.Comment]] = field(default_factory=dict)  # line index → comments
    at_end: list[n.Comment] = field(default_factory=list)


def _place(lines: list[_Line], comments: Iterable[n.Comment]) -> _Placement:
    first_at: dict[int, int] = {}  # source line → index of the first line printed for it
    for index, line in enumerate(lines):
        if line.source is not None:
            first_at.setdefault(line.source, index)
    sources = sorted(first_at)
    placement = _Placement()
    for comment in sorted(comments, key=lambda c: c.line):
        if comment.trailing and comment.line in first_at:
            placement.trailing[first_at[comment.line]] = comment.text
            continue
        position = bisect.bisect_right(sources, comment.line)  # the next node in source order
        if position == len(sources):
            placement.at_end.append(comment)
        else:
            placement.before.setdefault(first_at[sources[position]], []).append(comment)
    return placement


def _with_comments(lines: list[_Line], comments: Iterable[n.Comment]) -> list[_Line]:
    """Put comments back: trailing ones on their node's line, others before the next node."""
    placement = _place(lines, comments)
    result: list[_Line] = []
    for index, line in enumerate(lines):
        result.extend(_comment_block(placement.before.get(index, []), line.depth, line.source))
        if index in placement.trailing:
            text = f"{line.text.ljust(line.width)}  {placement.trailing[index]}"
            line = _Line(line.depth, text, line.source)
        result.append(line)
    if placement.at_end:
        last = max((line.source for line in lines if line.source is not None), default=0)
        if result and placement.at_end[0].line > last + 1:
            result.append(_BLANK)
        result.extend(_comment_block(placement.at_end, 0, None))
    return result


def _comment_block(comments: list[n.Comment], depth: int, next_source: int | None) -> list[_Line]:
    """Full-line comments; one blank line kept where the source had some after a comment."""
    block: list[_Line] = []
    for index, comment in enumerate(comments):
        block.append(_Line(depth, comment.text))
        next_line = comments[index + 1].line if index + 1 < len(comments) else next_source
        if next_line is not None and next_line > comment.line + 1:
            block.append(_BLANK)
    return block
