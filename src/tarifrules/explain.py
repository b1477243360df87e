"""Explanations and missing data, read from the trace of one evaluation.

The trace maps every node the evaluator actually visited to its value, so an
explanation only ever cites what was used: a branch not taken is not mentioned, and
the missing data of an unknown result are those found on its path.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import nodes as n
from .checks.types import Kinds
from .evaluate import NOT_APPLICABLE
from .nodes import UNIT_OF_KIND
from .symbols import Piece, Symbols, data_references, ordered_pieces, references
from .values import UNKNOWN, spell, spell_written

if TYPE_CHECKING:
    from .ruleset import Evaluation

_NOT_VISITED = object()


# ------------------------------------------------------------------ missing data


def missing_data(symbols: Symbols, trace: dict[Any, Any], name: str) -> set[str]:
    """Data whose absence left `name` unknown: the unknown data found by following, from
    the result, only the nodes that were evaluated and came out unknown."""
    found: set[str] = set()
    seen: set[str] = set()

    def visit_name(target: str) -> None:
        if target not in seen:
            seen.add(target)
            for piece in symbols.pieces.get(target, ()):
                for part in n.definition_parts(piece.definition):
                    visit(part)

    def visit(node: n.Expr | n.Grid | n.Cases) -> None:
        if trace.get(id(node), _NOT_VISITED) is not UNKNOWN:
            return
        if isinstance(node, n.Ref):
            if node.name in symbols.data:
                found.add(node.name)
            else:
                visit_name(node.name)
            return
        for child in n.children(node):
            visit(child)

    visit_name(name)
    return found


# ------------------------------------------------------------------ explanation


@dataclass(frozen=True)
class Step:
    article: str
    title: str | None
    name: str
    text: str
    value: str

    def to_json(self) -> dict[str, Any]:
        return {"article": self.article, "title": self.title, "name": self.name, "text": self.text,
                "value": self.value}

    def sentence(self) -> str:
        title = f" « {self.title} »" if self.title else ""
        return f"Article {self.article}{title} : {self.text}"


@dataclass(frozen=True)
class OutputExplanation:
    name: str
    status: str
    display: str
    steps: tuple[Step, ...]
    missing: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Explanation:
    """`str(explanation)` is the French text; `to_json()` the structured form."""

    file: str
    date: datetime.date
    outputs: tuple[OutputExplanation, ...]
    set_aside: tuple[str, ...] = ()
    sources: tuple[tuple[str, str, str], ...] = ()  # (datum, value as written, where it comes from)

    def __str__(self) -> str:
        lines = []
        for output in self.outputs:
            lines.append(f"{output.name} = {output.display}")
            lines.extend(f"  {step.sentence()}" for step in output.steps)
            if output.missing:
                lines.append(f"  Manque pour conclure : {', '.join(output.missing)}.")
        for name in self.set_aside:
            lines.append(f"« {name} » : une réponse négative de l'Éducation nationale n'est pas fiable avant "
                         "mi-octobre ; elle a été lue comme inconnue.")
        if self.sources:
            lines.append("Données utilisées :")
            lines.extend(f"  {datum} = {value}, {source}" for datum, value, source in self.sources)
        return "\n".join(lines)

    def sources_json(self) -> list[dict[str, str]]:
        return [{"datum": datum, "value": value, "source": source} for datum, value, source in self.sources]

    def to_json(self) -> list[dict[str, Any]]:
        return [
            {"output": o.name, "status": o.status, "display": o.display,
             "steps": [s.to_json() for s in o.steps], "missing": list(o.missing)}
            for o in self.outputs
        ]


@dataclass(frozen=True)
class _Rule:
    """A definition of a name as explaining it needs it, whatever the household."""

    piece: Piece
    parts: tuple[n.Expr | n.Grid | n.Cases, ...]  # `si`, `sauf si` lines, body (`n.definition_parts`)
    named: tuple[tuple[int, str], ...]  # references to names defined by rules: (node identity, name)


class Skeleton:
    """What explaining a household needs that no household changes, built once per rule file
    (`RuleSet.skeleton`): the definitions of each name in priority order, the names each one
    refers to, every expression and grid row as written. Read-only once built."""

    def __init__(self, symbols: Symbols, kinds: Kinds):
        self.symbols = symbols
        self.kinds = kinds
        self.rules = {name: tuple(_rule(symbols, piece) for piece in ordered_pieces(pieces))
                      for name, pieces in symbols.pieces.items()}
        nodes = [node for rules in self.rules.values() for rule in rules for part in rule.parts
                 for node in n.walk(part)]
        printer = _Printer(_Explainer(self, {}), substitute=False)  # as written: reads no value, no trace
        self.written = {id(node): printer.expr(node, 0) for node in nodes if not isinstance(node, (n.Grid, n.Cases))}
        self.labels = {id(row): _row_label(row) for node in nodes if isinstance(node, n.Grid) for row in node.rows
                       if row.form is not n.BoundForm.DEFAULT}


def _rule(symbols: Symbols, piece: Piece) -> _Rule:
    parts = n.definition_parts(piece.definition)
    named = tuple((id(ref), ref.name) for part in parts for ref in references(part) if ref.name in symbols.pieces)
    return _Rule(piece, parts, named)


class _Explainer:
    def __init__(self, skeleton: Skeleton, trace: dict[Any, Any]):
        self.skeleton = skeleton
        self.symbols = skeleton.symbols
        self.trace = trace
        self.kinds = skeleton.kinds
        self.steps: list[Step] = []
        self.done: set[str] = set()

    # -------------------------------------------------------------- values
    def value_of(self, node: Any) -> Any:
        return self.trace.get(id(node), _NOT_VISITED)

    def show(self, value: Any, node: Any) -> str:
        if value is UNKNOWN or value is _NOT_VISITED:
            return "inconnu"
        if value is NOT_APPLICABLE:
            return "sans valeur"
        kind = self.kinds.names.get(node) if isinstance(node, str) else self.kinds.nodes.get(id(node))
        return spell(value, UNIT_OF_KIND.get(kind) if kind else None, whole_euros=self._whole_euros(node))

    def show_result(self, value: Any, name: str) -> str:
        """The value of a defined name: « indéterminé » rather than « inconnu » (a datum's word)."""
        return "indéterminé" if value is UNKNOWN else self.show(value, name)

    def _whole_euros(self, node: Any) -> bool:
        declaration = self.symbols.data.get(node.name) if isinstance(node, n.Ref) else None
        return declaration is not None and declaration.type.granularity is n.Granularity.ENTIER

    # -------------------------------------------------------------- text of expressions
    def text(self, node: Any, substitute: bool, depth: int | None = None) -> str:
        if not substitute and depth is None:
            written = self.skeleton.written.get(id(node))
            if written is not None:
                return written
        return _Printer(self, substitute, depth).expr(node, 0)

    def formula(self, node: n.Expr) -> str:
        """From the written rule to its value, one step of computation at a time:

        `le maximum de tarif_base × 50 % et 1,00 € = le maximum de 2,10 € × 50 % et 1,00 €
        = le maximum de 1,05 € et 1,00 € = 1,05 €` (identical steps are not repeated).
        """
        if isinstance(node, (n.Number, n.Bool, n.DateLiteral)):
            return self.text(node, False)
        if _is_chain(node):
            return self._chain_formula(node)
        parts = [self.text(node, False), self.text(node, True), self.text(node, True, depth=1),
                 self.show(self.value_of(node), node)]
        kept: list[str] = []
        for part in parts:
            if not kept or kept[-1] != part:
                kept.append(part)
        return " = ".join(kept)

    def _chain_formula(self, node: n.Expr) -> str:
        """`190 € × 0,45 % = 0,855 €, au minimum 0,80 € → 0,855 €, …, arrondi … → 0,86 €`."""
        modifiers: list[n.Limit | n.Round | n.Default] = []
        base: n.Expr = node
        while _is_chain(base):
            assert isinstance(base, (n.Limit, n.Round, n.Default))
            modifiers.append(base)
            base = base.expr
        text = self.formula(base)
        for modifier in reversed(modifiers):
            result = self.show(self.value_of(modifier), modifier)
            match modifier:
                case n.Limit(kind=kind, limit=limit):
                    word = "au minimum" if kind == "minimum" else "au plus"
                    text += f", {word} {self.text(limit, True)} → {result}"
                case n.Round(direction=direction, step_text=step_text, step_literal=literal):
                    step = step_text or f"au multiple de {self.text(literal, False)}"
                    text += f", arrondi {step} {direction.value} → {result}"
                case n.Default(expr=inner, fallback=fallback) if self.value_of(inner) is UNKNOWN:
                    text += f", à défaut {self.text(fallback, True)} → {result}"
        return text

    # -------------------------------------------------------------- names
    def explain_name(self, name: str) -> None:
        if name in self.done or name in self.symbols.data:
            return
        self.done.add(name)
        rules = self.skeleton.rules[name]
        value = self.trace.get(("nom", name), _NOT_VISITED)
        used = [rule for rule in rules if self._visited(rule)]
        for rule in used:
            for dependency in self._dependencies(rule):
                self.explain_name(dependency)
        applied = self._applied(rules)
        for piece in (rule.piece for rule in used):
            condition = piece.definition.only_if
            if condition is not None and piece is not applied:
                verdict = self.show(self.value_of(condition), condition)
                self._add(piece, name, f"{name} : condition « {self.text(condition, False)} » : {verdict}",
                          "")
        if applied is not None:
            self._add(applied, name, f"{name} : {self._piece_text(applied)}", self.show_result(value, name))
        elif used and value is UNKNOWN:
            self._add(used[-1].piece, name, f"{name} : indéterminé (les règles applicables donnent des valeurs "
                      "différentes selon les données manquantes)", "indéterminé")
        elif used:
            self._add(used[-1].piece, name, f"{name} : {self.show_result(value, name)} (une condition est inconnue, "
                      "mais les règles qui peuvent s'appliquer donnent toutes cette valeur)",
                      self.show_result(value, name))

    def _visited(self, rule: _Rule) -> bool:
        return any(self.value_of(part) is not _NOT_VISITED for part in rule.parts)

    def _applied(self, rules: tuple[_Rule, ...]) -> Piece | None:
        for rule in rules:
            condition = rule.piece.definition.only_if
            if condition is None:
                return rule.piece if self._visited(rule) else None
            decided = self.value_of(condition)
            if decided is True:
                return rule.piece
            if decided is not False:
                return None
        return None

    def _dependencies(self, rule: _Rule) -> list[str]:
        names: list[str] = []
        for key, name in rule.named:
            if key in self.trace and name not in names:
                names.append(name)
        return names

    def _add(self, piece: Piece, name: str, text: str, value: str) -> None:
        self.steps.append(Step(piece.article.number, piece.article.title, name, text, value))

    def _piece_text(self, piece: Piece) -> str:
        definition = piece.definition
        parts = []
        if definition.only_if is not None:
            condition = definition.only_if
            parts.append(f"si {self.text(condition, False)} ({self.show(self.value_of(condition), condition)})")
        for unless in definition.unless:
            decided = self.value_of(unless.condition)
            if decided is _NOT_VISITED:
                continue
            verdict = self.show(decided, unless.condition)
            exception_value = self.value_of(unless.value)
            if decided is UNKNOWN and exception_value is not UNKNOWN and exception_value is not _NOT_VISITED:
                if exception_value == self.value_of(definition.body):
                    verdict += (" (mais avec ou sans cette exception, le résultat est le même : "
                                f"{self.show(exception_value, unless.value)})")
                else:
                    verdict += " (le résultat dépend de cette condition)"
            if decided is True:
                parts.append(f"sauf si {self.text(unless.condition, False)} ({verdict}) → {self.formula(unless.value)}")
                return ", ".join(parts)
            parts.append(f"sauf si {self.text(unless.condition, False)} : {verdict}")
        parts.append(self._body_text(definition.body))
        return " ; ".join(parts) if len(parts) > 1 and any(p.startswith("sauf") for p in parts) else ", ".join(parts)

    def _body_text(self, body: n.Body) -> str:
        match body:
            case n.Grid(selector=selector, rows=rows):
                selected = self.value_of(selector)
                shown = f"{self.text(selector, False)} = {self.show(selected, selector)}"
                for row in rows:
                    if self.value_of(row.value) is not _NOT_VISITED:
                        label = "à défaut" if row.form is n.BoundForm.DEFAULT else (
                            f"tranche « {self.skeleton.labels.get(id(row)) or _row_label(row)} »")
                        return f"{shown} → {label} → {self.formula(row.value)}"
                return f"{shown} → la grille n'a pas de ligne « à défaut » → indéterminé"
            case n.Cases(cases=cases):
                described = []
                for case in cases:
                    if case.condition is None:
                        if self.value_of(case.value) is not _NOT_VISITED:
                            described.append(f"sinon → {self.formula(case.value)}")
                        break
                    decided = self.value_of(case.condition)
                    if decided is _NOT_VISITED:
                        break
                    verdict = self.show(decided, case.condition)
                    if decided is True:
                        written = self.text(case.condition, False)
                        described.append(f"si {written} ({verdict}) → {self.formula(case.value)}")
                        break
                    described.append(f"si {self.text(case.condition, False)} : {verdict}")
                return " ; ".join(described)
            case _:
                return self.formula(body)


def _is_chain(node: object) -> bool:
    """A value followed by `, au minimum …`, `, au plus …`, `, arrondi …` or `, à défaut …`."""
    return isinstance(node, (n.Limit, n.Round)) or (
        isinstance(node, n.Default) and isinstance(node.expr, (n.Limit, n.Round)))


def _row_label(row: n.GridRow) -> str:
    from .checks.grids import _bound_text

    return _bound_text(row)




class _Printer:
    """Compact expression text for explanations, optionally with values in place of names."""

    def __init__(self, explainer: _Explainer, substitute: bool, depth: int | None = None):
        self.explainer = explainer
        self.substitute = substitute
        self.depth = depth  # below this depth, computed parts are shown by their value

    def expr(self, node: Any, outer: int) -> str:
        value = self.explainer.value_of(node)
        if self.depth is not None and self.depth <= 0 and value is not _NOT_VISITED and not isinstance(
            node, (n.Number, n.Bool, n.DateLiteral)
        ):
            return self.explainer.show(value, node)
        if self.depth is not None:
            self.depth -= 1
            try:
                text, own = self._expr(node)
            finally:
                self.depth += 1
        else:
            text, own = self._expr(node)
        return f"({text})" if own < outer else text

    def _expr(self, node: Any) -> tuple[str, int]:
        e = self.explainer
        match node:
            case n.Number(value=value, unit=unit):
                spelled = spell_written(value)
                return (f"{spelled} {unit.value}".strip(), 9)
            case n.Bool(value=value):
                return ("oui" if value else "non", 9)
            case n.DateLiteral(value=value):
                return (value.strftime("%d/%m/%Y"), 9)
            case n.Ref(name=name):
                if self.substitute and e.value_of(node) is not _NOT_VISITED:
                    return (e.show(e.value_of(node), node), 9)
                return (name, 9)
            case n.Arith(op=op, left=left, right=right):
                level = 6 if op in "+−" else 7
                return (f"{self.expr(left, level)} {op} {self.expr(right, level + 1)}", level)
            case n.Compare(op=op, left=left, right=right):
                return (f"{self.expr(left, 6)} {op} {self.expr(right, 6)}", 5)
            case n.IsOneOf(subject=subject, choices=choices):
                return (f"{self.expr(subject, 6)} est {' ou '.join(choices)}", 5)
            case n.IsKnown(subject=subject, known=known):
                return (f"{self.expr(subject, 6)} est {'connu' if known else 'inconnu'}", 5)
            case n.And(left=left, right=right):
                return (f"{self.expr(left, 3)} et {self.expr(right, 4)}", 3)
            case n.Or(left=left, right=right):
                return (f"{self.expr(left, 2)} ou {self.expr(right, 3)}", 2)
            case n.Not(operand=operand):
                return (f"non {self.expr(operand, 4)}", 4)
            case n.Default(expr=n.Limit() | n.Round() as chained, fallback=fallback):
                return (f"{self.expr(chained, 0)}, à défaut {self.expr(fallback, 6)}", 0)
            case n.Default(expr=expr, fallback=fallback):
                return (f"{self.expr(expr, 2)} à défaut {self.expr(fallback, 2)}", 1)
            case n.Extremum(kind=kind, args=args):
                return (f"le {kind} de " + " et ".join(self.expr(a, 6) for a in args), 8)
            case n.Limit(kind=kind, expr=expr, limit=limit):
                word = "au minimum" if kind == "minimum" else "au plus"
                return (f"{self.expr(expr, 0)}, {word} {self.expr(limit, 6)}", 0)
            case n.Round(expr=expr, direction=direction, step_text=step_text, step_literal=literal):
                step = step_text or f"au multiple de {self.expr(literal, 9)}"
                return (f"{self.expr(expr, 0)}, arrondi {step} {direction.value}", 0)
        return ("?", 9)  # pragma: no cover


def explain(evaluation: Evaluation, trace: dict[Any, Any]) -> Explanation:
    ruleset = evaluation.ruleset
    outputs = []
    for name, output in evaluation.outputs.items():
        explainer = _Explainer(ruleset.skeleton, trace)
        explainer.explain_name(name)
        outputs.append(OutputExplanation(name, output.status, output.display(), tuple(explainer.steps),
                                         evaluation.missing_for(name)))
    return Explanation(ruleset.file, evaluation.date, tuple(outputs), evaluation.set_aside,
                       _sources(evaluation, trace))


def _sources(evaluation: Evaluation, trace: dict[Any, Any]) -> tuple[tuple[str, str, str], ...]:
    """The cited data the evaluator read, in declaration order, with their value as written."""
    if not evaluation.sources:
        return ()
    symbols = evaluation.ruleset.symbols
    explainer = _Explainer(evaluation.ruleset.skeleton, trace)
    read = {ref.name: ref for key, ref in data_references(evaluation.ruleset.program, symbols).items() if key in trace}
    cited = []
    for datum in evaluation.ruleset.data_names:
        if datum in evaluation.sources and datum in read:
            value = explainer.show(evaluation.data.get(datum, UNKNOWN), read[datum])
            cited.append((datum, value, evaluation.sources[datum]))
    return tuple(cited)
