"""The service's documents as pydantic models: they make the OpenAPI description.

Answers are built as plain dictionaries (an evaluation is `Evaluation.to_json()`, already
validated by `models.EvaluationModel`, with the `version` of the file that computed it);
these models document them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..models import DiagnosticModel, EvaluationModel


class EvaluationRequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str = Field(description="nom du fichier servi (« restauration-scolaire », avec ou sans « .tarif »)")
    situation: dict[str, Any] = Field(default={}, description="valeurs des données du foyer ; schéma : "
                                                              "GET /schema/{fichier}")
    date: str | None = Field(default=None, description="date du calcul, JJ/MM/AAAA ou AAAA-MM-JJ "
                                                        "(défaut : aujourd'hui)")


class VersionModel(BaseModel):
    sha256: str = Field(description="empreinte SHA-256 (hexadécimal) des octets du fichier qui a calculé ; "
                                    "`sha256sum fichier.tarif` donne la même")
    valid_from: str = Field(description="début de la période d'application de ce texte, AAAA-MM-JJ")
    valid_until: str | None = Field(description="fin de la période d'application, ou null")


class ServedEvaluationModel(EvaluationModel):
    version: VersionModel = Field(description="la version du fichier qui a calculé cette réponse")


class ExplanationModel(ServedEvaluationModel):
    text: str = Field(description="l'explication en français, article par article (comme `tarifrules explain`)")


class FileModel(BaseModel):
    name: str = Field(description="nom à donner dans `file` et dans les adresses")
    file: str = Field(description="nom du fichier dans le dossier")
    status: Literal["ok", "erreur"] = Field(description="« erreur » : le fichier sur le disque ne se vérifie pas, "
                                                        "ses exemples échouent ou il est refusé (voir reason)")
    served: bool = Field(description="une version vérifiée est servie (la précédente si le fichier est en erreur)")
    version: VersionModel | None = Field(description="la version servie, ou null")
    reason: str | None = Field(description="pourquoi le fichier sur le disque n'est pas servi (il ne se vérifie "
                                           "pas, ses exemples échouent, lien hors du dossier…), ou null")
    title: str | None = Field(description="titre de la délibération servie")
    valid_from: str | None = Field(description="début de la période d'application, AAAA-MM-JJ")
    valid_until: str | None = Field(description="fin de la période d'application, ou null")
    data: list[str] = Field(description="données de la situation")
    outputs: list[str] = Field(description="résultats calculés")
    diagnostics: list[DiagnosticModel] = Field(description="erreurs du fichier sur le disque, ou ses avertissements")


class FilesModel(BaseModel):
    files: list[FileModel]


class ErrorModel(BaseModel):
    errors: list[DiagnosticModel] = Field(description="diagnostics en français, codes stables (docs/erreurs.md)")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorModel, "description": text} for status, text in (
        (400, "corps illisible : JSON invalide (H001)"),
        (408, "corps de la requête non reçu à temps (H013)"),
        (404, "fichier inconnu (H003)"),
        (409, "fichier en erreur, aucune version servie (H005)"),
        (413, "requête trop grosse (H004)"),
        (415, "corps qui n'est pas du JSON en UTF-8 (H012)"),
        (422, "requête, situation ou date refusée, ou calcul impossible (H002, H008, H009, D001–D009, E001–E006)"),
    )
}
