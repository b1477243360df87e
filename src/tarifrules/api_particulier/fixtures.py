"""Fixture households of the fake API Particulier: every identity and value here is invented.

A `Person` is matched on its identity pivot (the query parameters a caller sends, compared
lower-cased and on the exact set of parameters, like staging — REFERENCE §11.2) or reached
through a FranceConnect token bound to its `key`, or through its INE. `answers` gives, per
resource (the second segment of a route: `quotient_familial`, `revenu_solidarite_active`,
`statut_etudiant`, `scolarites`…), the status and either the `data` object (200) or the error
object. A person known to the CAF (`caf=True`) who has no explicit answer for a DSS benefit
gets "not a beneficiary"; anyone else gets the provider's 404. `failure` makes the provider
fail: always (`failures=None`) or for the first `failures` calls of each route only.

France Travail answers are keyed by `identifiant`. Shapes follow REFERENCE §4 and the
official OpenAPI; error bodies follow REFERENCE §7.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Answer = tuple[int, dict[str, Any]]
Failure = Literal["reponse", "reseau", "maintenance", "delai"]

MAINTENANCE_RETRY_IN = 120  # seconds announced in `meta.retry_in` by the fake's maintenance answers
NETWORK_RETRY_IN = 10  # `meta.retry_in` of the real 00501 "Erreur réseau" (OpenAPI examples)

# family → (provider code prefix, provider name) used in provider-side error codes (REFERENCE §7.3)
PROVIDERS: dict[str, tuple[str, str]] = {
    "dss": ("37", "CNAV"), "cnous": ("26", "CNOUS"), "mesri": ("25", "MESRI"), "men": ("30", "MEN"),
    "france_travail": ("24", "France Travail"),
}
DSS_BENEFITS = ("complementaire_sante_solidaire", "revenu_solidarite_active", "prime_activite",
                "allocation_adulte_handicape", "allocation_soutien_familial", "allocation_enfant_handicape",
                "participation_familiale_eaje")


# ------------------------------------------------------------------ error bodies


def provider_error(code: str, title: str, detail: str, provider: str) -> dict[str, Any]:
    return {"code": code, "title": title, "detail": detail, "meta": {"provider": provider}}


CNAF_NOT_FOUND = provider_error("23003", "Dossier allocataire absent CNAF",
                                "Le dossier allocataire n'a pas été trouvé auprès de la CNAF.", "CNAF")
CNAV_ABSENT = provider_error("37003", "Dossier allocataire absent CNAV",
                             "Le dossier allocataire n'a pas été trouvé auprès de la CNAV.", "CNAV")
CNAV_INEXISTANT = provider_error("37003", "Entité non trouvée",
                                 "Dossier allocataire inexistant. Le document ne peut être édité.", "CNAV")
EAJE_NOT_ELIGIBLE = provider_error("37003", "Allocataire non éligible",
                                   "L'allocataire n'a aucun enfant de moins de 7 ans : il n'est pas éligible "
                                   "à la participation familiale EAJE.", "CNAV")
CNOUS_NOT_FOUND = provider_error("26003", "Entité non trouvée", "Aucun étudiant boursier n'a pu être trouvé avec "
                                 "les critères de recherche fournis.", "CNOUS")
MESRI_NOT_FOUND = provider_error("25003", "Entité non trouvée",
                                 "Aucun étudiant n'a pu être trouvé avec les critères de recherche fournis.", "MESRI")
MEN_NOT_FOUND = provider_error("30003", "Entité non trouvée",
                               "Aucun élève n'a pu être trouvé avec les critères de recherche fournis", "MEN")
FT_NOT_FOUND = provider_error("24003", "Entité non trouvée", "Aucune situation France Travail n'a pu être trouvée "
                              "avec les critères de recherche fournis.", "France Travail")
QF_NOT_FOUND = CNAV_ABSENT

# resource → the 404 of someone the provider does not know (staging's fallback files)
NOT_FOUND: dict[str, dict[str, Any]] = {
    "quotient_familial": CNAV_ABSENT, "participation_familiale_eaje": CNAV_ABSENT,
    **{r: CNAV_INEXISTANT for r in DSS_BENEFITS if r != "participation_familiale_eaje"},
    "etudiant_boursier": CNOUS_NOT_FOUND, "statut_etudiant": MESRI_NOT_FOUND, "scolarites": MEN_NOT_FOUND,
    "statut": FT_NOT_FOUND, "indemnites": FT_NOT_FOUND,
}


def failure_answer(kind: Failure, family: str) -> Answer:
    """The real body of a provider that is down (REFERENCE §7.2–7.4)."""
    prefix, provider = PROVIDERS[family]
    if kind == "reponse":
        return 502, provider_error(prefix + "999", "Erreur inconnue du fournisseur de données",
                                   "La réponse retournée par le fournisseur de données est invalide et inconnue de "
                                   "notre service. L'équipe technique a été notifiée de cette erreur pour "
                                   "investigation.", provider)
    if kind == "reseau":
        return 502, {"code": "00501", "title": "Erreur réseau",
                     "detail": "Problème de connexion au serveur distant. L'erreur peut venir soit du fournisseur, "
                               "soit de API Entreprise. Il s'agit souvent d'une erreur temporaire.",
                     "meta": {"retry_in": NETWORK_RETRY_IN}}
    if kind == "maintenance":
        error = provider_error(prefix + "020", "Maintenance du fournisseur de données",
                               "Le fournisseur de données est en maintenance de 23:00 à 23:45", provider)
        error["meta"]["retry_in"] = MAINTENANCE_RETRY_IN
        return 503, error
    return 504, provider_error(prefix + "002", "Intermédiaire hors-délai",
                               "Temps d’attente d’une réponse du fournisseur de données écoulé.", provider)


# ------------------------------------------------------------------ people


@dataclass(frozen=True)
class Person:
    key: str
    identity: Mapping[str, Any]
    answers: Mapping[str, Answer] = field(default_factory=dict)
    caf: bool = False
    campaigns: Mapping[int, dict[str, Any]] = field(default_factory=dict)  # CNOUS: campaign year → data
    ine: str | None = None
    failure: Failure | None = None
    failures: int | None = None  # None: always failing; n: the first n calls of each route fail


def identity(nom: str, prenoms: list[str], sexe: str, date: str, commune: str | None = None,
             pays: str = "99100", usage: str | None = None) -> dict[str, Any]:
    """Identity pivot query parameters (as the client sends them)."""
    year, month, day = date.split("-")
    out: dict[str, Any] = {"nomNaissance": nom, "prenoms": prenoms, "sexeEtatCivil": sexe,
                           "anneeDateNaissance": str(int(year)), "moisDateNaissance": str(int(month)),
                           "jourDateNaissance": str(int(day)), "codeCogInseePaysNaissance": pays}
    if commune is not None:
        out["codeCogInseeCommuneNaissance"] = commune
    if usage is not None:
        out["nomUsage"] = usage
    return out


def client_identity(params: Mapping[str, Any]) -> dict[str, Any]:
    """The same identity as a mapping for the client's `Identity.parse`."""
    out: dict[str, Any] = {"nom_naissance": params["nomNaissance"], "prenoms": list(params["prenoms"]),
                           "sexe": params["sexeEtatCivil"], "annee_naissance": int(params["anneeDateNaissance"]),
                           "mois_naissance": int(params["moisDateNaissance"]),
                           "jour_naissance": int(params["jourDateNaissance"]),
                           "code_pays_naissance": params["codeCogInseePaysNaissance"]}
    if "codeCogInseeCommuneNaissance" in params:
        out["code_commune_naissance"] = params["codeCogInseeCommuneNaissance"]
    if "nomUsage" in params:
        out["nom_usage"] = params["nomUsage"]
    return out


