"""The generated functions of one rule file: per output, three entry points.

* `keywords` — `RuleSet.function(name)`: data as keyword arguments; the common types
  (an `int` for a number, `True`/`False`, an enumeration value, a `date`) go straight to
  the generated body; anything else (a string, a `Decimal`, a float, a value out of its
  limits, an unknown keyword) goes through the interpreter's `SituationReader`, so it is
  accepted or refused exactly as by `evaluate`. Returns the value or `UNKNOWN`.
* `evaluator` — used by `RuleSet.evaluate`: the data already read (a dict of `Decimal`…),
  returns the `Output`. Whole numbers are turned into scaled integers on entry when small
  enough, else the all-`Decimal` variant runs.
* when the generated text would be too long, or nested deeper than Python compiles, the
  interpreter's closures are used instead.
"""

from __future__ import annotations

import datetime
import keyword
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .. import nodes as n
from ..evaluate import NOT_APPLICABLE, Compiler, Env
from ..symbols import Symbols, dependency_parts, references
from ..values import UNKNOWN
from .codegen import DEC, OBJ, Scaled, TooLarge, Unit, V
from .expressions import Generator
from .runtime import output_converter, to_decimal

BOUND = 10**18
"""Whole numbers up to this size take the scaled-integer path."""

TABLE = 4096
"""Outputs whose scaled values span at most this many steps are read from a table of ready values."""

SPECIALISE = 600
"""Bodies up to this many lines get a copy for households whose data are all known (a long file
gains little from it and would take longer to compile)."""

MakeOutput = Callable[[Any], Any]


@dataclass(frozen=True)
class Entry:
    """How one datum enters a generated function."""

    name: str
    kind: n.Kind
    spec: n.TypeSpec

    @property
    def scale(self) -> int | None:
        """Scale of the datum as a scaled integer, None when it stays a `Decimal` (or is not a number)."""
        if self.kind in (n.Kind.MONTANT, n.Kind.NOMBRE):
            return 2 if self.spec.granularity is n.Granularity.CENTIME else 0
        return None

    def limits(self) -> tuple[int, int]:
        low = self.spec.minimum.value if self.spec.minimum else Decimal(0)
        high = self.spec.maximum.value if self.spec.maximum else None
        lo = max(-BOUND, math.ceil(low))
        hi = BOUND if high is None else min(BOUND, math.floor(high))
        return lo, hi


def reference_counts(symbols: Symbols) -> dict[str, int]:
    counts: dict[str, int] = {}
    for pieces in symbols.pieces.values():
        for piece in pieces:
            for part in n.definition_parts(piece.definition):
                for ref in references(part):
                    counts[ref.name] = counts.get(ref.name, 0) + 1
    return counts


