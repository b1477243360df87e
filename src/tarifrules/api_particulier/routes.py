"""The v3+ routes the fake API Particulier serves, their scopes and their parameter checks.

Facts: REFERENCE §2.1 (routes, gate scopes, cache), §3 (parameters), §4 (keys ↔ scopes),
§7.4 (422 codes). Each check returns `None` or the 422 error object (with `source.parameter`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Query = Mapping[str, list[str]]

QF = {"quotient_familial": "cnaf_quotient_familial", "allocataires": "cnaf_allocataires",
      "enfants": "cnaf_enfants", "adresse": "cnaf_adresse"}
EAJE = {k: f"cnav_participation_familiale_eaje_{s}" for k, s in (
    ("allocataires", "allocataires"), ("enfants", "enfants"), ("adresse", "adresse"),
    ("parametres_calcul_participation_familiale", "parametres_calcul"))}
CNOUS = {"statut_boursier": "cnous_statut_boursier", "echelon_bourse": "cnous_echelon_bourse",
         "periode_versement_bourse": "cnous_periode_versement", "etablissement_etudes": "cnous_ville_etudes",
         "email": "cnous_email", "identite": "cnous_identite"}
MESRI = {"identite": "mesri_identite", "admissions": "mesri_admissions"}
MESRI_ADMISSION = {"date_debut": "mesri_admissions", "date_fin": "mesri_admissions",
                   "est_inscrit": "mesri_admission_inscrit", "regime_formation": "mesri_admission_regime_formation",
                   "code_cog_insee_commune": "mesri_admission_commune_etudes",
                   "etablissement_etudes": "mesri_admission_etablissement_etudes"}
FT_STATUT = {"identifiant": "pole_emploi_identifiant", "identite": "pole_emploi_identite",
             "contact": "pole_emploi_contact", "adresse": "pole_emploi_adresse",
             "inscription": "pole_emploi_inscription"}
FT_INDEMNITES = {"identifiant": "", "paiements": "pole_emploi_paiements"}  # "" = always present
MEN = {"identite": "men_statut_identite", "annee_scolaire": "men_statut_scolarite",
       "est_scolarise": "men_statut_scolarite", "statut_eleve": "men_statut_scolarite",
       "etablissement": "men_statut_etablissement",
       "module_elementaire_formation": "men_statut_module_elementaire_formation",
       "est_boursier": "men_statut_boursier", "echelon_bourse": "men_echelon_bourse",
       "regime_pensionnat": "men_regime_pensionnat"}


def _benefit(scope: str, majoration: str | None = None, participation: bool = False) -> dict[str, str]:
    keys = {"est_beneficiaire": scope, "date_debut_droit": scope}
    if majoration:
        keys["avec_majoration"] = majoration
    if participation:
        keys["avec_participation"] = scope
    return keys


DSS_KEYS: dict[str, dict[str, str]] = {
    "quotient_familial": QF,
    "complementaire_sante_solidaire": _benefit("complementaire_sante_solidaire", participation=True),
    "revenu_solidarite_active": _benefit("revenu_solidarite_active", "revenu_solidarite_active_majoration"),
    "prime_activite": _benefit("prime_activite", "prime_activite_majoration"),
    "allocation_adulte_handicape": _benefit("allocation_adulte_handicape"),
    "allocation_soutien_familial": _benefit("allocation_soutien_familial"),
    "allocation_enfant_handicape": {"status": "cnav_allocation_enfant_handicape",
                                    "date_debut_droit": "cnav_allocation_enfant_handicape"},
    "participation_familiale_eaje": EAJE,
}
EXTRA_GATE = {"cnous": ("cnous_statut_bourse",)}  # gate scopes that unlock no v4 key (REFERENCE §4.8)


@dataclass(frozen=True)
class Route:
    path: str
    family: str  # dss, cnous, mesri, men, france_travail
    resource: str  # second path segment: quotient_familial, etudiant_boursier, statut…
    mode: str  # identite, france_connect, ine, identifiant
    keys: Mapping[str, str]  # top-level key of `data` → scope that governs it ("" = always)
    nested: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # list key → item key → scope
    cache_ttl: int | None = None  # seconds (DSS only)

    @property
    def gate(self) -> frozenset[str]:
        """At least one of these scopes opens the route (REFERENCE §2.1: all modes share the list)."""
        full = {"cnous": CNOUS, "mesri": MESRI}.get(self.family, self.keys)
        scopes = {s for s in full.values() if s} | set(EXTRA_GATE.get(self.family, ()))
        return frozenset(scopes | {s for inner in self.nested.values() for s in inner.values()})


def _routes() -> dict[str, Route]:
    routes: dict[str, Route] = {}
    for resource, keys in DSS_KEYS.items():
        for mode in ("identite", "france_connect"):
            path = f"/v3/dss/{resource}/{mode}"
            ttl = 86400 if resource == "quotient_familial" else 3600
            routes[path] = Route(path, "dss", resource, mode, keys, cache_ttl=ttl)
    for mode in ("identite", "ine", "france_connect"):
        cnous = {k: v for k, v in CNOUS.items() if mode != "france_connect" or k != "identite"}
        mesri = {k: v for k, v in MESRI.items() if mode != "france_connect" or k != "identite"}
        path = f"/v4/cnous/etudiant_boursier/{mode}"
        routes[path] = Route(path, "cnous", "etudiant_boursier", mode, cnous)
        path = f"/v3/mesri/statut_etudiant/{mode}"
        routes[path] = Route(path, "mesri", "statut_etudiant", mode, mesri, {"admissions": MESRI_ADMISSION})
    for resource, keys in (("statut", FT_STATUT), ("indemnites", FT_INDEMNITES)):
        path = f"/v3/france_travail/{resource}/identifiant"
        routes[path] = Route(path, "france_travail", resource, "identifiant", keys)
    routes["/v5/men/scolarites/identite"] = Route("/v5/men/scolarites/identite", "men", "scolarites", "identite", MEN)
    return routes


ROUTES = _routes()

# identity params each family matches on (REFERENCE §3.1)
DSS_IDENTITY = ("nomNaissance", "nomUsage", "prenoms", "anneeDateNaissance", "moisDateNaissance",
                "jourDateNaissance", "sexeEtatCivil", "codeCogInseePaysNaissance",
                "codeCogInseeCommuneNaissance", "nomCommuneNaissance", "codeCogInseeDepartementNaissance")
STUDENT_IDENTITY = tuple(n for n in DSS_IDENTITY if n not in ("nomUsage", "codeCogInseePaysNaissance"))
MEN_IDENTITY = ("nomNaissance", "prenoms", "sexeEtatCivil", "anneeDateNaissance", "moisDateNaissance",
                "jourDateNaissance")
IDENTITY = {"dss": DSS_IDENTITY, "cnous": STUDENT_IDENTITY, "mesri": STUDENT_IDENTITY, "men": MEN_IDENTITY}


# ------------------------------------------------------------------ query helpers


def values(query: Query, name: str) -> list[str]:
    return [v for v in (*query.get(name, []), *query.get(f"{name}[]", [])) if v != ""]


def first(query: Query, name: str) -> str | None:
    found = values(query, name)
    return found[0] if found else None


def unprocessable(code: str, detail: str, parameter: str) -> dict[str, Any]:
    return {"code": code, "title": "Entité non traitable", "detail": detail, "source": {"parameter": parameter},
            "meta": {}}


def format_error(parameter: str) -> dict[str, Any]:
    return unprocessable("00366", "Un ou plusieurs paramètres de civilité ne sont pas correctement formatés",
                         parameter)


# ------------------------------------------------------------------ identity checks

_COMMUNE = re.compile(r"^([013-9][0-9]|2[AB1-9])[0-9]{3}\Z")
_FIRST_NAME = re.compile(r"^[a-zA-ZÀ-ÖØ-öø-ÿ' -]+$")
_INE = re.compile(r"^[0-9a-zA-Z]{11}$")
_UAI = re.compile(r"^[0-9]{7}[A-Za-z0-9]\Z")
_MISSING = {"nomNaissance": ("00420", "Le nom de naissance est manquant"),
            "prenoms": ("00421", "Le(s) prenom(s) est manquant"),
            "anneeDateNaissance": ("00422", "L'annee de naissance est manquante"),
            "moisDateNaissance": ("00423", "Le mois de naissance est manquant"),
            "jourDateNaissance": ("00424", "Le jour de naissance est manquant"),
            "sexeEtatCivil": ("00427", "Le sexe de l'état civil est manquant")}
_REQUIRED = {"dss": ("nomNaissance", "prenoms", "sexeEtatCivil"),
             "cnous": ("nomNaissance", "prenoms", "anneeDateNaissance", "moisDateNaissance", "jourDateNaissance"),
             "mesri": ("nomNaissance", "prenoms", "anneeDateNaissance", "moisDateNaissance", "jourDateNaissance",
                       "sexeEtatCivil"),
             "men": MEN_IDENTITY}


def check_identity(family: str, query: Query, today: dt.date) -> dict[str, Any] | None:
    """The real API's identity checks for one family (REFERENCE §3.1, §7.4)."""
    for name in _REQUIRED[family]:
        if not values(query, name):
            code, detail = _MISSING[name]
            return unprocessable(code, detail, name)
    prenoms = values(query, "prenoms")
    if len(prenoms) > (1 if family == "mesri" else 3) or not all(_FIRST_NAME.match(p) for p in prenoms):
        return format_error("prenoms")
    sexe = first(query, "sexeEtatCivil")
    if sexe is not None and sexe.upper() not in ("M", "F"):
        return format_error("sexeEtatCivil")
    problem = _check_date(query, today)
    if problem is not None:
        return problem
    if family == "men":
        return None
    commune = first(query, "codeCogInseeCommuneNaissance")
    if commune is not None and not _COMMUNE.match(commune):
        return format_error("codeCogInseeCommuneNaissance")
    department = first(query, "codeCogInseeDepartementNaissance")
    if department is not None and not 2 <= len(department) <= 3:
        return unprocessable("00428", "Le code cog du département de naissance est manquant ou invalide",
                             "codeCogInseeDepartementNaissance")
    if family != "dss":
        return None
    country = first(query, "codeCogInseePaysNaissance") or ""
    if len(country) != 5 or not (country.isascii() and country.isdigit()):
        return unprocessable("00400", "Le code pays INSEE n'est pas correctement formaté", "codeCogInseePaysNaissance")
    by_name = first(query, "nomCommuneNaissance") and department and first(query, "anneeDateNaissance")
    if country == "99100" and not commune and not by_name:
        return unprocessable("00426", "Le code cog de la commune de naissance est manquant",
                             "codeCogInseeCommuneNaissance")
    if country != "99100" and (commune or first(query, "nomCommuneNaissance") or department):
        return format_error("codeCogInseeCommuneNaissance")
    return None