def member(nom: str, prenoms: str, date: str, sexe: str, usage: str | None = None,
           commune: str | None = None, eaje: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"nom_naissance": nom, "nom_usage": usage, "prenoms": prenoms, "date_naissance": date,
                           "sexe": sexe}
    if eaje:
        out["code_cog_insee_commune_naissance"] = commune
    return out


def address(recipient: str, street: str | None, town: str, lieu_dit: str | None = None) -> dict[str, Any]:
    return {"destinataire": recipient, "complement_information": None, "complement_information_geographique": None,
            "numero_libelle_voie": street, "lieu_dit": lieu_dit, "code_postal_ville": town, "pays": "FRANCE"}


def qf(fournisseur: str, valeur: int, allocataires: list[dict[str, Any]], enfants: list[dict[str, Any]],
       adresse: dict[str, Any], calcul: tuple[int, int] | None = (2025, 10)) -> Answer:
    """QF data; `annee`/`mois` are echoed per request; `calcul` None = now (MSA)."""
    year, month = calcul if calcul else (None, None)
    return 200, {"quotient_familial": {"fournisseur": fournisseur, "valeur": valeur, "annee_calcul": year,
                                       "mois_calcul": month},
                 "allocataires": allocataires, "enfants": enfants, "adresse": adresse}


