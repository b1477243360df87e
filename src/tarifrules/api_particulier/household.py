"""Who to ask API Particulier about: the people of one household (`identite.json`).

A household names, for each family of routes, the person the API must be called with:
the CAF/MSA allocataire for the DSS routes (quotient familial, RSA, C2S…), the pupil and
their school for the Éducation nationale, the student (identity or INE) for the CNOUS and
the MESRI, the France Travail identifiant, or the user's FranceConnect access token.
Keys are French because integrators write this file by hand. Errors name fields, never
values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .client import Identity, parse_identity_model

__all__ = ["Household", "Pupil"]


class Pupil(Identity):
    """A pupil: their identité pivot and the UAI of their school (MEN routes)."""

    code_etablissement: str = Field(pattern=r"^[0-9]{7}[A-Za-z0-9]$")


class Household(BaseModel):
    """The people of one household; every part is optional (an absent one is never called)."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True, extra="forbid")

    allocataire: Identity | None = None
    eleve: Pupil | None = None
    etudiant: Identity | None = None
    ine: str | None = Field(default=None, pattern=r"^[0-9a-zA-Z]{11}$")
    identifiant_france_travail: str | None = Field(default=None, min_length=1)
    jeton_france_connect: str | None = Field(default=None, min_length=1)
    numero_fiscal: str | None = Field(default=None, pattern=r"^[0-9]{13}$")  # API Impôt particulier (DGFiP)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Household:
        """Build from a mapping; a bad household raises `TarifError` A002 naming fields, not values."""
        return parse_identity_model(cls, data, "voir docs/api-particulier.md, « Le fichier d'identité »")

    def __repr__(self) -> str:  # never show identity values in tracebacks or logs
        return "Household(…)"

    __str__ = __repr__
