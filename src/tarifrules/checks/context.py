"""What every check reads: the program, its symbol table and the inferred kinds."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .. import nodes as n
from ..symbols import Symbols
from ..values import HUNDRED, WIDE


@dataclass(frozen=True)
class Context:
    program: n.Program
    symbols: Symbols
    kinds: dict[str, n.Kind | None]

    def kind(self, name: str) -> n.Kind | None:
        declaration = self.symbols.data.get(name)
        if declaration is not None:
            return declaration.type.kind
        return self.kinds.get(name)

    def domain(self, name: str) -> tuple[Decimal | None, Decimal | None]:
        """Lowest and highest value a numeric datum may take (data are never negative)."""
        declaration = self.symbols.data.get(name)
        if declaration is None:
            return Decimal(0), None
        spec = declaration.type
        low = spec.minimum.value if spec.minimum else Decimal(0)
        high = spec.maximum.value if spec.maximum else None
        if spec.kind is n.Kind.TAUX:
            low = WIDE.divide(low, HUNDRED)
            high = WIDE.divide(high, HUNDRED) if high is not None else None
        return low, high

    def step(self, name: str | None) -> Decimal | None:
        """Granularity of a datum as a step (None: continuous)."""
        declaration = self.symbols.data.get(name) if name else None
        if declaration is None:
            return None
        return {
            n.Granularity.ENTIER: Decimal(1),
            n.Granularity.CENTIME: Decimal("0.01"),
        }.get(declaration.type.granularity or n.Granularity.CONTINU)
