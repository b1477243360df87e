"""Round-trip properties of the formatter, on random ASTs and on every example file.

(a) formatting keeps the meaning: `parse(format_program(p)) == p` (AST equality ignores spans);
(b) formatting is idempotent: formatting formatted text changes nothing (comments included).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tarifrules import nodes as n
from tarifrules.diagnostics import TarifError
from tarifrules.formatter import format_program, format_source
from tarifrules.parser import parse

from .strategies import expressions, program_with, programs

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_round_trip(program: n.Program) -> None:
    text = format_program(program)
    assert parse(text) == program, text
    assert format_source(text) == text


@FAST
@given(expressions)
def test_every_expression_survives_formatting(expression: n.Expr) -> None:
    check_round_trip(program_with(expression))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs)
def test_every_program_survives_formatting(program: n.Program) -> None:
    check_round_trip(program)


def _example_files() -> list[Path]:
    return sorted(EXAMPLES.glob("**/*.tarif"))


@pytest.mark.parametrize("path", _example_files(), ids=lambda path: str(path.relative_to(EXAMPLES)))
def test_example_files_survive_formatting(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    try:
        program = parse(text, str(path))
    except TarifError:
        pytest.skip("fichier volontairement illisible")
    formatted = format_program(program)
    assert parse(formatted, str(path)) == program
    assert format_source(formatted, str(path)) == formatted


@st.composite
def commented(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A formatted random program with comments added (on their own lines and after code),
    and the comments added."""
    lines = format_program(draw(programs)).splitlines()
    code = [bool(line) for line in lines]  # lines that may take a trailing comment
    comments = []
    for number in range(draw(st.integers(1, 6))):
        index = draw(st.integers(0, len(lines)))
        if index < len(lines) and code[index] and draw(st.booleans()):
            comments.append(f"# après {number}")
            lines[index] += f"  {comments[-1]}"
            code[index] = False
        else:
            comments.append(f"# ligne {number}")
            lines.insert(index, f"{' ' * draw(st.integers(0, 4))}{comments[-1]}")
            code.insert(index, False)
    return "\n".join(lines) + "\n", comments


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commented())
def test_comments_are_kept_and_do_not_move_twice(case: tuple[str, list[str]]) -> None:
    text, comments = case
    once = format_source(text)
    assert format_source(once) == once
    assert parse(once) == parse(text)
    assert sorted(c.text for c in parse(once).comments) == sorted(comments)
