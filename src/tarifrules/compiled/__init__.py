"""Compiled evaluation: the checked AST of a rule file turned into generated Python.

`RuleSet.compile()` builds a `CompiledRules` once; `RuleSet.evaluate` and
`RuleSet.function` use it. The interpreter (`evaluate.py`) stays the reference: the
generated code follows it step by step (see codegen.py) and a property test checks that
both agree on generated files and households.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .. import nodes as n
from ..situation import SituationReader
from ..symbols import Symbols
from ..values import UNKNOWN
from .program import MakeOutput, ProgramCode

__all__ = ["CompiledRules"]


class CompiledRules:
    """The generated functions of one `RuleSet` (evaluators at once, keyword functions on demand)."""

    def __init__(self, symbols: Symbols, reader: SituationReader, make_output: Callable[[str, n.Kind], MakeOutput],
                 negatives: Mapping[str, frozenset[object]]):
        self.reader = reader
        self.negatives = negatives
        self.code = ProgramCode(symbols, make_output, negatives)
        self.evaluators: tuple[tuple[str, Callable[[Mapping[str, Any]], Any]], ...] = tuple(
            (name, self.code.evaluator(name)) for name in symbols.outputs)
        self._functions: dict[tuple[str, frozenset[str]], Callable[..., Any]] = {}

    @property
    def source(self) -> str:
        """The generated Python text (for reading and debugging)."""
        return "\n\n".join(self.code.sources)

    def function(self, output: str, set_aside: frozenset[str]) -> Callable[..., Any]:
        """The keyword function of `output`; `set_aside`: data whose negative answers read as unknown."""
        key = (output, set_aside)
        found = self._functions.get(key)
        if found is None:
            found = self._functions[key] = self.code.keywords(output, set_aside, self._general(output, set_aside))
        return found

    def _general(self, output: str, set_aside: frozenset[str]) -> Callable[..., Any]:
        """The path for values the generated guard does not take: read as `evaluate` reads them."""
        evaluator = dict(self.evaluators)[output]
        read = self.reader.read
        negatives = self.negatives

        def general(extra: dict[str, Any] | None, given: dict[str, Any]) -> Any:
            situation = {key: value for key, value in given.items() if value is not None}
            if extra:
                situation.update(extra)
            data = read(situation)
            for name in set_aside:
                if name in data and data[name] in negatives[name]:
                    del data[name]
            result = evaluator(data)
            return result.value if result.status == "value" else UNKNOWN

        return general