def benefit(since: str, **extra: bool) -> Answer:
    """A beneficiary since `since`; `extra`: avec_majoration (RSA, PA) or avec_participation (C2S)."""
    return 200, {"est_beneficiaire": True, **extra, "date_debut_droit": since}


def not_beneficiary(resource: str) -> Answer:
    if resource == "allocation_enfant_handicape":
        return 200, {"status": "non_beneficiaire", "date_debut_droit": None}
    if resource == "participation_familiale_eaje":
        return 404, EAJE_NOT_ELIGIBLE
    if resource == "complementaire_sante_solidaire":
        return 200, {"est_beneficiaire": False, "avec_participation": False, "date_debut_droit": None}
    if resource in ("revenu_solidarite_active", "prime_activite"):
        return 200, {"est_beneficiaire": False, "avec_majoration": None, "date_debut_droit": None}
    return 200, {"est_beneficiaire": False, "date_debut_droit": None}


def _cnous(echelon: str, rentree: str, duree: int, commune: str, etablissement: str, email: str,
           ident: dict[str, Any], provisoire: bool = False) -> dict[str, Any]:
    return {"statut_boursier": {"est_boursier": True, "est_radie": False, "date_radiation": None},
            "echelon_bourse": {"echelon": echelon, "echelon_bourse_regionale_provisoire": provisoire},
            "periode_versement_bourse": {"date_rentree": rentree, "duree": duree},
            "etablissement_etudes": {"nom_commune": commune, "nom_etablissement": etablissement},
            "email": email, "identite": ident}


def _admission(debut: str, fin: str, inscrit: bool, regime: str, commune: str, uai: str, nom: str
               ) -> dict[str, Any]:
    labels = {"RF1": "formation initiale", "RF4": "contrat d'apprentissage", "RF5": "formation continue"}
    return {"date_debut": debut, "date_fin": fin, "est_inscrit": inscrit,
            "regime_formation": {"libelle": labels[regime], "code": regime},
            "code_cog_insee_commune": commune, "etablissement_etudes": {"uai": uai, "nom": nom}}


_LAVANDIER = identity("LAVANDIER", ["CAMILLE"], "F", "1988-04-17", "24037")
_GRANDVAL = identity("GRANDVAL", ["NADIA"], "F", "1991-05-23", "24322")
_MOULIN = identity("MOULIN", ["SARAH", "ALICE"], "F", "1992-10-05", "24322")
_ESTRADE = identity("ESTRADE", ["LEA"], "F", "2005-03-19", "24322")

