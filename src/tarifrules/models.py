"""The JSON contract as pydantic models: what crosses the boundary to other programs.

`eval --json` / `explain --json` print an `EvaluationModel`, `check --json` a list of
`DiagnosticModel`. `json_schema()` gives the JSON Schema integrators can validate
against. Amounts are decimal strings (`"1.05"`), never binary floats.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class OutputModel(_Frozen):
    status: Literal["value", "unknown"]
    value: str | int | bool | None = Field(
        description="montant, taux (en %), décimal : chaîne décimale ; nombre : entier ; booléen ; "
        "date : AAAA-MM-JJ ; énumération : chaîne ; null si indéterminé"
    )
    unit: str | None = Field(description="« € », « % » ou null")


class StepModel(_Frozen):
    article: str = Field(description="numéro de l'article cité")
    title: str | None = Field(description="titre de l'article")
    name: str = Field(description="nom défini par la règle appliquée")
    text: str = Field(description="la phrase d'explication, en français")
    value: str = Field(description="la valeur obtenue, écrite à la française (« 2,10 € », « indéterminé »)")


class OutputExplanationModel(_Frozen):
    output: str
    status: Literal["value", "unknown"]
    display: str = Field(description="la valeur écrite à la française (« 1,05 € », « indéterminé »)")
    steps: list[StepModel]
    missing: list[str]


class EvaluationModel(_Frozen):
    file: str
    date: str = Field(description="date d'évaluation, AAAA-MM-JJ")
    outputs: dict[str, OutputModel]
    missing: list[str] = Field(description="données qui décideraient les résultats indéterminés")
    explanation: list[OutputExplanationModel]


class DiagnosticModel(_Frozen):
    severity: Literal["erreur", "avertissement"]
    code: str
    message: str
    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    hint: str | None


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)


def json_schema() -> dict[str, Any]:
    """JSON Schemas of the evaluation and diagnostic documents."""
    return {
        "evaluation": EvaluationModel.model_json_schema(by_alias=True),
        "diagnostic": DiagnosticModel.model_json_schema(by_alias=True),
    }
