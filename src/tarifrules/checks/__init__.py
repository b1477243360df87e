"""Static checks: pure functions `Context → diagnostics`, run in order.

Each module holds one family of checks. `check_program` never raises: a check that
meets a construct an earlier error made meaningless stays silent rather than cascade.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .. import nodes as n
from ..diagnostics import Diagnostic

if TYPE_CHECKING:
    from .context import Context

Check = Callable[["Context"], Iterable[Diagnostic]]


def check_program(program: n.Program, profile: str | None = None) -> list[Diagnostic]:
    """Every diagnostic for a parsed program, errors and warnings, in file order.

    `profile` (`cantine-1-euro`) adds the checks of a named set of conditions.
    """
    # The families load here, not with the package: a rule set read back from the command
    # line's cache (`rulecache`) evaluates without any of them.
    from ..symbols import collect
    from .catalogue import check_catalogue, check_profile
    from .context import Context
    from .cycles import check_cycles, cycles
    from .examples import check_examples
    from .grids import check_grids
    from .header import check_header
    from .limits import check_limits
    from .names import check_names
    from .priorities import check_priorities
    from .scripts import check_scripts
    from .types import infer_types

    symbols = collect(program)
    too_deep = check_limits(program, symbols)
    if too_deep:  # the other checks walk definitions recursively: the file is refused before them
        loops = list(cycles(symbols))  # (a long loop is deep too: said as the loop it is)
        return sorted(loops or too_deep, key=lambda d: (d.span.line, d.span.column, d.code))
    kinds, type_problems = infer_types(program, symbols)
    context = Context(program, symbols, kinds)
    diagnostics: list[Diagnostic] = []
    diagnostics.extend(check_header(context))
    structural = [*check_names(context), *check_scripts(context), *check_cycles(context), *type_problems]
    diagnostics.extend(structural)
    if not any(d.is_error for d in structural):
        # Later checks evaluate conditions: they need names resolved, no cycle, sound types.
        later: tuple[Check, ...] = (check_grids, check_priorities, check_examples, check_catalogue)
        for check in later:
            diagnostics.extend(check(context))
        if profile is not None:
            diagnostics.extend(check_profile(context, profile))
    unique = {(d.code, d.span, d.message): d for d in diagnostics}
    return sorted(unique.values(), key=lambda d: (d.span.line, d.span.column, d.code))
