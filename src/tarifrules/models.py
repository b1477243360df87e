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


class SourceModel(_Frozen):
    datum: str
    value: str = Field(description="la valeur comme l'explication l'écrit (« 650 € »)")
    source: str = Field(description="« source CAF via API Particulier, calculé en 10/2025 »")


class EvaluationModel(_Frozen):
    file: str
    date: str = Field(description="date d'évaluation, AAAA-MM-JJ")
    outputs: dict[str, OutputModel]
    missing: list[str] = Field(description="données qui décideraient les résultats indéterminés")
    explanation: list[OutputExplanationModel]
    sources: list[SourceModel] = Field(default=[], description="données lues et leur source (API Particulier…)")


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


# ------------------------------------------------------------------ DataPass request (datapass --format json)


class DataPassScopeModel(_Frozen):
    scope: str = Field(description="valeur DataPass du scope (case à cocher)")
    label: str | None = Field(description="libellé DataPass du scope")
    group: str | None = Field(description="groupe DataPass (« API Quotient familial CAF & MSA »…)")
    data: list[str] = Field(description="données de la délibération qui le demandent")
    articles: list[str] = Field(description="numéros des articles qui lisent ces données")
    rules: list[str] = Field(description="texte des règles qui les lisent (« article 1 : … »)")
    justification: str = Field(description="phrase de justification, en français")
    modes: list[str] = Field(description="modes d'appel des routes : identite_pivot, france_connect, identifiant, ine")
    france_connect: bool = Field(description="une route FranceConnect existe pour ce scope")
    offered_by_form: bool = Field(description="le formulaire choisi propose ce scope")
    unjustified_for_use_case: bool = Field(description="la page du cas d'usage classe ce scope « injustifié »")


class DataPassHabilitationModel(_Frozen):
    habilitation: str = Field(description="« api_impot_particulier » : demande DataPass distincte")
    forms: list[str] = Field(description="formulaires DataPass de ce cas d'usage (bac à sable puis production)")
    url: str = Field(description="adresse du formulaire bac à sable (sans pré-remplissage)")
    scopes: list[DataPassScopeModel]
    year_scopes: list[str] = Field(description="scopes d'année dont l'un doit être coché")


class DataPassModel(_Frozen):
    files: list[str]
    form: str = Field(description="identifiant (form_uid) du formulaire DataPass suggéré")
    form_name: str
    use_case: str | None = Field(description="cas d'usage DataPass du formulaire (null : demande libre)")
    form_forced: bool = Field(description="formulaire imposé par --formulaire")
    form_reason: str = Field(description="pourquoi ce formulaire")
    intitule: str
    description: str
    cadre_juridique_nature: str
    cadre_juridique_url: str | None
    scopes: list[DataPassScopeModel]
    modalities: list[str] = Field(description="modalités DataPass possibles pour tous les scopes "
                                              "(params, france_connect)")
    common_modes: list[str] = Field(description="modes d'appel communs à toutes les routes demandées")
    france_connect_possible: bool
    france_connect_blockers: list[str] = Field(description="scopes sans route FranceConnect")
    retention_months: int = Field(description="durée de conservation proposée, en mois")
    retention_rule: str
    recipients: str = Field(description="destinataires des données (brouillon à adapter)")
    declared: list[str] = Field(description="données déclarées par la famille (aucun scope)")
    unused: list[str] = Field(description="données déclarées mais jamais lues : ne pas les demander")
    unbound: list[str] = Field(description="données sans source reconnue dans le catalogue")
    other_habilitations: list[DataPassHabilitationModel]
    warnings: list[str]
    unverified: list[str] = Field(description="points que les sources marquent UNVERIFIED")
    manual_steps: list[str] = Field(description="ce qui reste à faire à la main dans DataPass")
    exact: bool = Field(description="les scopes viennent d'une énumération exacte des foyers")
    link: str = Field(description="lien pré-rempli vers le formulaire DataPass")