PEOPLE: tuple[Person, ...] = (
    Person("lavandier", _LAVANDIER, caf=True, answers={
        "quotient_familial": qf("CNAF", 650, [member("LAVANDIER", "CAMILLE", "1988-04-17", "F")],
                                [member("LAVANDIER", "LOU", "2016-09-02", "F"),
                                 member("LAVANDIER", "ELIOTT", "2019-00-00", "M")],
                                address("Madame LAVANDIER CAMILLE", "4 RUE DES TILLEULS", "24750 CHAMPCEVINEL"))}),
    Person("prairial", identity("PRAIRIAL", ["JULES", "ANTOINE"], "M", "1979-09-02", "19031"), caf=True, answers={
        "quotient_familial": qf("MSA", 480, [member("PRAIRIAL", "JULES ANTOINE", "1979-09-02", "M"),
                                             member("BRUMAIRE", "ROSE", "1981-03-30", "F", usage="PRAIRIAL")],
                                [member("PRAIRIAL", "MAX", "2010-05-12", "M"),
                                 member("PRAIRIAL", "ZOE", "2013-11-21", "F"),
                                 member("PRAIRIAL", "TOM", "2018-07-07", "M")],
                                address("Monsieur PRAIRIAL JULES", None, "19000 TULLE", "LIEU-DIT LES GRANGES"),
                                calcul=None)}),
    Person("fantome", identity("FANTOME", ["NOE"], "M", "1995-01-01", "33063"),
           answers={r: (404, CNAF_NOT_FOUND) for r in ("quotient_familial", *DSS_BENEFITS)}),
    # RSA majoré (parent isolé), ASF, C2S sans participation
    Person("grandval", _GRANDVAL, caf=True, answers={
        "quotient_familial": qf("CNAF", 310, [member("GRANDVAL", "NADIA", "1991-05-23", "F")],
                                [member("GRANDVAL", "INAYA", "2021-02-14", "F")],
                                address("Madame GRANDVAL NADIA", "12 AVENUE DES PLATANES", "24000 PERIGUEUX")),
        "revenu_solidarite_active": benefit("2024-03-01", avec_majoration=True),
        "allocation_soutien_familial": benefit("2023-09-01"),
        "complementaire_sante_solidaire": benefit("2024-04-01", avec_participation=False)}),
    # RSA non majoré et prime d'activité non majorée
    Person("terrasson", identity("TERRASSON", ["MARC"], "M", "1983-11-08", "24520"), caf=True, answers={
        "quotient_familial": qf("CNAF", 180, [member("TERRASSON", "MARC", "1983-11-08", "M")], [],
                                address("Monsieur TERRASSON MARC", "3 PLACE DU MARCHE", "24100 BERGERAC")),
        "revenu_solidarite_active": benefit("2023-10-01", avec_majoration=False),
        "prime_activite": benefit("2025-01-01", avec_majoration=False)}),
    # C2S avec participation
    Person("borie", identity("BORIE", ["LUCIE"], "F", "1975-02-14", "24053"), caf=True, answers={
        "quotient_familial": qf("CNAF", 890, [member("BORIE", "LUCIE", "1975-02-14", "F")],
                                [member("BORIE", "HUGO", "2009-06-30", "M")],
                                address("Madame BORIE LUCIE", "27 RUE DU CANAL", "24200 SARLAT LA CANEDA")),
        "complementaire_sante_solidaire": benefit("2025-06-01", avec_participation=True)}),
    # AAH
    Person("castaing", identity("CASTAING", ["PAUL"], "M", "1969-07-30", "24322"), caf=True, answers={
        "quotient_familial": qf("CNAF", 720, [member("CASTAING", "PAUL", "1969-07-30", "M")], [],
                                address("Monsieur CASTAING PAUL", "5 RUE BASSE", "24000 PERIGUEUX")),
        "allocation_adulte_handicape": benefit("2019-04-01")}),
    # EAJE (two children under 7, one with AEEH)
    Person("moulin", _MOULIN, caf=True, answers={
        "quotient_familial": qf("CNAF", 560, [member("MOULIN", "SARAH ALICE", "1992-10-05", "F"),
                                              member("OKAFOR", "DAVID", "1990-01-22", "M")],
                                [member("OKAFOR", "NOAH", "2022-05-03", "M"),
                                 member("OKAFOR", "LINA", "2024-08-19", "F")],
                                address("Madame MOULIN SARAH", "8 CHEMIN DES VIGNES", "24430 MARSAC SUR L ISLE")),
        "participation_familiale_eaje": (200, {
            "allocataires": [member("MOULIN", "SARAH ALICE", "1992-10-05", "F", commune="24322", eaje=True),
                             member("OKAFOR", "DAVID", "1990-01-22", "M", commune=None, eaje=True)],
            "enfants": [member("OKAFOR", "NOAH", "2022-05-03", "M", commune="24322", eaje=True),
                        member("OKAFOR", "LINA", "2024-08-19", "F", commune="24322", eaje=True)],
            "adresse": address("Madame MOULIN SARAH", "8 CHEMIN DES VIGNES", "24430 MARSAC SUR L ISLE"),
            "parametres_calcul_participation_familiale": {
                "nombre_enfants_a_charge": 2, "nombre_enfants_beneficiaire_aeeh": 1,
                "base_ressources_annuelles": {"valeur": 27450, "annee_calcul": 2024}}}),
        "allocation_enfant_handicape": (200, {"status": "allocataire", "date_debut_droit": "2023-02-01"})}),
    # born abroad: country code only
    Person("nguyen", identity("NGUYEN", ["LINH"], "F", "1986-12-01", pays="99243"), caf=True, answers={
        "quotient_familial": qf("CNAF", 1450, [member("NGUYEN", "LINH", "1986-12-01", "F")], [],
                                address("Madame NGUYEN LINH", "40 RUE GAMBETTA", "33000 BORDEAUX"))}),
    # CNOUS échelon 0bis (campaign 2025), échelon 1 the year before; MESRI inscrite
    Person("estrade", _ESTRADE, ine="2405003410F", campaigns={
        2024: _cnous("1", "2024-09-01", 10, "Bordeaux", "Université de Bordeaux", "lea.estrade@etu.example.fr",
                     {"nom": "ESTRADE", "prenoms": ["LEA"], "date_naissance": "2005-03-19",
                      "nom_commune_naissance": "Périgueux", "sexe": "F"}),
        2025: _cnous("0bis", "2025-09-01", 10, "Bordeaux", "Université de Bordeaux", "lea.estrade@etu.example.fr",
                     {"nom": "ESTRADE", "prenoms": ["LEA"], "date_naissance": "2005-03-19",
                      "nom_commune_naissance": "Périgueux", "sexe": "F"})},
           answers={"statut_etudiant": (200, {
               "identite": {"nom_naissance": "ESTRADE", "prenom": "LEA", "date_naissance": "2005-03-19"},
               "admissions": [_admission("2025-09-01", "2026-08-31", True, "RF1", "33063", "0339999Z",
                                         "Université de Bordeaux")]})}),
    # MESRI: admis (not inscrit) this year, inscrit last year; not a CNOUS boursier
    Person("faurie", identity("FAURIE", ["TOM"], "M", "2003-12-02", "87085"), ine="123450987AB", answers={
        "statut_etudiant": (200, {
            "identite": {"nom_naissance": "FAURIE", "prenom": "TOM", "date_naissance": "2003-12-02"},
            "admissions": [_admission("2025-09-01", "2026-08-31", False, "RF4", "87085", "0879999K",
                                      "Université de Limoges"),
                           _admission("2024-09-01", "2025-08-31", True, "RF1", "87085", "0879999K",
                                      "Université de Limoges")]})}),
    # MEN v5: collégienne boursière échelon 2
    Person("louvel", identity("LOUVEL", ["INES"], "F", "2013-02-11"), answers={
        "scolarites": (200, {
            "identite": {"nom": "LOUVEL", "prenom": "INES", "sexe": "F", "date_naissance": "2013-02-11"},
            "est_scolarise": True, "statut_eleve": {"code": "ST", "libelle": "SCOLAIRE"},
            "etablissement": {"code_uai": "0240012X", "code_ministere_tutelle": "06"},
            "module_elementaire_formation": {"code_mef_stat": "10310019110", "libelle": "5EME"},
            "est_boursier": True, "echelon_bourse": 2,
            "regime_pensionnat": {"code": "2", "libelle": "Demi-pensionnaire dans l'établissement"}})}),
    # providers down (every family): 502 unknown answer, 502 network, 503 maintenance, 504 timeout
    Person("panne-reponse", identity("PANNE", ["REPONSE"], "M", "1980-01-01", "24322"), failure="reponse"),
    Person("panne-reseau", identity("PANNE", ["RESEAU"], "F", "1980-01-01", "24322"), failure="reseau"),
    Person("panne-maintenance", identity("PANNE", ["MAINTENANCE"], "M", "1980-01-01", "24322"),
           failure="maintenance"),
    Person("panne-delai", identity("PANNE", ["DELAI"], "F", "1980-01-01", "24322"), failure="delai"),
    # transient: the first call of each route times out (504), the next ones answer (QF 900)
    Person("passagere", identity("PASSAGERE", ["ROSE"], "F", "1984-06-06", "24322"), caf=True,
           failure="delai", failures=1, answers={
               "quotient_familial": qf("CNAF", 900, [member("PASSAGERE", "ROSE", "1984-06-06", "F")], [],
                                       address("Madame PASSAGERE ROSE", "1 RUE NEUVE", "24000 PERIGUEUX"))}),
)

