"""Every `.tarif` file shipped under `examples/` parses, and carries its worked examples.

Files in `examples/deliberations/a-corriger/` keep the bounds voted by the collectivité even
where they leave a gap or an overlap: they parse, and the checker (not the parser) reports
the defect.
"""

from pathlib import Path

import pytest

from tarifrules.diagnostics import TarifError
from tarifrules.parser import parse

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DELIBERATIONS = EXAMPLES / "deliberations"
FILES = sorted(EXAMPLES.rglob("*.tarif"))


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_examples_are_present() -> None:
    assert len([p for p in FILES if p.parent == DELIBERATIONS]) >= 8
    assert list((DELIBERATIONS / "a-corriger").glob("*.tarif"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_example_file_parses(path: Path) -> None:
    try:
        program = parse(_read(path), str(path))
    except TarifError as exc:  # pragma: no cover - shown only when a file breaks
        pytest.fail("\n".join(f"{d.span.line}:{d.span.column}: {d.message}" for d in exc.diagnostics))
    assert program.header.title
    assert program.header.get("applicable") is not None, "période d'application manquante"
    assert program.outputs, "aucun résultat déclaré"
    assert len(program.examples) >= 3, "au moins trois exemples par fichier"


def test_enough_worked_examples() -> None:
    direct = [p for p in FILES if p.parent == DELIBERATIONS]
    assert sum(len(parse(_read(p), str(p)).examples) for p in direct) >= 30
