"""The public Python contract: `load` → `RuleSet` → `evaluate` → `Evaluation`.

`RuleSet` is immutable and thread-safe: it holds the checked program and the forms it is
evaluated in, each built on first use (generated code for `evaluate`, columns for
`evaluate_table`, the reference interpreter and its tracing variant for `interpret` and
explanations). `Evaluation` computes its list of missing data and its explanation lazily,
by re-running the household with tracing.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import nodes as n
from .catalogue.negatives import Unreliable, unreliable_negatives
from .diagnostics import Diagnostic, TarifError, error
from .evaluate import NOT_APPLICABLE, Compiler, Env
from .situation import SituationReader
from .source import read_source
from .symbols import Symbols, collect
from .values import UNKNOWN, format_decimal, money_value, no_negative_zero, parse_date, percent, spell

if TYPE_CHECKING:
    from .checks.types import Kinds
    from .columnar import TableResult
    from .compiled import CompiledRules
    from .explain import Explanation, Skeleton



@dataclass(frozen=True, slots=True)
class Output:
    """One output of an evaluation: a value, or `unknown` (indéterminé)."""

    name: str
    status: str  # "value" | "unknown"
    value: Decimal | int | bool | datetime.date | str | None
    unit: str | None

    def display(self) -> str:
        """French spelling: `1,05 €`, `50 %`, `oui`, `01/09/2025`, `indéterminé`."""
        if self.status != "value":
            return "indéterminé"
        if self.unit == "%" and isinstance(self.value, Decimal):  # held in percent here, not as a fraction
            return f"{format_decimal(self.value)} %"
        return spell(self.value, self.unit)

    def json_value(self) -> Any:
        value = self.value
        if isinstance(value, Decimal):
            return format(value, "f")
        if isinstance(value, datetime.date):
            return value.isoformat()
        return value


def _output_factory(name: str, kind: n.Kind) -> Any:
    unit = n.UNIT_OF_KIND.get(kind)

    def make(value: Any) -> Output:
        if value is UNKNOWN or value is NOT_APPLICABLE:
            return Output(name, "unknown", None, unit)
        if kind is n.Kind.MONTANT:
            return Output(name, "value", money_value(value), unit)
        if kind is n.Kind.TAUX:
            return Output(name, "value", percent(value), unit)
        if kind is n.Kind.NOMBRE and isinstance(value, Decimal) and value == value.to_integral_value():
            return Output(name, "value", int(value), unit)  # 3 / 2 stays 1.5: never truncated
        if kind is n.Kind.DECIMAL and isinstance(value, Decimal):
            return Output(name, "value", no_negative_zero(value), unit)
        return Output(name, "value", value, unit)

    return make


class RuleSet:
    """A checked rule file, ready to evaluate households."""

    def __init__(self, program: n.Program, warnings: tuple[Diagnostic, ...], source: str,
                 unreliable: tuple[Unreliable, ...] | None = None):
        """`unreliable`: what `unreliable_negatives(program)` gives, when already known (the
        command line's cache keeps it, so that reading a rule set back needs no catalogue)."""
        self.program = program
        self.warnings = warnings
        self.source = source
        self.symbols: Symbols = collect(program)
        validity = program.header.get("applicable")
        assert validity is not None and isinstance(validity.value, tuple)
        self.valid_from: datetime.date = validity.value[0]
        self.valid_until: datetime.date | None = validity.value[1]
        self._reader = SituationReader(self.symbols.data, set(self.symbols.pieces))
        # MEN boursier data whose « non » may only mean « not known yet » on some dates
        self.unreliable = unreliable_negatives(program) if unreliable is None else unreliable
        self._compiled: CompiledRules | None = None

    # Built on first use: `evaluate` runs the generated code, `evaluate_table` the columns.
    @cached_property
    def _outputs(self) -> tuple[tuple[str, Callable[[Env], Any], Callable[[Any], Output]], ...]:
        """Each output by the reference interpreter (closures over the AST), with its `Output` maker."""
        fast = Compiler(self.symbols)
        return tuple((d.name, fast.name(d.name), _output_factory(d.name, d.type.kind)) for d in self.program.outputs)

    @cached_property
    def _traced_outputs(self) -> tuple[tuple[str, Callable[[Env], Any]], ...]:
        """Each output by the interpreter that records every value (explanations, missing data)."""
        tracing = Compiler(self.symbols, tracing=True)
        return tuple((d.name, tracing.name(d.name)) for d in self.program.outputs)

    @cached_property
    def kinds(self) -> Kinds:
        """The kind of every name and node (what the type checks inferred)."""
        from .checks.types import node_kinds

        return node_kinds(self.program, self.symbols)

    @cached_property
    def skeleton(self) -> Skeleton:
        """What explaining a household needs that no household changes (built on first use)."""
        from .explain import Skeleton

        return Skeleton(self.symbols, self.kinds)

    @property
    def file(self) -> str:
        return self.program.file

    @property
    def title(self) -> str:
        return self.program.header.title

    @property
    def data_names(self) -> tuple[str, ...]:
        return self._reader.names

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.program.outputs)

    def evaluate(self, situation: Mapping[str, Any], *, date: datetime.date | str | None = None) -> Evaluation:
        """Evaluate one household (by the compiled rules). Raises `TarifError` for a bad situation or date."""
        day = self._check_date(date)
        if self.unreliable:
            data, set_aside = self._read(situation, day)
        else:
            data, set_aside = self._reader.read(situation), ()
        evaluators = (self._compiled or self.compile()).evaluators
        if len(evaluators) == 1:
            name, evaluate = evaluators[0]
            return Evaluation(self, data, day, {name: evaluate(data)}, set_aside)
        return Evaluation(self, data, day, {name: evaluate(data) for name, evaluate in evaluators}, set_aside)

    def interpret(self, situation: Mapping[str, Any], *, date: datetime.date | str | None = None) -> Evaluation:
        """`evaluate` by the reference interpreter (closures over the AST), without generated code."""
        day = self._check_date(date)
        data, set_aside = self._read(situation, day)
        env = Env(data)
        outputs = {name: make(fn(env)) for name, fn, make in self._outputs}
        return Evaluation(self, data, day, outputs, set_aside)

    def _read(self, situation: Mapping[str, Any], day: datetime.date) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The situation's typed data, and the data given but read as unknown on `day`."""
        data = self._reader.read(situation)
        set_aside: list[str] = []
        for name, _, negatives in (u for u in self.unreliable if u.on(day)):
            if name in data and data[name] in negatives:
                del data[name]  # before mid-October a negative answer is read as unknown
                set_aside.append(name)
        return data, tuple(set_aside)

    def compile(self) -> CompiledRules:
        """The rules as generated Python (built once, then kept): used by `evaluate` and `function`."""
        if self._compiled is None:
            from .compiled import CompiledRules

            negatives = {name: values for name, _, values in self.unreliable}
            self._compiled = CompiledRules(self.symbols, self._reader, _output_factory, negatives)
        return self._compiled

    def function(self, output: str, *, date: datetime.date | str | None = None) -> Callable[..., Any]:
        """A fast function computing `output`, its data given as keyword arguments.

        `rules.function("tarif_repas")(quotient_familial=650, demandeur_emploi=True)` returns
        the value (`Decimal` for a montant, a taux in percent, `int` or `Decimal` for a number,
        `bool`, `str`, `date`), or `INCONNU` when the result is indéterminé. A keyword left out
        (or `None`) is unknown; values are read as `evaluate` reads them (same `TarifError`).
        `date` (default: today) is checked once, here, as by `evaluate`.
        """
        day = self._check_date(date)
        if output not in self.symbols.outputs:
            close = difflib.get_close_matches(output, list(self.symbols.outputs), n=1)
            hint = f"vouliez-vous dire « {close[0]} » ?" if close else (
                "résultats déclarés : " + ", ".join(self.symbols.outputs) if self.symbols.outputs else None)
            raise TarifError([error("E007", f"« {output} » n'est pas un résultat déclaré dans le fichier", hint=hint)])
        set_aside = frozenset(u.datum for u in self.unreliable if u.on(day))
        return self.compile().function(output, set_aside)

    def _check_date(self, date: datetime.date | str | None) -> datetime.date:
        if type(date) is datetime.date and date >= self.valid_from and (
                self.valid_until is None or date <= self.valid_until):
            return date  # the common case, checked as below
        if date is None:
            day = datetime.date.today()
        elif isinstance(date, datetime.datetime):
            day = date.date()  # a moment: its day (a datetime does not compare with a date)
        elif isinstance(date, datetime.date):
            day = date
        else:
            parsed = parse_date(date) if isinstance(date, str) else None
            if parsed is None:
                raise TarifError([error("E004", f"« {date} » n'est pas une date valide",
                                        hint="écrivez la date au format JJ/MM/AAAA")])
            day = parsed
        if day < self.valid_from or (self.valid_until is not None and day > self.valid_until):
            period = f"à partir du {self.valid_from:%d/%m/%Y}" if self.valid_until is None else (
                f"du {self.valid_from:%d/%m/%Y} au {self.valid_until:%d/%m/%Y}")
            raise TarifError([error(
                "E001", f"le {day:%d/%m/%Y} est hors de la période d'application de « {self.title} » ({period})",
                hint="choisissez une date dans la période d'application (--date JJ/MM/AAAA)",
            )])
        return day

    def trace(self, data: dict[str, Any]) -> dict[Any, Any]:
        """Values of every node evaluated for this household (keyed by node identity)."""
        trace: dict[Any, Any] = {}
        env = Env(data, trace)
        for _, fn in self._traced_outputs:
            fn(env)
        return trace

    def trace_output(self, data: dict[str, Any], output: str) -> dict[Any, Any]:
        """Like `trace`, for one output only (what this output alone makes the evaluator read)."""
        trace: dict[Any, Any] = {}
        env = Env(data, trace)
        dict(self._traced_outputs)[output](env)
        return trace

    def evaluate_table(self, table: Any, *, date: datetime.date | str | None = None) -> TableResult:
        """Evaluate every row of a table (a pyarrow Table, or a mapping of column name → values)
        with NumPy, giving for each row what `evaluate` gives; see docs/evaluation-tableau.md."""
        from .columnar import evaluate_table

        return evaluate_table(self, table, self._check_date(date))