def _check_date(query: Query, today: dt.date) -> dict[str, Any] | None:
    parts = [first(query, n) for n in ("anneeDateNaissance", "moisDateNaissance", "jourDateNaissance")]
    for name, part in zip(("anneeDateNaissance", "moisDateNaissance", "jourDateNaissance"), parts, strict=True):
        if part is not None and not (part.isascii() and part.isdigit()):
            return format_error(name)
    if None in parts:
        return None
    year, month, day = (int(p) for p in parts if p is not None)
    try:
        born = dt.date(year, month, day)
    except ValueError:
        born = None
    if born is None or not dt.date(1900, 1, 1) <= born < today:
        return unprocessable("00425", "La date de naissance n'est pas valide", "anneeDateNaissance")
    return None


def check_ine(query: Query) -> dict[str, Any] | None:
    ine = first(query, "ine")
    if ine is None or not _INE.match(ine):
        return unprocessable("00360", "Le numéro d'INE n'est pas correctement formatté", "ine")
    return None


def check_campaign_year(query: Query, today: dt.date) -> dict[str, Any] | None:
    """`campaignYear` ≥ 2021 (SPEC3); the fake accepts up to the current year (upper bound UNVERIFIED)."""
    year = first(query, "campaignYear")
    if year is not None and not (year.isascii() and year.isdigit() and 2021 <= int(year) <= today.year):
        return unprocessable("00368", "L'année de campagne (campaignYear) n'est pas correctement formatée: doit "
                             "être comprise entre 2021 et l'année courante - 1", "campaignYear")
    return None