# ------------------------------------------------------------------ France Travail (by identifiant)

CATEGORIES = {1: "PERSONNE SANS EMPLOI DISPONIBLE DUREE INDETERMINEE PLEIN TPS",
              2: "PERSONNE SANS EMPLOI DISPONIBLE DUREE INDETERMINEE PARTIEL",
              3: "PERSONNE SANS EMPLOI DISPONIBLE DUREE DETERMINEE OU SAISON",
              4: "PERSONNE SANS EMPLOI NON DISPONIBLE IMMEDIATEMENT",
              5: "PERSONNE POURVUE D'UN EMPLOI A LA RECHERCHE D'UN AUTRE"}


def ft_statut(civilite: str, nom: str, prenom: str, date: str, debut: str, fin: str | None, category: int,
              postal: str = "24750", commune: str = "24037", town: str = "CHAMPCEVINEL",
              street: str = "8 IMPASSE DES ORMES") -> dict[str, Any]:
    return {
        "identite": {"civilite": civilite, "nom_naissance": nom, "nom_usage": None, "prenom": prenom,
                     "sexe": "Masculin" if civilite == "M." else "Féminin", "date_naissance": date},
        "contact": {"telephone": "0600000000", "telephone2": None, "email": None},
        "adresse": {"code_postal": postal, "code_cog_insee_commune": commune, "localite": f"{postal} {town}",
                    "ligne_voie": street, "ligne_complement_destinataire": None, "ligne_complement_adresse": None,
                    "ligne_complement_distribution": None, "ligne_nom": f"{civilite} {nom} {prenom}"},
        "inscription": {"date_debut": debut, "date_fin": fin, "code_certification_cnav": "VC",
                        "categorie": {"code": category, "libelle": CATEGORIES[category]}},
    }