class Evaluation:
    """The result for one household: `outputs[name]`, `missing`, `explain()`."""

    def __init__(self, ruleset: RuleSet, data: dict[str, Any], date: datetime.date, outputs: dict[str, Output],
                 set_aside: tuple[str, ...] = (), sources: Mapping[str, str] | None = None):
        self.ruleset = ruleset
        self.data = data
        self.date = date
        self.outputs = outputs
        self.set_aside = set_aside  # data given but read as unknown (a negative answer not yet reliable)
        self.sources = dict(sources or {})  # datum → where it comes from, cited by the explanation

    def with_sources(self, sources: Mapping[str, str]) -> Evaluation:
        """The same evaluation, citing where data come from (`FetchResult.sources()`)."""
        return Evaluation(self.ruleset, self.data, self.date, self.outputs, self.set_aside,
                          {**self.sources, **sources})

    @cached_property
    def _trace(self) -> dict[Any, Any]:
        return self.ruleset.trace(self.data)

    @cached_property
    def missing(self) -> tuple[str, ...]:
        """Data that would decide the unknown outputs (only data on their path), in declaration order."""
        if all(o.status == "value" for o in self.outputs.values()):
            return ()
        from .explain import missing_data

        names: set[str] = set()
        for name, output in self.outputs.items():
            if output.status != "value":
                names |= missing_data(self.ruleset.symbols, self._trace, name)
        return tuple(d for d in self.ruleset.data_names if d in names)

    def missing_for(self, output: str) -> tuple[str, ...]:
        if self.outputs[output].status == "value":
            return ()
        from .explain import missing_data

        names = missing_data(self.ruleset.symbols, self._trace, output)
        return tuple(d for d in self.ruleset.data_names if d in names)

    def explain(self) -> Explanation:
        """The explanation of every output, article by article (computed once)."""
        return self._explanation

    @cached_property
    def _explanation(self) -> Explanation:
        from .explain import explain

        return explain(self, self._trace)

    def to_json(self) -> dict[str, Any]:
        """The documented JSON document, `models.EvaluationModel` (built as plain data, in the
        model's field order: tests/test_evaluation_json.py checks it against the model)."""
        explanation = self.explain()
        return {
            "file": self.ruleset.file,
            "date": self.date.isoformat(),
            "outputs": {
                name: {"status": o.status, "value": o.json_value(), "unit": o.unit}
                for name, o in self.outputs.items()
            },
            "missing": list(self.missing),
            "explanation": explanation.to_json(),
            "sources": explanation.sources_json(),
        }


def load(path_or_text: str | Path, *, file: str | None = None) -> RuleSet:
    """Read, parse and check a rule file (a path, or the text itself).

    Raises `TarifError` carrying every diagnostic if the file has errors; warnings are
    kept on `RuleSet.warnings`.
    """
    text, name = read_source(path_or_text, file)
    return checked(text, name)


def checked(text: str, name: str) -> RuleSet:
    """The rule set of `text`, read from the file `name`: parsed and checked (`TarifError` if the
    file has errors). The grammar and the checks load here, on first use."""
    from .checks import check_program
    from .parser import parse

    program = parse(text, name)
    diagnostics = check_program(program)
    errors = [d for d in diagnostics if d.is_error]
    if errors:
        raise TarifError(diagnostics, {name: text})
    return RuleSet(program, tuple(diagnostics), text)