def check_qf_period(query: Query, today: dt.date) -> tuple[int, int] | dict[str, Any]:
    """(annee, mois) requested, defaults the current month (REFERENCE §10.1), or the 422."""
    year_text, month_text = first(query, "annee"), first(query, "mois")
    if year_text is not None and not (year_text.isascii() and year_text.isdigit()):
        return unprocessable("00356", "L'année demandée doit être l'année en cours (N), N-1 ou N-2.",
                             "annee")
    if month_text is not None and not (month_text.isascii() and month_text.isdigit()):
        return unprocessable("00354", "Le mois demandé est incorrect ou est dans le futur.", "mois")
    year = int(year_text) if year_text else today.year
    month = int(month_text) if month_text else today.month
    if year not in range(today.year - 2, today.year + 1):
        return unprocessable("00356", "L'année demandée doit être l'année en cours (N), N-1 ou N-2.",
                             "annee")
    if not 1 <= month <= 12 or (year == today.year and month > today.month):
        return unprocessable("00354", "Le mois demandé est incorrect ou est dans le futur.", "mois")
    return year, month


def check_men_search(query: Query) -> dict[str, Any] | None:
    """`anneeScolaire` and exactly one of UAI / perimeter (REFERENCE §3.2)."""
    school_year = first(query, "anneeScolaire") or ""
    parts = school_year.split("-")
    if not (len(parts) in (1, 2) and all(p.isascii() and p.isdigit() and len(p) == 4 for p in parts)):
        return unprocessable("00411", "L'année scolaire n'est pas correctement formatée: doit être sur le format "
                             "YYYY ou YYYY-YYYY)", "anneeScolaire")
    uai = first(query, "codeEtablissement")
    departments, regions = values(query, "codesBcnDepartements"), values(query, "codesBcnRegions")
    if departments and regions:
        return unprocessable("00413", "Le périmètre géographique est invalide: exactement un type de périmètre doit "
                             "être fourni", "codesBcnDepartements")
    perimeter = departments or regions
    if uai and perimeter:
        return unprocessable("00419", "Les paramètres codeEtablissement et périmètre (codesBcnRegions/"
                             "codesBcnDepartements) sont mutuellement exclusifs", "codeEtablissement")
    if not perimeter and not (uai and _UAI.match(uai)):
        return unprocessable("00410", "Le code établissement n'est pas correctement formaté: celui doit être "
                             "composé de 7 chiffres et 1 lettre", "codeEtablissement")
    degree = first(query, "degreEtablissement")
    if perimeter and degree is not None and degree not in ("1D", "2D"):
        return unprocessable("00412", "Le degré d'établissement n'est pas correctement formaté: doit être 1D ou 2D",
                             "degreEtablissement")
    return None
