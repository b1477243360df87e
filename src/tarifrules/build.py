"""Lark parse tree → AST (`nodes`), one explicit method per grammar rule.

Values are converted here (French numbers, dates) so that later passes only see
typed nodes. A date that does not exist (31/02/2025) is reported as a diagnostic
collected in `problems` rather than raised, so the whole file is still built.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any

from lark import Token, Transformer, v_args
from lark.tree import Meta

from . import nodes as n
from .diagnostics import Diagnostic, error
from .span import NO_SPAN, Span
from .values import HUNDRED, WIDE, parse_date, parse_french_number

_STEPS = {
    "au centime": Decimal("0.01"),
    "à l'euro": Decimal(1),
    "à l'unité": Decimal(1),
    "au dixième": Decimal("0.1"),
}


def _words(text: str) -> str:
    """Collapse runs of blanks and typographic apostrophes in a multi-word keyword."""
    return " ".join(re.sub(r"['’]\s*", "'", text).split())


class AstBuilder(Transformer[Token, n.Program]):
    def __init__(self, file: str):
        super().__init__()
        self.file = file
        self.problems: list[Diagnostic] = []

    # ------------------------------------------------------------- helpers
    def _span(self, meta: Meta) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.file, 1, 1, 1, 1)
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok(self, token: Token) -> Span:
        return Span(
            self.file,
            token.line or 1,
            token.column or 1,
            token.end_line or token.line or 1,
            token.end_column or token.column or 1,
        )

    def _date(self, token: Token) -> datetime.date:
        value = parse_date(str(token))
        if value is None:
            self.problems.append(
                error(
                    "S005",
                    f"la date « {token} » n'existe pas",
                    self._tok(token),
                    "écrivez une date réelle au format JJ/MM/AAAA, par exemple 01/09/2025",
                )
            )
            return datetime.date(1, 1, 1)
        return value

    @staticmethod
    def _text(token: Token) -> str:
        return str(token)[1:-1].strip()

    # ------------------------------------------------------------- file
    @v_args(meta=True)
    def start(self, meta: Meta, children: list[Any]) -> n.Program:
        header = children[0]
        data: list[n.Declaration] = []
        outputs: list[n.Declaration] = []
        articles: list[n.Article] = []
        examples: list[n.Example] = []
        spans: dict[str, Span] = {}
        for child in children[1:]:
            if isinstance(child, tuple) and child[0] == "données":
                data.extend(child[1])
                spans.setdefault("données", child[2])
            elif isinstance(child, tuple) and child[0] == "résultats":
                outputs.extend(child[1])
                spans.setdefault("résultats", child[2])
            elif isinstance(child, n.Article):
                articles.append(child)
            elif isinstance(child, n.Example):
                examples.append(child)
        return n.Program(
            header, tuple(data), tuple(outputs), tuple(articles), tuple(examples),
            file=self.file, span=self._span(meta),
            data_span=spans.get("données", NO_SPAN), outputs_span=spans.get("résultats", NO_SPAN),
        )

    @v_args(meta=True)
    def header(self, meta: Meta, children: list[Any]) -> n.Header:
        items = sorted(children[1:], key=lambda item: n.HEADER_ORDER.index(item.key))  # stable: duplicates kept
        return n.Header(self._text(children[0]), tuple(items), self._span(meta))

    @v_args(meta=True)
    def h_collectivite(self, meta: Meta, c: list[Token]) -> n.HeaderItem:
        return n.HeaderItem("collectivité", self._text(c[0]), self._span(meta))

    @v_args(meta=True)
    def h_numero(self, meta: Meta, c: list[Token]) -> n.HeaderItem:
        return n.HeaderItem("numéro", str(c[0]), self._span(meta))

    @v_args(meta=True)
    def h_adoption(self, meta: Meta, c: list[Token]) -> n.HeaderItem:
        return n.HeaderItem("adoptée", self._date(c[0]), self._span(meta))

    @v_args(meta=True)
    def h_validity(self, meta: Meta, c: list[Token]) -> n.HeaderItem:
        return n.HeaderItem("applicable", (self._date(c[0]), self._date(c[1])), self._span(meta))

    @v_args(meta=True)
    def h_validity_open(self, meta: Meta, c: list[Token]) -> n.HeaderItem:
        return n.HeaderItem("applicable", (self._date(c[1]), None), self._span(meta))

    @v_args(meta=True)
    def h_fondement(self, meta: Meta, c: list[Token]) -> n.HeaderItem:
        return n.HeaderItem("fondement", self._text(c[0]), self._span(meta))

    @v_args(meta=True)
    def h_source(self, meta: Meta, c: list[Token]) -> n.HeaderItem:
        return n.HeaderItem("source", self._text(c[0]), self._span(meta))

    @v_args(meta=True)
    def h_note(self, meta: Meta, c: list[Token]) -> n.HeaderItem:
        return n.HeaderItem("note", self._text(c[0]), self._span(meta))

    # ------------------------------------------------------------- declarations
    @v_args(meta=True)
    def data_section(self, meta: Meta, c: list[n.Declaration]) -> tuple[str, list[n.Declaration], Span]:
        return ("données", c, self._span(meta))

    @v_args(meta=True)
    def outputs_section(self, meta: Meta, c: list[n.Declaration]) -> tuple[str, list[n.Declaration], Span]:
        return ("résultats", c, self._span(meta))

    @v_args(meta=True)
    def data_decl(self, meta: Meta, c: list[Any]) -> n.Declaration:
        name, spec = c[0], c[1]
        description = None
        limits = []
        for item in c[2:]:
            if isinstance(item, Token) and item.type == "SOURCE_TEXT":
                description = " ".join(str(item).split()) or None
            else:
                limits.append(item)
        for kind, value in limits:
            spec = _replace_limit(spec, kind, value)
        return n.Declaration(str(name), spec, description, self._span(meta))

    @v_args(meta=True)
    def t_montant(self, meta: Meta, c: list[Token]) -> n.TypeSpec:
        granularity = n.Granularity.CENTIME
        if len(c) > 1:
            granularity = n.Granularity(_words(str(c[1])))
        return n.TypeSpec(n.Kind.MONTANT, granularity, span=self._span(meta))

    @v_args(meta=True)
    def t_simple(self, meta: Meta, c: list[Token]) -> n.TypeSpec:
        kind = n.Kind(str(c[0]))
        granularity = {
            n.Kind.NOMBRE: n.Granularity.ENTIER,
            n.Kind.DECIMAL: n.Granularity.CONTINU,
            n.Kind.TAUX: n.Granularity.CONTINU,
        }.get(kind)
        return n.TypeSpec(kind, granularity, span=self._span(meta))

    @v_args(meta=True)
    def t_enum(self, meta: Meta, c: list[Token]) -> n.TypeSpec:
        return n.TypeSpec(n.Kind.ENUM, choices=tuple(self._choice(t) for t in c), span=self._span(meta))

    def domain_min(self, c: list[Any]) -> tuple[str, n.Number]:
        return ("minimum", c[1])

    def domain_max(self, c: list[Any]) -> tuple[str, n.Number]:
        return ("maximum", c[1])

    def _choice(self, token: Token) -> str:
        return self._text(token) if token.type == "STRING" else str(token)

    # ------------------------------------------------------------- articles
    @v_args(meta=True)
    def article(self, meta: Meta, c: list[Any]) -> n.Article:
        number = _words(str(c[0]))
        title = None
        rest = c[1:]
        if rest and isinstance(rest[0], Token):
            title = self._text(rest[0])
            rest = rest[1:]
        return n.Article(number, title, tuple(rest), self._span(meta))

    @v_args(meta=True)
    def definition(self, meta: Meta, c: list[Any]) -> n.Definition:
        name: Token = c[0]
        body = c[1]
        unless: list[n.Unless] = []
        only_if = None
        derogates: list[str] = []
        clause_spans: dict[str, Span] = {}
        for clause in c[2:]:
            if isinstance(clause, n.Unless):
                unless.append(clause)
            elif isinstance(clause, tuple) and clause[0] == "si":
                only_if = clause[1] if only_if is None else n.And(only_if, clause[1], clause[1].span)
                clause_spans.setdefault("si", clause[2])
            elif isinstance(clause, tuple) and clause[0] == "dérogation":
                derogates.extend(clause[1])
                clause_spans.setdefault("dérogation", clause[2])
        return n.Definition(
            str(name), body, tuple(unless), only_if, tuple(derogates),
            self._span(meta), self._tok(name),
            only_if_span=clause_spans.get("si", NO_SPAN),
            derogation_span=clause_spans.get("dérogation", NO_SPAN),
        )

    def body_expr(self, c: list[Any]) -> n.Expr:
        return c[0]  # type: ignore[no-any-return]

    @v_args(meta=True)
    def body_grid(self, meta: Meta, c: list[Any]) -> n.Grid:
        return n.Grid(c[0], tuple(c[1:]), self._span(meta))

    @v_args(meta=True)
    def body_cases(self, meta: Meta, c: list[n.Case]) -> n.Cases:
        return n.Cases(tuple(c), self._span(meta))

    @v_args(meta=True)
    def first_case(self, meta: Meta, c: list[Any]) -> n.Case:
        return n.Case(c[0], c[1], self._span(meta))

    other_case = first_case

    @v_args(meta=True)
    def last_case(self, meta: Meta, c: list[Any]) -> n.Case:
        return n.Case(None, c[0], self._span(meta))

    @v_args(meta=True)
    def grid_row(self, meta: Meta, c: list[Any]) -> n.GridRow:
        form, lower, upper = c[0]
        return n.GridRow(form, lower, upper, c[1], self._span(meta))

    # bounds: each returns (form, lower, upper)
    def _bound(self, number: n.Number, word: Token | None, implicit: bool | None = None) -> n.Bound:
        if word is not None:
            included = str(word).startswith("inclu")
            return n.Bound(number, included, True, number.span.to(self._tok(word)))
        return n.Bound(number, implicit, False, number.span)

    def b_range(self, c: list[Any]) -> tuple[n.BoundForm, n.Bound, n.Bound]:
        low_word = c[1] if isinstance(c[1], Token) else None
        rest = c[2:] if low_word is not None else c[1:]
        lower = self._bound(c[0], low_word, implicit=True)  # « de 400 € » includes 400 €
        upper = self._bound(rest[0], rest[1] if len(rest) > 1 else None)
        return (n.BoundForm.RANGE, lower, upper)

    def b_up_to(self, c: list[Any]) -> tuple[n.BoundForm, None, n.Bound]:
        return (n.BoundForm.UP_TO, None, self._bound(c[1], c[2] if len(c) > 2 else None))

    def b_below(self, c: list[Any]) -> tuple[n.BoundForm, None, n.Bound]:
        return (n.BoundForm.BELOW, None, self._bound(c[1], None, implicit=False))

    def b_from(self, c: list[Any]) -> tuple[n.BoundForm, n.Bound, None]:
        return (n.BoundForm.FROM, self._bound(c[1], None, implicit=True), None)

    def b_above(self, c: list[Any]) -> tuple[n.BoundForm, n.Bound, None]:
        return (n.BoundForm.ABOVE, self._bound(c[1], None, implicit=False), None)

    def b_beyond(self, c: list[Any]) -> tuple[n.BoundForm, n.Bound, None]:
        return (n.BoundForm.BEYOND, self._bound(c[1], None, implicit=False), None)

    def b_default(self, c: list[Any]) -> tuple[n.BoundForm, None, None]:
        return (n.BoundForm.DEFAULT, None, None)

    @v_args(meta=True)
    def c_unless(self, meta: Meta, c: list[Any]) -> n.Unless:
        return n.Unless(c[1], c[2], self._span(meta))

    @v_args(meta=True)
    def c_only_if(self, meta: Meta, c: list[Any]) -> tuple[str, n.Expr, Span]:
        return ("si", c[0], self._span(meta))

    @v_args(meta=True)
    def c_derogation(self, meta: Meta, c: list[Token]) -> tuple[str, list[str], Span]:
        return ("dérogation", [_words(str(t)) for t in c[1:]], self._span(meta))

    # ------------------------------------------------------------- expressions
    @v_args(meta=True)
    def chain(self, meta: Meta, c: list[Any]) -> n.Expr:
        base, modifier = c
        kind, args = modifier
        span = self._span(meta)
        if kind == "floor":
            return n.Limit("minimum", base, args, span)
        if kind == "ceiling":
            return n.Limit("maximum", base, args, span)
        if kind == "default":
            return n.Default(base, args, span)
        step, direction, step_text, literal = args
        return n.Round(base, step, direction, step_text, literal, span)

    def m_floor(self, c: list[Any]) -> tuple[str, n.Expr]:
        return ("floor", c[1])

    def m_ceiling(self, c: list[Any]) -> tuple[str, n.Expr]:
        return ("ceiling", c[1])

    def m_default(self, c: list[Any]) -> tuple[str, n.Expr]:
        return ("default", c[1])

    def m_round(self, c: list[Token]) -> tuple[str, tuple[Any, ...]]:
        step_text = _words(str(c[0]))
        return ("round", (_STEPS[step_text], n.Direction(_words(str(c[1]))), step_text, None))

    def m_round_multiple(self, c: list[Any]) -> tuple[str, tuple[Any, ...]]:
        literal: n.Number = c[1]
        step = WIDE.divide(literal.value, HUNDRED) if literal.unit is n.Unit.PERCENT else literal.value
        return ("round", (step, n.Direction(_words(str(c[2]))), None, literal))

    @v_args(meta=True)
    def default(self, meta: Meta, c: list[Any]) -> n.Default:
        return n.Default(c[0], c[2], self._span(meta))

    @v_args(meta=True)
    def or_(self, meta: Meta, c: list[Any]) -> n.Or:
        return n.Or(c[0], c[1], self._span(meta))

    @v_args(meta=True)
    def and_(self, meta: Meta, c: list[Any]) -> n.And:
        return n.And(c[0], c[1], self._span(meta))

    @v_args(meta=True)
    def not_(self, meta: Meta, c: list[Any]) -> n.Not:
        return n.Not(c[0], self._span(meta))

    @v_args(meta=True)
    def compare(self, meta: Meta, c: list[Any]) -> n.Compare:
        op = {"<=": "≤", ">=": "≥", "!=": "≠"}.get(str(c[1]), str(c[1]))
        return n.Compare(op, c[0], c[2], self._span(meta))

    @v_args(meta=True)
    def is_one_of(self, meta: Meta, c: list[Any]) -> n.IsOneOf:
        return n.IsOneOf(c[0], tuple(self._choice(t) for t in c[1:]), self._span(meta))

    @v_args(meta=True)
    def is_known(self, meta: Meta, c: list[Any]) -> n.IsKnown:
        return n.IsKnown(c[0], True, self._span(meta))

    @v_args(meta=True)
    def is_unknown(self, meta: Meta, c: list[Any]) -> n.IsKnown:
        return n.IsKnown(c[0], False, self._span(meta))

    @v_args(meta=True)
    def arith(self, meta: Meta, c: list[Any]) -> n.Arith:
        op = {"-": "−", "*": "×", "÷": "/"}.get(str(c[1]), str(c[1]))
        return n.Arith(op, c[0], c[2], self._span(meta))

    def ref(self, c: list[Token]) -> n.Ref:
        return n.Ref(str(c[0]), self._tok(c[0]))

    @v_args(meta=True)
    def minimum(self, meta: Meta, c: list[Any]) -> n.Extremum:
        return n.Extremum("minimum", tuple(c[1:]), self._span(meta))

    @v_args(meta=True)
    def maximum(self, meta: Meta, c: list[Any]) -> n.Extremum:
        return n.Extremum("maximum", tuple(c[1:]), self._span(meta))

    @v_args(meta=True)
    def number(self, meta: Meta, c: list[Token]) -> n.Number:
        value = parse_french_number(str(c[0]))
        assert value is not None  # the NUMBER terminal only matches numbers
        unit = n.Unit(str(c[1])) if len(c) > 1 and c[1] is not None else n.Unit.NONE
        return n.Number(value, unit, self._span(meta))

    @v_args(meta=True)
    def date(self, meta: Meta, c: list[Token]) -> n.DateLiteral:
        return n.DateLiteral(self._date(c[0]), self._span(meta))

    @v_args(meta=True)
    def yes(self, meta: Meta, c: list[Token]) -> n.Bool:
        return n.Bool(True, self._span(meta))

    @v_args(meta=True)
    def no(self, meta: Meta, c: list[Token]) -> n.Bool:
        return n.Bool(False, self._span(meta))

    # ------------------------------------------------------------- examples
    @v_args(meta=True)
    def example(self, meta: Meta, c: list[Any]) -> n.Example:
        return n.Example(self._text(c[0]), tuple(c[1:]), self._span(meta))

    @v_args(meta=True)
    def ex_data(self, meta: Meta, c: list[n.Assignment]) -> n.ExampleData:
        return n.ExampleData(tuple(c), self._span(meta))

    @v_args(meta=True)
    def assignment(self, meta: Meta, c: list[Any]) -> n.Assignment:
        return n.Assignment(str(c[0]), c[1], self._span(meta))

    @v_args(meta=True)
    def ex_expect(self, meta: Meta, c: list[Any]) -> n.Expectation:
        return n.Expectation(str(c[0]), c[1], self._span(meta))

    @v_args(meta=True)
    def ex_expect_unknown(self, meta: Meta, c: list[Any]) -> n.Expectation:
        return n.Expectation(str(c[0]), None, self._span(meta))

    @v_args(meta=True)
    def ex_date(self, meta: Meta, c: list[Token]) -> n.ExampleDate:
        return n.ExampleDate(self._date(c[0]), self._span(meta))

    def ex_word(self, c: list[Token]) -> n.Word:
        token = c[0]
        text = self._text(token) if token.type == "STRING" else str(token)
        return n.Word(text, self._tok(token))

    @v_args(meta=True)
    def ex_unknown(self, meta: Meta, c: list[Token]) -> n.UnknownValue:
        return n.UnknownValue(self._span(meta))


def _replace_limit(spec: n.TypeSpec, kind: str, value: n.Number) -> n.TypeSpec:
    from dataclasses import replace

    return replace(spec, minimum=value) if kind == "minimum" else replace(spec, maximum=value)
