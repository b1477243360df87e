"""The DataPass request for API Particulier, drafted from the rules (`tarifrules datapass`).

From the scope analysis (`scopes.analyse`) and the délibération header(s), `prepare()`
builds a `DataPassModel`: the suggested form, an intitulé and a description, each scope
with its DataPass label and the articles and rule text that read it, the legal basis of
the use case, the access modality possible for every scope, the retention period, the
data declared by the family, the data never read, the DGFiP data (a separate
habilitation) and the prefilled link. `markdown()` renders it in French for a DPO.

Facts about DataPass come from the project's DataPass reference note (etalab/data_pass
v2 @ c3a17f129ff3: forms, canonical legal texts, prefill by query string). What that note
marks UNVERIFIED is said so in the output.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from .catalogue import MODE_LABELS, Catalogue, load_catalogue
from .dgfip.years import CHOICES
from .models import DataPassHabilitationModel, DataPassModel, DataPassScopeModel
from .ruleset import RuleSet
from .scopes import DatumUse, ScopeReport, _article_key, analyse

DATAPASS = "https://datapass.api.gouv.fr"
RETENTION_MONTHS = 12
MAX_LINK = 6000  # beyond this the long texts leave the link (URL length limits)

# ------------------------------------------------------------------ facts from the reference note

_L114_8 = ("- Cadre légal général : L’article L114-8 du Code des relations entre le public et l’administration "
           "définit le cadre juridique général en vertu duquel les administrations sont tenues d’échanger les "
           "données requises dans le cadre des démarches engagées par les usagers.")
LEGAL_TEXTS: dict[str, str] = {  # the canonical texts DataPass pre-fills (§4.2), verbatim
    "socle_general": _L114_8,
    "cantines": _L114_8 + "\n- Cadre légal spécifique à la restauration scolaire : L’article R531-52 du Code de "
    "l’éducation confère aux collectivités territoriales compétentes la responsabilité de fixer les tarifs des "
    "services de restauration scolaire.",
    "ccas": _L114_8 + "\n- Cadre légal spécifique aux CCAS : Les articles L.123-5 et R.123-2 du Code de l’Action "
    "Sociale et des familles qui confient aux CCAS la charge de mener une action générale de prévention et de "
    "développement social dans la commune par le biais de prestations en espèces, remboursables ou non et de "
    "prestations en nature.\n- Cadre légal spécifique pour les aides facultatives des CCAS : L’article R.123-21 "
    "du Code de l’Action Sociale et des familles donnant toute liberté au CCAS pour définir les conditions "
    "d’attribution des aides sociales facultatives.",
    "aides_facultatives": _L114_8 + "\n- Ces aides sont attribuées sur délibération de la collectivité.",
    "transport_complet": _L114_8 + "\n- Cadres légaux spécifiques : Les articles L1231-1 et L1231-3 du Code des "
    "transports pour les transports en commun ; les articles L. 3111-7 du Code des transports et L. 214-18 du "
    "Code de l’éducation pour les transports scolaires ; l’article L1113-1 du Code des transports en cas "
    "d’utilisation de la complémentaire santé solidaire comme critère de tarification.",
}

_CNAF = ("cnaf_quotient_familial", "cnaf_allocataires", "cnaf_enfants", "cnaf_adresse")
_EAJE = ("cnav_participation_familiale_eaje_allocataires", "cnav_participation_familiale_eaje_enfants",
         "cnav_participation_familiale_eaje_adresse", "cnav_participation_familiale_eaje_parametres_calcul")
_MEN = ("men_statut_scolarite", "men_statut_boursier", "men_echelon_bourse", "men_regime_pensionnat")


@dataclass(frozen=True)
class Form:
    uid: str
    name: str
    use_case: str | None
    legal: str | None  # key of LEGAL_TEXTS pre-filled by the form (None: nothing)
    offered: tuple[str, ...] | None  # None: the whole catalogue
    france_connect: bool  # the modalities step lets the applicant choose FranceConnect
    unjustified: tuple[str, ...] = ()  # scope prefixes the use-case page calls "injustifiées"
    justificatif: str = "la délibération avec les conditions tarifaires (PDF ou adresse)"


_MUNICIPAL_UNJUSTIFIED = ("cnous_", "men_", "mesri_", "pole_emploi_", "prime_activite", "complementaire_sante",
                          "allocation_adulte", "allocation_soutien")
_CANTEEN_UNJUSTIFIED = ("cnous_", "mesri_", "pole_emploi_", "prime_activite", "revenu_solidarite",
                        "complementaire_sante", "allocation_adulte", "allocation_soutien")

FORMS: dict[str, Form] = {form.uid: form for form in (
    Form("api-particulier-tarification-municipale-enfance", "Tarification sociale des services municipaux à l'enfance",
         "tarification_municipale_enfance", "socle_general", (*_CNAF, "cnav_allocation_enfant_handicape"), False,
         _MUNICIPAL_UNJUSTIFIED),
    Form("api-particulier-tarification-eaje", "Tarification sociale des services municipaux à la petite enfance",
         "tarification_eaje", "socle_general", _EAJE, False,
         justificatif="la convention d'objectif et de financement signée avec la CAF"),
    Form("api-particulier-tarification-cantines-colleges", "Tarification cantine collèges",
         "cantines-colleges-lycees-tarification", "cantines", (*_CNAF, *_MEN), True, _CANTEEN_UNJUSTIFIED),
    Form("api-particulier-tarification-cantines-lycees", "Tarification cantine lycées",
         "cantines-colleges-lycees-tarification", "cantines", (*_CNAF, *_MEN), True, _CANTEEN_UNJUSTIFIED),
    Form("api-particulier-aides-sociales-ccas", "Aides sociales des CCAS", "ccas", "ccas", None, True,
         justificatif="aucun (cadre juridique fixé par le formulaire)"),
    Form("api-particulier-aides-sociales-ccas-dont-facultatives", "Aides sociales des CCAS dont aides facultatives",
         "ccas", "ccas", None, True, justificatif="la délibération du conseil d'administration du CCAS"),
    Form("api-particulier-aides-facultatives-departementales", "Aides facultatives départementales",
         "aides_facultatives", "aides_facultatives", None, True,
         justificatif="la délibération avec les conditions d'attribution"),
    Form("api-particulier-aides-facultatives-regionales", "Aides facultatives régionales",
         "aides_facultatives", "aides_facultatives", None, True,
         justificatif="la délibération avec les conditions d'attribution"),
    Form("api-particulier-tarification-transports", "Tarification des transports", "tarification_transports",
         "transport_complet", (*_CNAF, "pole_emploi_identite", "pole_emploi_contact", "pole_emploi_adresse",
                               "pole_emploi_paiements", *_MEN, "mesri_identite", "mesri_admissions",
                               "mesri_admission_inscrit", "mesri_admission_regime_formation",
                               "mesri_admission_commune_etudes", "mesri_admission_etablissement_etudes",
                               "cnous_statut_boursier", "cnous_echelon_bourse", "cnous_identite", "cnous_email",
                               "cnous_periode_versement", "cnous_ville_etudes", "complementaire_sante_solidaire",
                               "allocation_adulte_handicape", "revenu_solidarite_active",
                               "revenu_solidarite_active_majoration"), True, ("prime_activite", "allocation_soutien")),
    Form("api-particulier", "Demande libre", None, None, None, True),
)}

_GROUPS: tuple[tuple[str, str], ...] = (  # scope prefix → DataPass group (exact names, typos included)
    ("cnaf_", "API Quotient familial CAF & MSA"),
    ("pole_emploi_paiements", "API Paiements France Travail"),
    ("pole_emploi_", "API Statut demandeur d'emploi"),
    ("men_", "API Statut élève scolarisé et boursier"),
    ("cnous_", "API Statut étudiant boursier"),
    ("mesri_", "API Statut étudiant"),
    ("complementaire_sante_solidaire", "API Complémentaire Santé Solidaire"),
    ("revenu_solidarite_active", "API Revenue de Solidarité Active"),
    ("prime_activite", "API Prime d'Activité"),
    ("allocation_soutien_familial", "API Allocation Soutien Familial"),
    ("allocation_adulte_handicape", "API Allocation Adulte Handicapé"),
    ("cnav_allocation_enfant_handicape", "API Allocation d'Éducation de l'Enfant Handicapé"),
    ("cnav_allocation_rentree_scolaire", "API Statut allocation de rentrée scolaire"),
    ("cnav_participation_familiale_eaje_", "API Participation familiale EAJE "),
)

_DGFIP_FORMS: dict[str | None, str] = {  # API Particulier use case → API Impôt particulier form base
    "tarification_municipale_enfance": "api-impot-particulier-activites-periscolaires",
    "cantines-colleges-lycees-tarification": "api-impot-particulier-cantine-scolaire",
    "ccas": "api-impot-particulier-aides-sociales-facultatives",
    "aides_facultatives": "api-impot-particulier-aides-sociales-facultatives",
    "tarification_transports": "api-impot-particulier-carte-transport",
    "tarification_eaje": "api-impot-particulier-place-creche",
}

_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre")


class DataPassError(ValueError):
    """A bad request for the generator (unknown form name), French message."""


def group_of(scope: str) -> str | None:
    for prefix, group in _GROUPS:
        if scope.startswith(prefix):
            return group
    return None


def form_names() -> list[str]:
    return list(FORMS)


# ------------------------------------------------------------------ choosing the form


def _fold(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", text.casefold().replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(rulesets: Sequence[RuleSet]) -> str:
    parts: list[str] = []
    for ruleset in rulesets:
        header = ruleset.program.header
        parts.append(header.title)
        for key in ("collectivité", "fondement"):
            item = header.get(key)
            if item is not None and isinstance(item.value, str):
                parts.append(item.value)
        parts += [d.description or "" for d in ruleset.program.outputs]
    return _fold(" ".join(parts))


def choose_form(rulesets: Sequence[RuleSet], scopes: Sequence[str]) -> tuple[Form, str]:
    """The generic use-case form suggested by the scopes and the header words, and why."""
    text = _words(rulesets)

    def has(*patterns: str) -> bool:
        return any(re.search(p, text) for p in patterns)

    canteen = has(r"\bcantine", r"restauration scolaire", r"demi-pension", r"\brepas\b")
    if (scopes and all(s.startswith("cnav_participation_familiale_eaje_") for s in scopes)) or has(
            r"\beaje\b", r"\bcreche", r"petite enfance", r"multi-accueil", r"accueil du jeune enfant"):
        return FORMS["api-particulier-tarification-eaje"], "accueil du jeune enfant (EAJE) : barème national CNAF"
    if has(r"\bccas\b", r"\bcias\b", r"centre (inter)?communal d'action sociale"):
        if has(r"facultative"):
            return (FORMS["api-particulier-aides-sociales-ccas-dont-facultatives"],
                    "aide facultative d'un centre communal d'action sociale")
        return FORMS["api-particulier-aides-sociales-ccas"], "aide d'un centre communal d'action sociale"
    if has(r"\btransports?\b", r"\babonnement", r"\bmobilite"):
        return FORMS["api-particulier-tarification-transports"], "tarification des transports"
    if canteen and has(r"\bcollege", r"\bcollegien"):
        return FORMS["api-particulier-tarification-cantines-colleges"], "restauration (demi-pension) des collégiens"
    if canteen and has(r"\blycee", r"\blyceen"):
        return FORMS["api-particulier-tarification-cantines-lycees"], "restauration (demi-pension) des lycéens"
    if has(r"\bdepartement"):
        return FORMS["api-particulier-aides-facultatives-departementales"], "aide facultative d'un département"
    if has(r"\bregion"):
        return FORMS["api-particulier-aides-facultatives-regionales"], "aide facultative d'une région"
    return (FORMS["api-particulier-tarification-municipale-enfance"],
            "tarif d'un service municipal à l'enfance (cantine, accueil de loisirs, périscolaire…)")


# ------------------------------------------------------------------ building the request


def _date(day: datetime.date) -> str:
    return f"{day.day}{'er' if day.day == 1 else ''} {_MONTHS[day.month - 1]} {day.year}"


def _header_text(ruleset: RuleSet, key: str) -> str | None:
    item = ruleset.program.header.get(key)
    return item.value if item is not None and isinstance(item.value, str) else None


def _reference(ruleset: RuleSet) -> str:
    """« délibération « titre » (Commune d'X, n° N, adoptée le D, applicable …) »."""
    header = ruleset.program.header
    parts: list[str] = []
    collectivite = _header_text(ruleset, "collectivité")
    if collectivite:
        parts.append(collectivite)
    number = _header_text(ruleset, "numéro")
    if number:
        parts.append(f"n° {number}")
    adopted = header.get("adoptée")
    if adopted is not None and isinstance(adopted.value, datetime.date):
        parts.append(f"adoptée le {_date(adopted.value)}")
    else:
        parts.append("date d'adoption non indiquée dans le fichier")
    if ruleset.valid_until is None:
        parts.append(f"applicable à partir du {_date(ruleset.valid_from)}")
    else:
        parts.append(f"applicable du {_date(ruleset.valid_from)} au {_date(ruleset.valid_until)}")
    return f"délibération « {header.title} » ({', '.join(parts)})"


def _article_titles(rulesets: Sequence[RuleSet]) -> dict[tuple[str, str], str | None]:
    return {(r.file, a.number): a.title for r in rulesets for a in r.program.articles}


def _scope_model(scope: str, uses: list[DatumUse], form: Form, titles: dict[tuple[str, str], str | None],
                 several: bool) -> DataPassScopeModel:
    entries = [u.entry for u in uses if u.entry is not None]
    label = next((e.scope_label for e in entries if e.scope == scope and e.scope_label), None)
    modes = list(dict.fromkeys(m for e in entries for m in e.modes))
    articles = sorted({a for u in uses for a in u.articles}, key=_article_key)
    cited: dict[str, None] = {}
    for use in uses:
        where = f" de {use.file}" if several else ""
        for number in use.articles:
            title = titles.get((use.file, number))
            cited[number + (f" « {title} »" if title else "") + where] = None
    data = sorted({u.datum for u in uses})
    names = ", ".join(f"« {u.datum} » ({u.entry.name})" if u.entry else f"« {u.datum} »" for u in uses)
    items = list(cited)
    place = (f"l'article {items[0]}" if len(items) == 1
             else "les articles " + ", ".join(items[:-1]) + " et " + items[-1])
    justification = f"Donnée{'s' if len(data) > 1 else ''} {names}, lue{'s' if len(data) > 1 else ''} par {place}."
    return DataPassScopeModel(
        scope=scope, label=label, group=group_of(scope), data=data, articles=articles,
        rules=[rule for u in uses for rule in u.rules], justification=justification, modes=modes,
        france_connect="france_connect" in modes,
        offered_by_form=form.offered is None or scope in form.offered,
        unjustified_for_use_case=any(scope.startswith(p) for p in form.unjustified),
    )


def _description(rulesets: Sequence[RuleSet], scopes: list[DataPassScopeModel]) -> str:
    lines: list[str] = []
    for ruleset in rulesets:
        outputs = "; ".join(f"{d.name} ({d.description})" if d.description else d.name
                            for d in ruleset.program.outputs)
        lines.append(f"Mise en œuvre de la {_reference(ruleset)}. Résultats calculés : {outputs}.")
    lines.append("Données demandées à API Particulier, chacune pour un critère de la délibération :")
    for scope in scopes:
        articles = ", ".join(scope.articles)
        lines.append(f"- {scope.label or scope.scope} ({scope.scope}) : {', '.join(scope.data)}, "
                     f"article{'s' if len(scope.articles) > 1 else ''} {articles}.")
    lines.append("[À compléter : où les données s'affichent (portail famille, logiciel des agents) et qui les voit.]")
    return "\n".join(lines)


def _cadre(rulesets: Sequence[RuleSet], form: Form, canteen: bool) -> str:
    legal = form.legal or ("cantines" if canteen else "socle_general")
    if legal == "socle_general" and canteen:
        legal = "cantines"
    lines = [LEGAL_TEXTS[legal]]
    for ruleset in rulesets:
        fondement = _header_text(ruleset, "fondement")
        text = f"- D{_reference(ruleset)[1:]}"
        if fondement:
            text += f" ; fondement cité par la délibération : {fondement}"
        lines.append(text + ".")
    return "\n".join(lines)


def prepare(rulesets: Sequence[RuleSet], form: str | None = None, *, catalogue: Catalogue | None = None,
            report: ScopeReport | None = None) -> DataPassModel:
    """The DataPass request drafted from the rules; `form` forces a form (its uid)."""
    if form is not None and form not in FORMS:
        raise DataPassError(f"formulaire inconnu : {form}")
    catalogue = catalogue or load_catalogue()
    report = report or analyse(rulesets, catalogue)
    by_scope = report.by_scope()
    scope_names = list(by_scope)
    chosen, reason = choose_form(rulesets, scope_names)
    forced = form is not None
    if forced:
        assert form is not None
        chosen, reason = FORMS[form], "formulaire imposé par --formulaire"
    titles = _article_titles(rulesets)
    several = len(rulesets) > 1
    scopes = [_scope_model(s, uses, chosen, titles, several) for s, uses in by_scope.items()]
    warnings: list[str] = []
    unverified: list[str] = []

    use_case_form = chosen
    missing = [s.scope for s in scopes if not s.offered_by_form]
    if missing and not forced:
        warnings.append(
            f"Le formulaire « {chosen.name} » ({chosen.uid}) ne propose pas {', '.join(missing)} : la demande "
            f"passe par la « Demande libre » (api-particulier), qui propose tout le catalogue.")
        chosen = FORMS["api-particulier"]
        scopes = [s.model_copy(update={"offered_by_form": True}) for s in scopes]
    elif missing:
        warnings.append(f"Le formulaire imposé « {chosen.name} » ne propose pas {', '.join(missing)} : "
                        f"ces cases ne pourront pas être cochées ; choisissez « api-particulier » (Demande libre).")
    for scope in scopes:
        if scope.unjustified_for_use_case:
            warnings.append(
                f"La page du cas d'usage {use_case_form.use_case} (particulier.api.gouv.fr) classe {scope.scope} "
                f"parmi les données « injustifiées » : l'instructeur peut refuser cette case. Citez précisément "
                f"l'article {', '.join(scope.articles)} qui la rend nécessaire.")
    if chosen.uid == "api-particulier-tarification-eaje":
        warnings.append("Le formulaire EAJE pré-coche les 4 scopes « Participation familiale EAJE » en lecture seule ;"
                        " le lien ne transmet que ceux que les règles lisent (UNVERIFIED : que DataPass accepte une"
                        " liste réduite sur ce formulaire).")
    if not scopes:
        warnings.append("Aucune donnée lue n'a besoin d'API Particulier : aucune demande DataPass n'est nécessaire "
                        "pour ces règles (DataPass exige au moins une case cochée).")

    # modalities: params covers identité pivot, identifiant and INE; FranceConnect needs an FC route everywhere
    blockers = [s.scope for s in scopes if not s.france_connect]
    common = sorted(set.intersection(*(set(s.modes) for s in scopes))) if scopes else []
    fc_possible = bool(scopes) and not blockers
    modalities = ["params"] + (["france_connect"] if fc_possible and chosen.france_connect else [])
    if fc_possible and not chosen.france_connect:
        warnings.append(f"Toutes les données ont une route FranceConnect, mais le formulaire « {chosen.name} » "
                        f"ne propose que l'accès par jeton et paramètres de l'usager.")
    if any(s.scope == "cnav_allocation_rentree_scolaire" for s in scopes):
        unverified.append("Route FranceConnect de l'allocation de rentrée scolaire (cnav_allocation_rentree_scolaire).")

    # DGFiP: a separate habilitation, never in the API Particulier link
    others: list[DataPassHabilitationModel] = []
    for habilitation, grouped in report.other_habilitations.items():
        base = _DGFIP_FORMS.get(use_case_form.use_case, "api-impot-particulier")
        forms = ([f"{base}-sandbox", f"{base}-production", f"{base}-editeur"] if base != "api-impot-particulier"
                 else ["api-impot-particulier-sandbox", "api-impot-particulier-production"])
        fiscal = [u for uses in grouped.values() for u in uses if u.entry and u.entry.requires_one_of]
        said = {u.year_scope for u in fiscal}
        years = sorted(y for y in said if y) if None not in said else sorted(
            {y for u in fiscal if u.entry for y in u.entry.requires_one_of})  # no year said (T067): every option
        grouped = {scope: uses for scope, uses in grouped.items() if scope not in said}
        others.append(DataPassHabilitationModel(
            habilitation=habilitation, forms=forms, url=f"{DATAPASS}/formulaires/{forms[0]}/demande/nouveau",
            scopes=[_scope_model(s, uses, FORMS["api-particulier"], titles, several) for s, uses in grouped.items()],
            year_scopes=years))
        if use_case_form.use_case == "tarification_eaje":
            warnings.append("Données fiscales (DGFiP) dans un tarif d'EAJE : le barème national de la CNAF "
                            "s'applique, ces données ne doivent pas servir au tarif.")
    if others:
        unverified.append("Pré-remplissage par l'adresse des formulaires API Impôt particulier : non documenté, "
                          "le lien donné ouvre le formulaire vide.")

    canteen = re.search(r"\bcantine|restauration scolaire|demi-pension", _words(rulesets)) is not None
    intitule = _intitule(rulesets)
    description = _description(rulesets, scopes)
    cadre = _cadre(rulesets, use_case_form, canteen)
    url = next((u for r in rulesets if (u := _header_text(r, "source")) and re.match(r"https?://", u)), None)
    declared = sorted({u.datum for u in report.declared})
    unused = sorted({d for _, d in report.unused})
    unbound = sorted({u.datum for u in report.unbound})
    if unused:
        warnings.append(f"Données déclarées mais jamais utilisées : {', '.join(unused)} — ne les demandez pas.")
    if unbound:
        warnings.append(f"Données sans source reconnue dans le catalogue : {', '.join(unbound)} — "
                        f"précisez leur source dans `données` avant de déposer la demande.")
    if not report.exact:
        warnings.append("Certains résultats ont trop de cas pour être énumérés : les scopes viennent des règles "
                        "écrites (ils peuvent être plus nombreux que le strict nécessaire).")
    unverified.append("Pré-remplissage par l'adresse (fonction de DataPass de mai 2026) : déploiement en production "
                      "et conservation après la connexion ProConnect non vérifiés.")

    retention_rule = ("Durée en mois. Au-delà de 36 mois, DataPass exige une justification "
                      "(champ « Justification de la durée de conservation des données »).")
    recipients = "[À compléter : agents habilités du service qui applique la délibération"
    collectivites = [c for r in rulesets if (c := _header_text(r, "collectivité"))]
    recipients += f" ({', '.join(dict.fromkeys(collectivites))})]" if collectivites else "]"
    manual = [
        f"Joindre {chosen.justificatif}"
        + (f" ou donner son adresse ({url})" if url else "") + " : elle n'est pas pré-remplissable.",
        "Renseigner les trois contacts : contact métier, contact technique, délégué à la protection des données "
        "(le DPD ne peut pas être le maire).",
        "Cocher les deux cases de la synthèse : conditions générales d'utilisation, DPD informé de la demande.",
        "Relire la description (où les données s'affichent, qui les voit) et les destinataires.",
    ]
    if "france_connect" in modalities:
        manual.append("Pour l'accès par FranceConnect : une habilitation FranceConnect validée de la même "
                      "organisation est nécessaire avant de la choisir.")

    model = DataPassModel(
        files=[r.file for r in rulesets], form=chosen.uid, form_name=chosen.name, use_case=chosen.use_case,
        form_forced=forced, form_reason=reason, intitule=intitule, description=description,
        cadre_juridique_nature=cadre, cadre_juridique_url=url, scopes=scopes, modalities=modalities,
        common_modes=common, france_connect_possible=fc_possible, france_connect_blockers=blockers,
        retention_months=RETENTION_MONTHS, retention_rule=retention_rule, recipients=recipients,
        declared=declared, unused=unused, unbound=unbound, other_habilitations=others, warnings=warnings,
        unverified=unverified, manual_steps=manual, exact=report.exact, link="",
    )
    return model.model_copy(update={"link": prefill_link(model)})


def _intitule(rulesets: Sequence[RuleSet]) -> str:
    first = rulesets[0]
    collectivite = _header_text(first, "collectivité")
    title = first.title if len(rulesets) == 1 else f"{first.title} et {len(rulesets) - 1} autre(s) délibération(s)"
    return f"{title} — {collectivite}" if collectivite else title


def prefill_link(model: DataPassModel) -> str:
    """`…/formulaires/<form>/demande/nouveau?intitule=…&scopes[]=…` (DataPass query-string prefill)."""
    base = f"{DATAPASS}/formulaires/{model.form}/demande/nouveau"
    short: list[tuple[str, str]] = [("intitule", model.intitule)]
    long: list[tuple[str, str]] = [("description", model.description),
                                   ("cadre_juridique_nature", model.cadre_juridique_nature)]
    tail: list[tuple[str, str]] = []
    if model.cadre_juridique_url:
        tail.append(("cadre_juridique_url", model.cadre_juridique_url))
    tail.append(("duree_conservation_donnees_caractere_personnel", str(model.retention_months)))
    tail += [("modalities[]", m) for m in model.modalities]
    tail += [("scopes[]", s.scope) for s in model.scopes]
    url = f"{base}?{urlencode(short + long + tail)}"
    if len(url) > MAX_LINK:
        url = f"{base}?{urlencode(short + tail)}"
    return url


# ------------------------------------------------------------------ Markdown


def _block(text: str) -> list[str]:
    """A text to paste, as an indented Markdown code block (no fence: it nests in any page)."""
    return [f"    {line}" if line else "" for line in text.split("\n")] + [""]


_YEAR_TEXT = {choice.scope: choice.label for choice in CHOICES}


def markdown(model: DataPassModel) -> str:
    out: list[str] = [f"# Demande DataPass API Particulier — {model.intitule}", ""]
    out += [f"Brouillon préparé par tarifrules à partir de : {', '.join(f'`{f}`' for f in model.files)}.",
            "À relire par le délégué à la protection des données avant dépôt.", ""]
    out += ["## Formulaire", "",
            f"- **Formulaire suggéré** : « {model.form_name} » (`{model.form}`)"
            + (f", cas d'usage `{model.use_case}`" if model.use_case else ""),
            f"- **Pourquoi** : {model.form_reason}",
            f"- **Lien pré-rempli** : <{model.link}>", ""]
    if model.warnings:
        out += ["## Points d'attention", ""] + [f"- {w}" for w in model.warnings] + [""]
    out += ["## Mon projet", "", "**Nom du projet (intitulé)** :", "", *_block(model.intitule),
            "**Description du projet** :", "", *_block(model.description)]
    out += ["## Le cadre juridique", "", "**Nature et références du texte** :", "",
            *_block(model.cadre_juridique_nature)]
    out.append(f"**Adresse de la délibération** : {model.cadre_juridique_url}" if model.cadre_juridique_url
               else "**Délibération** : à joindre en PDF (aucune adresse dans le fichier).")
    out.append("")
    out += ["## Les modalités d'appel de l'API", ""]
    for scope in model.scopes:
        modes = ", ".join(MODE_LABELS[m] for m in scope.modes) or "—"
        out.append(f"- `{scope.scope}` : {modes}")
    if model.scopes:
        out.append("")
        common = ", ".join(MODE_LABELS[m] for m in model.common_modes) or "aucun"
        out.append(f"Mode d'appel commun à toutes les données : {common}.")
        out.append("Modalité DataPass : **jeton d'accès accompagné des paramètres de l'usager** (`params`), qui "
                   "couvre l'identité pivot comme les identifiants propres à un fournisseur.")
        if any("identifiant" in s.modes for s in model.scopes):
            out.append("Le mode *identifiant* demande l'identifiant propre au fournisseur (pour France Travail, "
                       "l'identifiant du compte en ligne de la personne) : il faut le recueillir auprès de la famille.")
        if model.france_connect_possible:
            out.append("FranceConnect : **possible** pour toutes les données demandées"
                       + (" (modalité `france_connect`)." if "france_connect" in model.modalities
                          else ", mais ce formulaire ne propose pas cette modalité."))
        else:
            out.append(f"FranceConnect : **impossible** — pas de route FranceConnect pour "
                       f"{', '.join(f'`{s}`' for s in model.france_connect_blockers)}.")
    out.append("")
    out += ["## Les données (scopes)", ""]
    if not model.scopes:
        out += ["Aucun scope API Particulier.", ""]
    for scope in model.scopes:
        out += [f"### {scope.label or scope.scope} — `{scope.scope}`", ""]
        if scope.group:
            out.append(f"- Groupe DataPass : {scope.group.strip()}")
        out.append(f"- Données de la délibération : {', '.join(scope.data)}")
        out.append(f"- Justification : {scope.justification}")
        out.append("- Règles qui la lisent :")
        out += [f"  - {rule}" for rule in scope.rules]
        out.append("")
    out += ["## Le traitement des données personnelles", "",
            f"- **Destinataires** : {model.recipients}",
            f"- **Durée de conservation proposée** : {model.retention_months} mois (à ajuster). {model.retention_rule}",
            ""]
    out += ["## Données qui ne passent pas par API Particulier", ""]
    out.append(f"- Déclarées par la famille (aucun scope) : {', '.join(model.declared) or 'aucune'}")
    unused = ", ".join(model.unused) or "aucune"
    out.append(f"- Déclarées mais jamais lues par les règles (ne les demandez pas) : {unused}")
    if model.unbound:
        out.append(f"- Sans source reconnue dans le catalogue : {', '.join(model.unbound)}")
    out.append("")
    for other in model.other_habilitations:
        out += ["## Habilitation distincte : API Impôt particulier (DGFiP)", "",
                "Ces données fiscales ne font pas partie d'API Particulier : elles demandent une autre demande "
                "DataPass (bac à sable puis production), jamais mêlée à celle-ci.", "",
                f"- Formulaires : {', '.join(f'`{f}`' for f in other.forms)}",
                f"- Adresse : <{other.url}>"]
        for scope in other.scopes:
            out.append(f"- `{scope.scope}` ({scope.label or '—'}) : {scope.justification}")
        if len(other.year_scopes) == 1:
            out.append(f"- Cocher aussi l'année : `{other.year_scopes[0]}` ({_YEAR_TEXT[other.year_scopes[0]]}, "
                       "l'année de revenus que les règles disent lire)")
        elif other.year_scopes:
            out.append(f"- Cocher aussi l'une des années : {', '.join(f'`{y}`' for y in other.year_scopes)}")
        out.append("")
    out += ["## À faire à la main dans DataPass", ""] + [f"- {step}" for step in model.manual_steps] + [""]
    out += ["## Non vérifié (UNVERIFIED)", ""] + [f"- {item}" for item in model.unverified] + [""]
    if not model.exact:
        out += ["_Analyse par les règles écrites : certains résultats avaient trop de cas pour être énumérés._", ""]
    return "\n".join(out).rstrip("\n") + "\n"
