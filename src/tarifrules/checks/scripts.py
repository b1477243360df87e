"""Names that do not look like what they are: letters of another alphabet (T049), two names
that look the same on screen (T031).

A Cyrillic `а` pasted into `quotient_fаmilial` makes a new name that the eye reads as
`quotient_familial`: the household's `quotient_familial` is then never read, and the
answer « manque : quotient_fаmilial » looks like what the user typed. The messages name
the odd letters by their Unicode code point and name, which show the difference.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..characters import difference, foreign_letters, letter, lookalike, script_adjective, skeleton
from ..diagnostics import Diagnostic, warning
from ..span import Span
from .context import Context


def _declared_names(context: Context) -> list[tuple[str, Span]]:
    """Every declared or defined name once, where it first appears, in file order."""
    program = context.program
    found: dict[str, Span] = {}
    for declaration in (*program.data, *program.outputs):
        start = declaration.span
        span = Span(start.file, start.line, start.column, start.line, start.column + len(declaration.name))
        found.setdefault(declaration.name, span)
    for article in program.articles:
        for definition in article.definitions:
            found.setdefault(definition.name, definition.name_span)
    return sorted(found.items(), key=lambda item: (item[1].line, item[1].column))


def _retyped(name: str, foreign: list[str]) -> str:
    """The name with each foreign letter replaced by the ASCII letter it looks like."""
    return "".join(lookalike(char) or char if char in foreign else char for char in name)


def _mixed_scripts(name: str, span: Span, owner: str | None = None) -> Diagnostic | None:
    """T049 for a name, or for a value of the list of `owner` (`parmi (bоursier, …)`)."""
    mixed = foreign_letters(name)
    if mixed is None:
        return None
    main, foreign = mixed
    letters = ", ".join(map(letter, foreign[:3])) + (", …" if len(foreign) > 3 else "")
    retyped = _retyped(name, foreign)
    hint = ("une lettre d'un autre alphabet ressemble à une lettre latine mais reste une autre lettre : "
            "retapez le nom au clavier")
    if retyped != name and retyped.isascii():
        hint += f" (« {retyped} »)"
    what = f"la valeur « {name} » de « {owner} »" if owner else f"le nom « {name} »"
    return warning("T049", f"{what} mélange des alphabets : {letters} parmi des lettres "
                   f"{script_adjective(main)}s", span, hint)


def check_scripts(context: Context) -> Iterator[Diagnostic]:
    names = _declared_names(context)
    for name, span in names:
        if not name.isascii():
            mixed = _mixed_scripts(name, span)
            if mixed is not None:
                yield mixed
    for declaration in context.program.data:
        for choice in declaration.type.choices:
            if not choice.isascii():
                mixed = _mixed_scripts(choice, declaration.span, declaration.name)
                if mixed is not None:
                    yield mixed
    if all(name.isascii() for name, _ in names):
        return  # like Rust's lint: `l`/`1`, `O`/`0` or `rn`/`m` between ASCII names are left to the reader
    first_with: dict[str, tuple[str, Span]] = {}
    for name, span in names:
        key = skeleton(name)
        other = first_with.setdefault(key, (name, span))
        if other[0] == name or (name.isascii() and other[0].isascii()):
            continue
        shown = difference(name, other[0])
        yield warning(
            "T031", f"« {name} » se confond à l'écran avec « {other[0]} », déclaré ligne {other[1].line}"
            + (f" : {shown}" if shown else ""), span,
            "ce sont deux noms différents pour tarifrules : retapez au clavier celui qui a été copié, "
            "ou donnez-leur des noms qui se distinguent à l'œil")