class ProgramCode:
    """Generates, compiles and keeps the functions of one program."""

    def __init__(self, symbols: Symbols, make_output: Callable[[str, n.Kind], MakeOutput],
                 negatives: Mapping[str, frozenset[object]]):
        self.symbols = symbols
        self.make_output = make_output
        self.negatives = negatives  # data whose negative answers may be read as unknown (catalogue)
        self.refs = reference_counts(symbols)
        self.entries = [Entry(name, d.type.kind, d.type) for name, d in symbols.data.items()]
        self.unit = Unit()
        self.sources: list[str] = []
        self._interpreter: Compiler | None = None

    def kind(self, output: str) -> n.Kind:
        return self.symbols.outputs[output].type.kind

    def scaled_allowed(self, output: str) -> bool:
        """Scaled integers only where the exponent of a `Decimal` cannot show: normalised outputs."""
        return self.kind(output) in (n.Kind.MONTANT, n.Kind.TAUX)

    # ------------------------------------------------------------------ shared pieces
    def _body(self, output: str, data: dict[str, V], scaled: bool) -> tuple[list[str], V, list[str]]:
        emitter = Generator(self.unit, self.symbols, data, scaled, self.refs)
        try:
            value = emitter.name(output)
        except RecursionError:  # definitions nested deeper than the generator recurses: the interpreter runs them
            raise TooLarge from None
        inits = [f"    {var} = _UNSET" for var in emitter.memo.values()]
        return emitter.lines, value, inits

    def _bodies(self, output: str, data: dict[str, V], scaled: bool, to_output: bool) -> list[str]:
        """The body, preceded by a simpler copy for the common case where every datum it reads is known."""
        lines, value, inits = self._body(output, data, scaled)
        general = [*inits, *lines, *self._finish(value, output, to_output)]
        read = self.data_read(output)
        if not read or len(general) > SPECIALISE:
            return general
        known = {name: V(v.code, v.rep, False) if name in read else v for name, v in data.items()}
        try:
            lines, value, inits = self._body(output, known, scaled)
        except TooLarge:
            return general
        test = " and ".join(f"{data[name].code} is not _UNKNOWN" for name in data if name in read)
        specialised = [*inits, *lines, *self._finish(value, output, to_output)]
        return [f"    if {test}:", *("    " + line for line in specialised), *general]

    def data_read(self, output: str) -> set[str]:
        """The data the rules of `output` may read."""
        return {ref.name for part in dependency_parts(self.symbols, [output]) for ref in references(part)
                if ref.name in self.symbols.data}

    def _finish(self, value: V, output: str, to_output: bool) -> list[str]:
        """`return` of the value the caller gets: an `Output` (evaluate) or the bare value (function)."""
        kind = self.kind(output)
        make = self.make_output(output, kind)
        convert = output_converter(kind)
        rep = value.rep
        if isinstance(rep, Scaled) and rep.values is not None:  # a dict of ready results, markers included
            final = make if to_output else convert
            ready: dict[object, Any] = {x: final(to_decimal(x, rep.scale)) for x in rep.values}
            missing = make(UNKNOWN) if to_output else UNKNOWN
            ready.update({UNKNOWN: missing, NOT_APPLICABLE: missing})
            return [f"    return {self.unit.const(ready)}[{value.code}]"]
        if isinstance(rep, Scaled) and rep.hi - rep.lo < TABLE:
            values = [to_decimal(x, rep.scale) for x in range(rep.lo, rep.hi + 1)]
            table = self.unit.const(tuple(make(v) if to_output else convert(v) for v in values))
            code = f"{table}[{value.code} - {rep.lo}]" if rep.lo else f"{table}[{value.code}]"
            if value.marker:
                missing = self.unit.const(make(UNKNOWN) if to_output else UNKNOWN)
                code = f"{code} if _type({value.code}) is _int else {missing}"
            return [f"    return {code}"]
        last = self.unit.const((lambda v: make(to_decimal(v, 0))) if to_output else convert)
        scale = rep.scale if isinstance(rep, Scaled) else 0
        return [f"    return {last}(_to_decimal({value.code}, {scale}))"]

    def _define(self, name: str, source: str) -> Callable[..., Any]:
        try:
            code = compile(source, f"<tarifrules:{name}>", "exec")
        except (SyntaxError, RecursionError, MemoryError):
            # Python's own limits (20 nested `try`, 100 indentation levels, the parser's depth): a file
            # `check` accepts, nested deeper than generated Python may be, is run by the interpreter.
            raise TooLarge from None
        self.sources.append(source)
        exec(code, self.unit.namespace)
        return self.unit.namespace[name]  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ evaluate
    def evaluator(self, output: str) -> Callable[[Mapping[str, Any]], Any]:
        """`data` (read by the SituationReader) → `Output`."""
        try:
            if not self.scaled_allowed(output):
                return self._evaluator(output, scaled=False, fallback=None)
            return self._evaluator(output, scaled=True, fallback=self._exact_later(output))
        except TooLarge:
            return self._interpreted(output)

    def _exact_later(self, output: str) -> Callable[[Mapping[str, Any]], Any]:
        """The all-`Decimal` evaluator, for numbers too large for scaled integers: generated on first use."""
        built: list[Callable[[Mapping[str, Any]], Any]] = []

        def exact(data: Mapping[str, Any]) -> Any:
            if not built:
                try:
                    built.append(self._evaluator(output, scaled=False, fallback=None))
                except TooLarge:
                    built.append(self._interpreted(output))
            return built[0](data)

        return exact

    def _evaluator(self, output: str, scaled: bool, fallback: Callable[..., Any] | None) -> Callable[..., Any]:
        head: list[str] = []
        data: dict[str, V] = {}
        for i, entry in enumerate(self.entries):
            var = f"_d{i}"
            head.append(f"    {var} = _data.get({entry.name!r}, _UNKNOWN)")
            scale = entry.scale if scaled else None
            if scale is None:
                data[entry.name] = V(var, DEC if entry.kind in _NUMERIC else OBJ, True)
                continue
            assert fallback is not None
            lo, hi = entry.limits()
            exact = self.unit.const(fallback)
            lo, hi = lo * 10**scale, hi * 10**scale
            head += [f"    if {var} is not _UNKNOWN:",  # read by the SituationReader: whole at this scale
                     f"        if {var}.adjusted() > 17:",
                     f"            return {exact}(_data)",
                     f"        {var} = _int({var})" if scale == 0 else
                     f"        {var} = _int({var}.scaleb({scale}, _WIDE))",
                     f"        if {var} > {hi} or {var} < {lo}:",
                     f"            return {exact}(_data)"]
            data[entry.name] = V(var, Scaled(scale, lo, hi), True)
        name = self.unit.fresh("evaluate_")
        source = "\n".join([f"def {name}(_data):", *head, *self._bodies(output, data, scaled, True)])
        return self._define(name, source)

    # ------------------------------------------------------------------ function
    def keywords(self, output: str, set_aside: frozenset[str], general: Callable[..., Any]) -> Callable[..., Any]:
        """The keyword function; `set_aside`: data whose negative answers are read as unknown on its date."""
        try:
            return self._keywords(output, set_aside, general)
        except TooLarge:
            return _keyword_adapter(general)

    def _keywords(self, output: str, set_aside: frozenset[str], general: Callable[..., Any]) -> Callable[..., Any]:
        scaled = self.scaled_allowed(output)
        safe = [e for e in self.entries if e.name.isidentifier() and not keyword.iskeyword(e.name)
                and not e.name.startswith("_")]
        unsafe = [e for e in self.entries if e not in safe]
        params = ", ".join(f"{e.name}=None" for e in safe)
        name = self.unit.fresh("function_")
        slow = self.unit.const(general)
        original = {e.name: e.name if e in safe else f"_o{i}" for i, e in enumerate(self.entries)}
        given = "{" + ", ".join(f"{e.name!r}: {original[e.name]}" for e in self.entries) + "}"
        head = [f"def {name}(*{', ' + params if params else ''}, **_extra):"]
        head += [f"    {original[e.name]} = _extra.pop({e.name!r}, None)" for e in unsafe]
        head += [f"    _d{i} = {original[e.name]}" for i, e in enumerate(self.entries)]
        head += ["    if _extra:", f"        return {slow}(_extra, {given})"]
        data: dict[str, V] = {}
        for i, entry in enumerate(self.entries):
            var = f"_d{i}"
            test, convert, rep = self._fast_test(entry, var, scaled)
            head += [f"    if {var} is None:", f"        {var} = _UNKNOWN"]
            if test is None:
                head += ["    else:", f"        return {slow}(None, {given})"]
            else:
                head += [f"    elif {test}:", f"        return {slow}(None, {given})"]
                if convert:
                    head += ["    else:", f"        {var} = {convert}"]
            if entry.name in set_aside:
                negatives = self.unit.const(self.negatives[entry.name])
                head += [f"    if {var} in {negatives}:", f"        {var} = _UNKNOWN"]
            data[entry.name] = V(var, rep, True)
        source = "\n".join([*head, *self._bodies(output, data, scaled, False)])
        return self._define(name, source)

    def _fast_test(self, entry: Entry, var: str, scaled: bool) -> tuple[str | None, str | None, Any]:
        """(test sending the value to the slow path, conversion, representation) for a given value."""
        match entry.kind:
            case n.Kind.BOOLEEN:
                return f"{var} is not True and {var} is not False", None, OBJ
            case n.Kind.DATE:
                return f"_type({var}) is not {self.unit.const(datetime.date)}", None, OBJ
            case n.Kind.ENUM:
                choices = self.unit.const(frozenset(entry.spec.choices))
                return f"_type({var}) is not _str or {var} not in {choices}", None, OBJ
            case n.Kind.TAUX:
                if not scaled:
                    return None, None, DEC
        lo, hi = entry.limits()
        test = f"_type({var}) is not _int or {var} < {lo} or {var} > {hi}"
        scale = 2 if entry.kind is n.Kind.TAUX or entry.spec.granularity is n.Granularity.CENTIME else 0
        if not scaled:
            return test, None, DEC
        factor = 100 if entry.kind is not n.Kind.TAUX and scale == 2 else 1
        return test, (f"{var} * {factor}" if factor != 1 else None), Scaled(scale, lo * factor, hi * factor)

    # ------------------------------------------------------------------ fallback
    def _interpreted(self, output: str) -> Callable[[Mapping[str, Any]], Any]:
        if self._interpreter is None:
            self._interpreter = Compiler(self.symbols)
        fn = self._interpreter.name(output)
        make = self.make_output(output, self.kind(output))
        return lambda data: make(fn(Env(dict(data))))


_NUMERIC = (n.Kind.MONTANT, n.Kind.NOMBRE, n.Kind.DECIMAL, n.Kind.TAUX)


def _keyword_adapter(general: Callable[..., Any]) -> Callable[..., Any]:
    def function(**given: Any) -> Any:
        return general(None, given)

    return function

