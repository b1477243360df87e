"""Types and units: € vs % vs nombre vs booléen vs date, conditions, declared outputs.

`infer_types` gives the kind of every defined name (None where an error makes it
meaningless, so that one mistake is reported once) and the diagnostics found.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .. import nodes as n
from ..diagnostics import Diagnostic, error
from ..symbols import Symbols
from ..values import format_decimal

K = n.Kind
NUMERIC = {K.MONTANT, K.NOMBRE, K.DECIMAL, K.TAUX}
PLAIN = {K.NOMBRE, K.DECIMAL}

KIND_WORDS = {
    K.MONTANT: "un montant (€)",
    K.NOMBRE: "un nombre",
    K.DECIMAL: "un nombre décimal",
    K.TAUX: "un taux (%)",
    K.BOOLEEN: "un booléen (oui/non)",
    K.DATE: "une date",
    K.ENUM: "une valeur à choisir dans une liste",
}

_OPERATION_WORDS = {"+": "additionner", "−": "soustraire", "×": "multiplier", "/": "diviser"}


def literal_kind(node: n.Number | n.DateLiteral | n.Bool) -> n.Kind:
    if isinstance(node, n.DateLiteral):
        return K.DATE
    if isinstance(node, n.Bool):
        return K.BOOLEEN
    if node.unit is n.Unit.EURO:
        return K.MONTANT
    if node.unit is n.Unit.PERCENT:
        return K.TAUX
    return K.NOMBRE if node.written_as_integer else K.DECIMAL


def same_family(a: n.Kind, b: n.Kind) -> bool:
    return a == b or (a in PLAIN and b in PLAIN)


def unify(a: n.Kind, b: n.Kind) -> n.Kind:
    return a if a == b else K.DECIMAL


def arith_kind(op: str, a: n.Kind, b: n.Kind) -> n.Kind | None:
    """Kind of `a op b`, or None when the operation has no meaning."""
    if a not in NUMERIC or b not in NUMERIC:
        return None
    if op in "+−":
        return unify(a, b) if same_family(a, b) else None
    if op == "×":
        if K.MONTANT in (a, b):
            other = b if a is K.MONTANT else a
            return K.MONTANT if other in PLAIN | {K.TAUX} else None
        if K.TAUX in (a, b):
            return K.TAUX
        return K.NOMBRE if a is K.NOMBRE and b is K.NOMBRE else K.DECIMAL
    # division
    if a is K.MONTANT:
        return K.DECIMAL if b is K.MONTANT else K.MONTANT
    if b is K.MONTANT:
        return None
    if a is K.TAUX:
        return K.DECIMAL if b is K.TAUX else K.TAUX
    return K.DECIMAL if b in PLAIN else None


class _Inference:
    def __init__(self, program: n.Program, symbols: Symbols):
        self.program = program
        self.symbols = symbols
        self.kinds: dict[str, n.Kind | None] = {}
        self.problems: list[Diagnostic] = []
        self.node_kinds: dict[int, n.Kind | None] = {}  # id(expression node) → kind
        self._visiting: set[str] = set()

    def report(self, code: str, message: str, node: object, hint: str | None = None) -> None:
        self.problems.append(error(code, message, getattr(node, "span"), hint))  # noqa: B009

    # ------------------------------------------------------------- names
    def name(self, name: str) -> n.Kind | None:
        if name in self.symbols.data:
            return self.symbols.data[name].type.kind
        if name in self.kinds:
            return self.kinds[name]
        if name not in self.symbols.pieces or name in self._visiting:
            return None  # unknown name or cycle: reported by other checks
        self._visiting.add(name)
        found: n.Kind | None = None
        first_article = ""
        for piece in self.symbols.pieces[name]:
            definition = piece.definition
            if definition.only_if is not None:
                self.condition(definition.only_if)
            kind = self.definition(definition)
            if kind is None:
                continue
            if found is None:
                found, first_article = kind, piece.article.number
            elif not same_family(found, kind):
                self.report("T020", f"« {name} » est {KIND_WORDS[kind]} ici mais {KIND_WORDS[found]} "
                            f"à l'article {first_article}", definition.body,
                            "toutes les définitions d'un même nom donnent le même type de valeur")
            else:
                found = unify(found, kind)
        self._visiting.discard(name)
        self.kinds[name] = found
        return found

    def definition(self, definition: n.Definition) -> n.Kind | None:
        kinds = [self.body(definition.body, definition.name)]
        values: list[n.Expr] = []
        for unless in definition.unless:
            self.condition(unless.condition)
            kinds.append(self.expr(unless.value))
            values.append(unless.value)
        return self.common(kinds, [definition.body, *values], f"les valeurs possibles de « {definition.name} »")

    def common(self, kinds: list[n.Kind | None], nodes_: list[object], subject: str) -> n.Kind | None:
        found: n.Kind | None = None
        for kind, node in zip(kinds, nodes_, strict=False):
            if kind is None:
                continue
            if found is None:
                found = kind
            elif not same_family(found, kind):
                self.report("T020", f"{subject} ne sont pas du même type : "
                            f"{KIND_WORDS[found]} d'un côté, {KIND_WORDS[kind]} ici", node,
                            "vérifiez les unités (€, %) des valeurs")
                return None
            else:
                found = unify(found, kind)
        return found

    def body(self, body: n.Body, name: str) -> n.Kind | None:
        match body:
            case n.Grid():
                return self.grid(body, name)
            case n.Cases(cases=cases):
                for case in cases:
                    if case.condition is not None:
                        self.condition(case.condition)
                return self.common([self.expr(c.value) for c in cases], [c.value for c in cases],
                                   f"les valeurs possibles de « {name} »")
            case _:
                return self.expr(body)

    def grid(self, grid: n.Grid, name: str) -> n.Kind | None:
        selector = self.expr(grid.selector)
        if selector is not None and selector not in NUMERIC | {K.DATE}:
            self.report("T020", f"une grille se lit selon un nombre, un montant, un taux ou une date, "
                        f"pas selon {KIND_WORDS[selector]}", grid.selector,
                        "pour une donnée oui/non ou une liste de valeurs, écrivez des cas : si … / sinon")
            selector = None
        if selector is not None:
            for row in grid.rows:
                for bound in (row.lower, row.upper):
                    if bound is None:
                        continue
                    kind = literal_kind(bound.value)
                    if not same_family(kind, selector):
                        self.report("T017", f"cette borne est {KIND_WORDS[kind]} mais la grille se lit selon "
                                    f"{KIND_WORDS[selector]}", bound.value, unit_hint(selector))
        defaults = [row for row in grid.rows if row.form is n.BoundForm.DEFAULT]
        for extra in defaults[1:]:
            self.report("T018", "la grille a plusieurs lignes « à défaut »", extra,
                        "gardez une seule ligne « à défaut »")
        return self.common([self.expr(r.value) for r in grid.rows], [r.value for r in grid.rows],
                           f"les valeurs possibles de « {name} »")

    # ------------------------------------------------------------- expressions
    def condition(self, expr: n.Expr) -> None:
        kind = self.expr(expr)
        if kind is not None and kind is not K.BOOLEEN:
            self.report("T022", f"une condition doit être vraie ou fausse, or ceci est {KIND_WORDS[kind]}", expr,
                        "comparez la valeur : par exemple « quotient_familial < 700 € »")

    def expr(self, node: n.Expr) -> n.Kind | None:
        kind = self._expr(node)
        self.node_kinds[id(node)] = kind
        return kind

    def _expr(self, node: n.Expr) -> n.Kind | None:
        match node:
            case n.Number():
                return literal_kind(node)
            case n.Bool():
                return K.BOOLEEN
            case n.DateLiteral():
                return K.DATE
            case n.Ref(name=name):
                return self.name(name)
            case n.Arith(op=op, left=left, right=right):
                a, b = self.expr(left), self.expr(right)
                if a is None or b is None:
                    return None
                kind = arith_kind(op, a, b)
                if kind is None:
                    self.report("T020", f"on ne peut pas {_OPERATION_WORDS[op]} {KIND_WORDS[a]} et "
                                f"{KIND_WORDS[b]}", node, _arith_hint(op, a, b))
                return kind
            case n.Compare(op=op, left=left, right=right):
                a, b = self.expr(left), self.expr(right)
                if a is None or b is None:
                    return K.BOOLEEN
                if a is K.ENUM or b is K.ENUM:
                    self.report("T021", "une valeur à choisir dans une liste se teste avec « est »", node,
                                _is_hint(left, right))
                elif not same_family(a, b):
                    self.report("T021", f"on ne peut pas comparer {KIND_WORDS[a]} et {KIND_WORDS[b]}", node,
                                unit_hint(a))
                elif op not in "=≠" and a is K.BOOLEEN:
                    self.report("T021", "oui/non ne se compare qu'avec = ou ≠", node,
                                "une donnée oui/non est déjà une condition : « si demandeur_emploi » ou "
                                "« si non demandeur_emploi »")
                return K.BOOLEEN
            case n.IsOneOf(subject=subject, choices=choices):
                self.one_of(node, subject, choices)
                return K.BOOLEEN
            case n.IsKnown(subject=subject):
                self.expr(subject)
                return K.BOOLEEN
            case n.And(left=left, right=right) | n.Or(left=left, right=right):
                self.condition(left)
                self.condition(right)
                return K.BOOLEEN
            case n.Not(operand=operand):
                self.condition(operand)
                return K.BOOLEEN
            case n.Default(expr=expr, fallback=fallback):
                return self.common([self.expr(expr), self.expr(fallback)], [expr, fallback],
                                   "les deux côtés de « à défaut »")
            case n.Extremum(kind=kind, args=args):
                return self.numeric_common(list(args), f"« le {kind} de »")
            case n.Limit(kind=kind, expr=expr, limit=limit):
                return self.numeric_common([expr, limit], "« au minimum »" if kind == "minimum" else "« au plus »")
            case n.Round(expr=expr, step_literal=literal):
                kind = self.expr(expr)
                if kind is not None and kind not in NUMERIC:
                    self.report("T025", f"on ne peut pas arrondir {KIND_WORDS[kind]}", node,
                                "seuls les montants, les taux et les nombres s'arrondissent")
                    return None
                if kind is not None and literal is not None and not same_family(literal_kind(literal), kind):
                    self.report("T025", f"le pas d'arrondi est {KIND_WORDS[literal_kind(literal)]} mais la valeur "
                                f"arrondie est {KIND_WORDS[kind]}", literal, _step_hint(kind))
                if kind is K.TAUX and literal is None:
                    self.report("T025", f"« arrondi {node.step_text} » ne dit pas l'unité d'un taux", node,
                                "pour un taux, écrivez le pas en pourcentage : « arrondi au multiple de 0,1 % "
                                "le plus proche »")
                if literal is not None and literal.value == 0:
                    self.report("T025", "le pas d'arrondi vaut zéro : il n'y a pas de multiple de 0", literal,
                                "écrivez un pas plus grand que zéro, par exemple « au multiple de 0,05 € »")
                whole_step = node.step != 0 and node.step == node.step.to_integral_value()
                return K.NOMBRE if kind is K.DECIMAL and whole_step else kind
        return None  # pragma: no cover

    def numeric_common(self, args: list[n.Expr], words: str) -> n.Kind | None:
        kinds = [self.expr(a) for a in args]
        for kind, arg in zip(kinds, args, strict=True):
            if kind is not None and kind not in NUMERIC:
                self.report("T020", f"{words} compare des montants, des taux ou des nombres, pas {KIND_WORDS[kind]}",
                            arg, "pour tenir compte d'une donnée oui/non ou d'une liste, écrivez une condition : "
                            "« sauf si … : … » ou « si … : … / sinon : … »")
                return None
        return self.common(kinds, list(args), f"les valeurs comparées par {words}")

    def one_of(self, node: n.IsOneOf, subject: n.Expr, choices: tuple[str, ...]) -> None:
        kind = self.expr(subject)
        if kind is K.ENUM and isinstance(subject, n.Ref) and subject.name in self.symbols.data:
            declared = self.symbols.data[subject.name].type.choices
            for choice in choices:
                if choice not in declared:
                    self.report("T024", f"« {choice} » n'est pas une valeur possible de « {subject.name} »", node,
                                f"valeurs possibles : {', '.join(declared)}")
        elif kind is K.NOMBRE:
            for choice in choices:
                if not choice.isdigit():
                    self.report("T024", f"« {choice} » n'est pas un nombre entier", node,
                                "écrivez les nombres en chiffres : « est 1 ou 2 »")
        elif kind is not None:
            self.report("T021", f"« est … ou … » teste une valeur dans une liste ; ceci est {KIND_WORDS[kind]}",
                        node, "comparez avec <, ≤, >, ≥, = ou ≠ : par exemple « quotient_familial < 700 € »")


def unit_hint(kind: n.Kind) -> str | None:
    return {
        K.MONTANT: "un montant s'écrit avec « € », par exemple 400 €",
        K.TAUX: "un taux s'écrit avec « % », par exemple 50 %",
        K.NOMBRE: "un nombre s'écrit sans unité, par exemple 3",
        K.DECIMAL: "un nombre s'écrit sans unité, par exemple 2,5",
        K.DATE: "une date s'écrit JJ/MM/AAAA",
    }.get(kind)


def _step_hint(kind: n.Kind) -> str | None:
    return {
        K.MONTANT: "un montant s'arrondit à un multiple en euros : « arrondi au multiple de 0,05 € le plus proche »",
        K.TAUX: "un taux s'arrondit à un multiple en % : « arrondi au multiple de 0,5 % le plus proche »",
    }.get(kind, "le pas d'arrondi d'un nombre s'écrit sans unité : « arrondi au multiple de 5 le plus proche »")


def _is_hint(left: n.Expr, right: n.Expr) -> str:
    subject, value = (left, right) if isinstance(left, n.Ref) else (right, left)
    if isinstance(subject, n.Ref) and isinstance(value, n.Number) and value.unit is n.Unit.NONE:
        return (f"écrivez « {subject.name} est {format_decimal(value.value)} » "
                "(ou « est 2 ou 3 » pour plusieurs valeurs)")
    return "écrivez par exemple « echelon est 2 ou 3 »"


def _arith_hint(op: str, a: n.Kind, b: n.Kind) -> str | None:
    if op == "×" and a is K.MONTANT and b is K.MONTANT:
        return "un montant se multiplie par un taux ou un nombre : « tarif × 50 % »"
    if op in "+−" and {a, b} == {K.MONTANT, K.TAUX}:
        return "pour une réduction de 10 %, écrivez « tarif × (100 % − 10 %) »"
    if op in "+−" and K.MONTANT in (a, b):
        return "ajoutez l'unité : « 2 € » plutôt que « 2 »"
    return None


@dataclass(frozen=True)
class Kinds:
    """The kind of every defined name and of every expression node (by identity) of a program."""

    names: Mapping[str, n.Kind | None]
    nodes: Mapping[int, n.Kind | None]


def node_kinds(program: n.Program, symbols: Symbols) -> Kinds:
    """Kinds for a checked program, computed once (the explanation writes € or % from them)."""
    inference = _Inference(program, symbols)
    for name in symbols.pieces:
        inference.name(name)
    names = {**{d.name: d.type.kind for d in program.data}, **inference.kinds}
    return Kinds(MappingProxyType(names), MappingProxyType(inference.node_kinds))


def infer_types(program: n.Program, symbols: Symbols) -> tuple[dict[str, n.Kind | None], list[Diagnostic]]:
    inference = _Inference(program, symbols)
    for name in symbols.pieces:
        inference.name(name)
    for declaration in program.data:
        spec = declaration.type
        for word, limit in (("au minimum", spec.minimum), ("au plus", spec.maximum)):
            if limit is None:
                continue
            written = literal_kind(limit)
            if spec.kind not in NUMERIC or not same_family(written, spec.kind):
                inference.problems.append(error(
                    "T017", f"la limite « {word} » de « {declaration.name} » est {KIND_WORDS[written]} mais la donnée "
                    f"est {KIND_WORDS[spec.kind]}", limit.span,
                    unit_hint(spec.kind) if spec.kind in NUMERIC else "seules les données chiffrées ont des limites"))
    for output in program.outputs:
        kind = inference.kinds.get(output.name)
        declared = output.type.kind
        decimal_for_whole = declared is K.NOMBRE and kind is K.DECIMAL
        mismatch = decimal_for_whole or (kind is not None and not same_family(kind, declared))
        if kind is not None and mismatch and output.name in symbols.pieces:
            definition = symbols.pieces[output.name][0].definition
            unit = unit_hint(declared)
            if decimal_for_whole:
                unit = "un nombre est entier : arrondissez, par exemple « …, arrondi à l'unité inférieur »"
            hint = (f"si c'est bien {KIND_WORDS[kind]}, déclarez-le ainsi dans « résultats » ; sinon, corrigez "
                    "les valeurs" + (f" ({unit})" if unit else ""))
            inference.problems.append(error(
                "T023", f"« {output.name} » est déclaré comme {KIND_WORDS[declared]} mais ses règles donnent "
                f"{KIND_WORDS[kind]}", definition.name_span, hint))
    return inference.kinds, inference.problems
