"""The French page `docs/catalogue.md`, generated from the catalogue."""

from __future__ import annotations

import re

from .entries import MODE_LABELS, Catalogue, CatalogueEntry
from .loading import load_catalogue


def catalogue_markdown(catalogue: Catalogue | None = None) -> str:
    """The French page `docs/catalogue.md`, generated from the catalogue."""
    catalogue = catalogue or load_catalogue()
    out: list[str] = [
        "# Le catalogue des données",
        "",
        "<!-- Page produite par tarifrules.catalogue.catalogue_markdown() à partir de",
        "     src/tarifrules/catalogue/catalogue.yaml : ne pas la modifier à la main ;",
        "     après une modification du YAML, lancez « python -m tarifrules.catalogue ». -->",
        "",
        "Chaque donnée qu'une règle peut lire a une entrée dans le catalogue. On la désigne",
        "après la virgule d'une ligne de `données`, par son nom ou l'un de ses autres noms",
        "(majuscules et espaces indifférents, accents comptés) :",
        "",
        "```text",
        "  quotient_familial : montant entier, quotient familial CAF",
        "  interne : booléen, élève interne du collège, déclaré par la famille",
        "```",
        "",
        "Le catalogue dit pour chaque donnée son type (tel qu'on l'écrit dans `données`), d'où",
        "elle vient, le **scope** — la case à cocher dans la demande DataPass — qui l'ouvre, le",
        "moins intrusif possible, les modes d'appel de l'API et les précautions de lecture.",
        "Les données fiscales (DGFiP) relèvent d'une **habilitation distincte**, l'API Impôt",
        "particulier : elles ne sont jamais mêlées aux scopes d'API Particulier.",
        "",
        "Modes d'appel : *identité pivot* (nom, prénoms, date et lieu de naissance),",
        "*FranceConnect* (jeton de la personne connectée), *identifiant* (identifiant propre",
        "au fournisseur : identifiant France Travail, numéro fiscal), *INE* (identifiant",
        "national étudiant).",
        "",
        "## Tableau des données",
        "",
        "| donnée | type | source / fournisseur | scope | modes d'appel | précautions |",
        "|---|---|---|---|---|---|",
    ]
    for entry in catalogue:
        out.append("| " + " | ".join(_cell(text) for text in (
            f"[{entry.name}](#{_slug(entry.name)})",
            f"`{entry.type_text()}`",
            _origin(entry),
            _scope_text(entry),
            _modes_text(entry),
            "<br>".join(entry.caveats),
        )) + " |")
    out += ["", "## Détail des entrées", ""]
    for entry in catalogue:
        out += [f"### {entry.name}", ""]
        details = [("nom dans `données`", f"« {entry.key} »")]
        if entry.aliases:
            details.append(("autres noms", ", ".join(f"« {alias} »" for alias in entry.aliases)))
        details.append(("type", f"`{entry.type_text()}`"))
        if entry.null_means:
            details.append(("valeur absente", entry.null_means))
        details.append(("source", _origin(entry)))
        if entry.habilitation:
            details.append(("habilitation", f"`{entry.habilitation}`"))
        if entry.scope:
            label = f" (« {entry.scope_label} »)" if entry.scope_label else ""
            details.append(("scope", f"`{entry.scope}`{label}"))
        if entry.requires_also:
            details.append(("à demander avec", ", ".join(f"`{s}`" for s in entry.requires_also)))
        if entry.requires_one_of:
            details.append(("et l'un de", ", ".join(f"`{s}`" for s in entry.requires_one_of)))
        for endpoint in entry.endpoints:
            details.append(("route", f"`GET {endpoint.path}` ({endpoint.mode_label})"))
        if entry.is_api and not entry.france_connect:
            details.append(("FranceConnect", "pas de route FranceConnect"))
        if entry.field:
            details.append(("champ", f"`{entry.field}`"))
        if entry.derivation:
            details.append(("valeur", entry.derivation))
        if entry.cache:
            details.append(("cache", entry.cache))
        if entry.freshness:
            details.append(("fraîcheur", entry.freshness))
        if entry.negative_unreliable_before:
            details.append(("réponse négative peu fiable avant le", entry.negative_unreliable_before))
        if entry.forbidden_uses:
            details.append(("usage interdit", ", ".join(_USE_LABELS[use] for use in entry.forbidden_uses)))
        details.append(("référence", entry.reference))
        out += [f"- **{label}** : {text}" for label, text in details]
        if entry.caveats:
            out += ["", "Précautions :", ""]
            out += [f"- {caveat}" for caveat in entry.caveats]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


_USE_LABELS: dict[str, str] = {"eaje": "participations familiales en EAJE (crèches)"}


def _origin(entry: CatalogueEntry) -> str:
    if entry.source == "famille":
        return "déclaré par la famille"
    api = "API Particulier" if entry.source == "api_particulier" else "API Impôt particulier"
    return f"{api} / {entry.provider}"


def _scope_text(entry: CatalogueEntry) -> str:
    if entry.scope is None:
        return "aucun"
    text = f"`{entry.scope}`"
    if entry.requires_also:
        text += " + " + " + ".join(f"`{s}`" for s in entry.requires_also)
    if entry.requires_one_of:
        text += " + un scope d'année"
    return text


def _modes_text(entry: CatalogueEntry) -> str:
    if not entry.endpoints:
        return "—"
    text = ", ".join(MODE_LABELS[mode] for mode in entry.modes)
    return text if entry.france_connect else text + " (pas de FranceConnect)"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _slug(title: str) -> str:
    """GitHub-style anchor of a heading (the one tests/test_docs.py checks)."""
    text = title.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")