def payment(date: str, allocations: float, aides: float = 0.0, autres: float = 0.0) -> dict[str, Any]:
    return {"date_versement": date, "montant_total": round(allocations + aides + autres, 2),
            "montant_allocations": allocations, "montant_aides": aides, "montant_autres": autres}


FT_FIXTURES: dict[str, dict[str, Any]] = {
    "demandeur.cat1": ft_statut("M.", "SABLIER", "HUGO", "1990-06-14", "2025-02-03", None, 1),
    "demandeuse.cat4": ft_statut("MME", "GRANDVAL", "NADIA", "1991-05-23", "2024-11-18", None, 4, "24000",
                                 "24322", "PERIGUEUX", "12 AVENUE DES PLATANES"),
    "ancien.demandeur": ft_statut("M.", "TERRASSON", "MARC", "1983-11-08", "2022-03-07", "2024-06-30", 1,
                                  "24100", "24037", "BERGERAC", "3 PLACE DU MARCHE"),
}
FT_PAYMENTS: dict[str, list[dict[str, Any]]] = {
    "demandeur.cat1": [payment("2025-09-30", 1012.4), payment("2025-10-31", 1046.15, 35.0)],
    "ancien.demandeur": [payment("2024-05-31", 842.7), payment("2024-06-28", 843.1, autres=12.5)],
}
FT_FAILURES: dict[str, Failure] = {"panne.reponse": "reponse", "panne.reseau": "reseau",
                                   "panne.maintenance": "maintenance", "panne.delai": "delai"}
