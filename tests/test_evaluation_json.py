"""`Evaluation.to_json()` is built as plain data (no pydantic on the hot path of the service):
it must be exactly what `models.EvaluationModel` validates and dumps, field order and value
types included, and valid against the published JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import tarifrules
from tarifrules.examples import example_date, example_situation
from tarifrules.models import EvaluationModel, dump, json_schema

from .helpers import EXAMPLES

CLEAN = sorted(EXAMPLES.glob("*.tarif"))


def _documents(path: Path) -> list[dict[str, Any]]:
    """Every worked example of the file, the empty household, and each cited by a source."""
    ruleset = tarifrules.load(path, file=path.name)
    evaluations = [ruleset.evaluate(example_situation(example), date=example_date(example, ruleset.valid_from))
                   for example in ruleset.program.examples]
    evaluations.append(ruleset.evaluate({}, date=ruleset.valid_from))
    cited = {name: "source CAF via API Particulier, calculé en 10/2025" for name in ruleset.data_names}
    evaluations += [evaluation.with_sources(cited) for evaluation in evaluations]
    return [evaluation.to_json() for evaluation in evaluations]


@pytest.mark.parametrize("path", CLEAN, ids=lambda p: p.name)
def test_to_json_is_what_the_model_validates_and_dumps(path: Path) -> None:
    schema = json_schema()["evaluation"]
    for document in _documents(path):
        written = json.dumps(document, ensure_ascii=False)
        assert json.dumps(dump(EvaluationModel.model_validate(document)), ensure_ascii=False) == written
        jsonschema.validate(json.loads(written), schema)


def test_the_documents_checked_hold_every_part_of_the_model() -> None:
    documents = [document for path in CLEAN for document in _documents(path)]
    outputs = [output for document in documents for output in document["outputs"].values()]
    assert {output["status"] for output in outputs} == {"value", "unknown"}
    assert {type(output["value"]) for output in outputs} >= {str, bool, type(None)}
    assert any(document["missing"] for document in documents)
    assert any(document["sources"] for document in documents)
