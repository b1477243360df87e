"""Checks that need the data catalogue (`tarifrules.catalogue`).

Each datum of `données` is bound to a catalogue entry by the words after its comma.

* T060 (avertissement) — the words name no entry: the datum has no known source;
* T061 — the declared type or granularity is not the one the source gives;
* T062 — a value of `parmi (…)` is not one the source gives;
* T063 — tax data (DGFiP) in a crèche (EAJE) tariff: the CNAF barème applies;
* T064 (avertissement) — a MEN boursier status or échelon decides a rule while a
  negative answer may still mean "not known yet" (before mid-October);
* T067 (avertissement) — a DGFiP datum does not say which income year it reads
  (`revenus N-1`, `revenus N-2`, `revenus N-3`, `dernier avis disponible`);
* T068 (avertissement) — the income year chosen cannot be served on some days of the
  validity period (revenus N-1 before late July), or the DGFiP data of one file read
  different years;
* T065 — `--profil cantine-1-euro`: the grid does not meet the conditions of the State
  aid for the social pricing of school canteens; T066 (avertissement) — a meal at 1 € or
  less offered above a quotient familial of 1 000 € (allowed only under a convention
  signed before 1 August 2022).

What evaluation does with such a negative answer (read as unknown before mid-October) is
in `tarifrules.catalogue.negatives`.
"""

from __future__ import annotations

import datetime
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterator
from decimal import Decimal

from .. import nodes as n
from ..catalogue import CatalogueEntry, load_catalogue
from ..catalogue.negatives import (
    NULL_WORDS,
    UNRELIABLE_FROM,
    entry_of,
    unreliable_entries,
    unreliable_until,
)
from ..dgfip.years import AVAILABLE_FROM, first_unserved_day, income_year_choice
from ..diagnostics import Diagnostic, error, warning
from ..symbols import definition_references
from ..values import format_decimal
from .context import Context

__all__ = [
    "CANTINE_SOURCE",
    "PROFILES",
    "check_catalogue",
    "check_profile",
]

CANTINE_SOURCE = "https://solidarites.gouv.fr/proposer-une-tarification-sociale-dans-les-cantines-la-cantine-1-euro"
"""Where the conditions of the « cantine à 1 € » aid were read (see docs/erreurs.md, T065)."""

_CHOICE_HINTS = {
    "catégorie de demandeur d'emploi": "les catégories sont numérotées 1 à 5 (catégories administratives de "
                                       "France Travail, pas les catégories statistiques A à E)",
}

_EAJE = re.compile(r"\b(creches?|micro-creches?|eaje|multi-?accueils?|haltes?-garderies?|"
                   r"accueil (collectif )?du jeune enfant|jardins? d'enfants)\b")

_INCOME_ENTRIES = frozenset({"quotient familial caf", "quotient familial msa", "revenu fiscal de référence",
                             "ressources annuelles eaje"})
_INCOME_WORDS = re.compile(r"\b(quotient|revenus?|ressources?)\b")
_QF_ENTRIES = frozenset({"quotient familial caf", "quotient familial msa"})


# ------------------------------------------------------------------ the checks


def check_catalogue(context: Context) -> Iterator[Diagnostic]:
    program = context.program
    eaje = _is_eaje(program.header)
    for declaration in program.data:
        if not declaration.description:
            continue
        entry = load_catalogue().lookup(declaration.description)
        if entry is None:
            yield _unknown_source(declaration)
            continue
        if entry.kind is None:
            continue  # déclaré par la famille: any type
        mismatch = _type_mismatch(declaration, entry)
        if mismatch is not None:
            yield mismatch
        elif entry.kind is n.Kind.ENUM:
            yield from _choices(declaration, entry)
        if eaje and "eaje" in entry.forbidden_uses:
            yield error("T063", f"« {declaration.name} » ({entry.name}, {entry.provider}) est une donnée fiscale : "
                        "elle ne peut pas servir au tarif d'un établissement d'accueil du jeune enfant",
                        declaration.span,
                        "en crèche (EAJE), la participation familiale suit le barème national de la CNAF : "
                        "taux d'effort appliqué aux ressources connues de la CAF (donnée « ressources annuelles "
                        "EAJE »), jamais au revenu fiscal")
    yield from _mid_october(context)
    yield from _income_years(context)


def _unknown_source(declaration: n.Declaration) -> Diagnostic:
    words = declaration.description or ""
    close = load_catalogue().suggest(words)
    guess = f"vouliez-vous dire « {close} » ? " if close else ""
    written = f"{words}, déclaré par la famille"
    family = re.search(r"\s+(déclarée?s? par (la famille|le foyer))$", words, re.IGNORECASE)
    if family:  # `revenu déclaré par la famille`: the comma is missing
        guess, written = "", f"{words[:family.start()]}, {family.group(1)}"
    return warning("T060", f"« {words} » : source inconnue du catalogue pour « {declaration.name} »",
                   declaration.span,
                   f"{guess}une donnée fournie par la famille s'écrit « {declaration.name} : …, {written} » ; "
                   "les sources connues sont dans docs/catalogue.md")


def declared_type_text(spec: n.TypeSpec) -> str:
    """The declared type as written in `données` (bounds left out)."""
    if spec.kind is n.Kind.MONTANT:
        return "montant entier" if spec.granularity is n.Granularity.ENTIER else "montant au centime"
    if spec.kind is n.Kind.ENUM:
        return f"parmi ({', '.join(spec.choices)})"
    return spec.kind.value


def _catalogue_type_text(entry: CatalogueEntry) -> str:
    if entry.kind is n.Kind.ENUM and entry.null_means:
        return f"parmi (aucun, {', '.join(entry.choices)})"
    return entry.type_text()


def _type_mismatch(declaration: n.Declaration, entry: CatalogueEntry) -> Diagnostic | None:
    spec = declaration.type
    if spec.kind is entry.kind:
        if spec.kind is not n.Kind.MONTANT or spec.granularity is entry.granularity:
            return None
    elif spec.kind is n.Kind.DECIMAL and entry.kind is n.Kind.NOMBRE:
        return None  # every whole number is a decimal one
    rewrite = f"déclarez « {declaration.name} : {_catalogue_type_text(entry)}, {declaration.description} »"
    if entry.kind is n.Kind.MONTANT and spec.kind is n.Kind.MONTANT:
        why = ("la source donne des euros entiers" if entry.granularity is n.Granularity.ENTIER else
               "la source donne des centimes : un montant entier refuserait ses valeurs")
        rewrite = f"{why} ; {rewrite}"
    return error("T061", f"« {declaration.name} » est déclaré {declared_type_text(spec)}, mais « {entry.name} » "
                 f"est {_catalogue_type_text(entry)} selon le catalogue", spec.span or declaration.span, rewrite)


def _choices(declaration: n.Declaration, entry: CatalogueEntry) -> Iterator[Diagnostic]:
    allowed = set(entry.choices)
    wrong = [c for c in declaration.type.choices if c not in allowed and not (entry.null_means and c in NULL_WORDS)]
    if not wrong:
        return
    hint = _CHOICE_HINTS.get(entry.key) or f"valeurs données par la source : {', '.join(entry.choices)}"
    if entry.null_means:
        hint += f" ; ajoutez « aucun » pour « {entry.null_means} »"
    elif any(choice in NULL_WORDS for choice in wrong):
        hint += " ; cette source donne toujours une valeur : retirez « aucun »"
    wanted = {c for c in declaration.type.choices if c not in NULL_WORDS}
    sibling = next((other for other in load_catalogue() if other is not entry and other.field == entry.field
                    and other.kind is n.Kind.ENUM and wanted <= set(other.choices)), None)
    if sibling is not None:
        hint += f" ; si la donnée est « {sibling.name} », écrivez « {sibling.key} »"
    quoted = ", ".join(f"« {choice} »" for choice in wrong)
    verb = "n'est pas une valeur possible" if len(wrong) == 1 else "ne sont pas des valeurs possibles"
    yield error("T062", f"{quoted} {verb} de « {entry.name} » (« {declaration.name} »)",
                declaration.type.span or declaration.span, hint)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _is_eaje(header: n.Header) -> bool:
    """True when the header says the tariff is a crèche's (EAJE, multi-accueil, halte-garderie…)."""
    texts = [header.title, *(item.value for item in header.items if isinstance(item.value, str))]
    return any(_EAJE.search(_fold(text)) for text in texts)


# ------------------------------------------------------------------ DGFiP income year


def _income_years(context: Context) -> Iterator[Diagnostic]:
    """T067: say which income year a DGFiP datum reads; T068: that year can be served on every
    day of the validity, and every DGFiP datum of the file reads the same one."""
    fiscal = [(d, income_year_choice(d.description)) for d in context.program.data
              if (entry := entry_of(d)) is not None and entry.requires_one_of]
    for declaration, choice in fiscal:
        if choice is None:
            yield warning("T067", f"« {declaration.name} » est une donnée fiscale (DGFiP) qui ne dit pas quelle "
                          "année de revenus lire", declaration.span,
                          f"ajoutez l'année à la description : « {declaration.description}, revenus N-1 » (ou "
                          "« revenus N-2 », « revenus N-3 », « dernier avis disponible ») ; N est l'année du calcul")
    chosen = [(d, c) for d, c in fiscal if c is not None]
    if len({c.key for _, c in chosen}) > 1:
        first, other = chosen[0], next(item for item in chosen if item[1].key != chosen[0][1].key)
        yield warning("T068", f"« {other[0].name} » lit les {other[1].label} mais « {first[0].name} » les "
                      f"{first[1].label} : un même calcul mêlerait deux années de revenus", other[0].span,
                      "choisissez la même année pour toutes les données fiscales du fichier")
        return
    validity = context.program.header.get("applicable")
    if not chosen or validity is None or not isinstance(validity.value, tuple):
        return
    declaration, choice = chosen[0]
    day = first_unserved_day(choice, *validity.value)
    if day is not None:
        month, date = AVAILABLE_FROM
        yield warning("T068", f"« {declaration.name} » lit les {choice.label}, qui n'existent pas encore le "
                      f"{day:%d/%m/%Y} : chaque année, ils ne sont disponibles qu'à partir du {date}/{month:02d} "
                      "environ (avis d'impôt établis)", declaration.span,
                      "écrivez « dernier avis disponible » (revenus N-1, ou N-2 tant que N-1 n'existe pas), ou "
                      "« revenus N-2 », ou limitez la période d'application (« applicable du … au … »)")


# ------------------------------------------------------------------ mid-October (MEN)


def _period_meets_window(entry: CatalogueEntry, start: datetime.date, end: datetime.date | None) -> bool:
    until = unreliable_until(entry)
    if until is None:
        return False
    if end is None:
        return True
    for year in range(start.year, end.year + 1):
        window_start = datetime.date(year, *UNRELIABLE_FROM)
        window_end = datetime.date(year, *until)
        if start < window_end and end >= window_start:
            return True
    return False


def _mid_october(context: Context) -> Iterator[Diagnostic]:
    validity = context.program.header.get("applicable")
    if validity is None or not isinstance(validity.value, tuple):
        return
    start, end = validity.value
    for name, entry, _ in unreliable_entries(context.program):
        if not _period_meets_window(entry, start, end):
            continue
        reference = next((ref for article in context.program.articles for definition in article.definitions
                          for ref in definition_references(definition) if ref.name == name), None)
        if reference is None:
            continue  # never read: T044 already says so
        yield warning("T064", f"« {name} » ({entry.name}) décide d'une règle alors qu'avant le "
                      f"{entry.negative_unreliable_before} de l'année scolaire une réponse « non boursier » peut "
                      "vouloir dire « pas encore connu »", reference.span,
                      "ne refusez ni ne réduisez une aide sur cette réponse avant la mi-octobre : faites commencer "
                      f"la période d'application au {entry.negative_unreliable_before} (et finir avant le 1er août), "
                      f"ou prévoyez un réexamen ; entre le 01/08 et le {entry.negative_unreliable_before}, tarifrules "
                      "traite cette réponse comme inconnue")


# ------------------------------------------------------------------ profiles


def check_profile(context: Context, profile: str) -> Iterator[Diagnostic]:
    """The diagnostics of a named profile (`cantine-1-euro`); `ValueError` for an unknown name."""
    try:
        check = PROFILES[profile]
    except KeyError:
        raise ValueError(f"profil inconnu : « {profile} » (profils : {', '.join(PROFILES)})") from None
    return check(context)


def _cantine_1_euro(context: Context) -> Iterator[Diagnostic]:
    program = context.program
    grids = [(output, definition, grid) for output in program.outputs if output.type.kind is n.Kind.MONTANT
             for definition, grid in _grids_of(context, output.name)]
    source = f"conditions de l'aide de l'État : {CANTINE_SOURCE}"
    if not grids:
        where = program.outputs[0].span if program.outputs else program.header.span
        yield error("T065", "profil cantine à 1 € : aucun tarif n'est calculé par une grille de tranches", where,
                    "écrivez le tarif du repas en grille progressive selon le quotient familial ou les revenus, "
                    f"d'au moins 3 tranches dont une à 1,00 € ou moins ; {source}")
        return
    based = [(o, d, g) for o, d, g in grids if _income_based(context, g.selector, set())]
    if not based:
        _, definition, grid = grids[0]
        yield error("T065", f"profil cantine à 1 € : la grille de « {definition.name} » ne se lit ni selon le "
                    "quotient familial ni selon les revenus", definition.name_span,
                    f"la grille doit être établie en fonction des revenus ou du quotient familial ; {source}")
        return
    for _, definition, grid in based:
        yield from _cantine_grid(context, definition, grid, source)


def _cantine_grid(context: Context, definition: n.Definition, grid: n.Grid, source: str) -> Iterator[Diagnostic]:
    name, span = definition.name, definition.name_span
    rows = sorted((row for row in grid.rows if row.form is not n.BoundForm.DEFAULT), key=_row_order)
    if len(rows) < 3:
        yield error("T065", f"profil cantine à 1 € : la grille de « {name} » a {len(rows)} tranche(s), il en "
                    "faut au moins 3", span, f"découpez la grille en au moins trois tranches ; {source}")
    prices = [row.value.value if isinstance(row.value, n.Number) and row.value.unit is n.Unit.EURO else None
              for row in rows]
    if any(price is None for price in prices):
        yield error("T065", f"profil cantine à 1 € : les tarifs de la grille de « {name} » ne sont pas tous des "
                    "montants écrits, sa progressivité ne peut pas être vérifiée", span,
                    f"écrivez le prix de chaque tranche en euros, par exemple « 1,00 € » ; {source}")
        return
    amounts = [price for price in prices if price is not None]
    if not any(a <= 1 for a in amounts):
        yield error("T065", f"profil cantine à 1 € : aucune tranche de « {name} » ne coûte 1,00 € ou moins "
                    f"(la moins chère : {_euros(min(amounts))})", span,
                    f"au moins une tranche doit proposer le repas à 1,00 € ou moins ; {source}")
    if not any(a > 1 for a in amounts):
        yield error("T065", f"profil cantine à 1 € : aucune tranche de « {name} » ne coûte plus de 1,00 €", span,
                    f"la grille doit aussi avoir une tranche au-dessus de 1,00 € ; {source}")
    for (a, _), (b, row) in itertools.pairwise(zip(amounts, rows, strict=True)):
        if b < a:
            yield error("T065", f"profil cantine à 1 € : la grille de « {name} » n'est pas progressive : "
                        f"{_euros(a)} puis {_euros(b)} pour une tranche plus haute", row.span,
                        f"le prix doit croître (ou rester égal) avec le quotient ou les revenus ; {source}")
            break
    selector = grid.selector.name if isinstance(grid.selector, n.Ref) else None
    declaration = context.symbols.data.get(selector) if selector else None
    entry = entry_of(declaration) if declaration is not None else None
    if entry is not None and entry.key in _QF_ENTRIES:
        for row, amount in zip(rows, amounts, strict=True):
            upper = row.upper.value.value if row.upper is not None else None
            if amount <= 1 and (upper is None or upper > 1000):
                yield warning("T066", f"profil cantine à 1 € : le repas à {_euros(amount)} de « {name} » va "
                              "au-delà d'un quotient familial de 1 000 €", row.span,
                              "depuis le 1er août 2022, le tarif d'un euro au plus est réservé aux familles dont le "
                              "quotient familial CAF est inférieur ou égal à 1 000 € (une convention triennale signée "
                              f"avant garde ses tranches ; si c'est votre cas, ignorez cet avertissement) ; {source}")
                break


def _euros(amount: Decimal) -> str:
    return f"{format_decimal(amount, min_places=2)} €"


def _row_order(row: n.GridRow) -> tuple[bool, Decimal]:
    return (row.lower is not None, row.lower.value.value if row.lower is not None else Decimal(0))


def _grids_of(context: Context, name: str, seen: set[str] | None = None) -> Iterator[tuple[n.Definition, n.Grid]]:
    """The grids that compute a name, directly or through the names it uses (not data)."""
    seen = seen if seen is not None else set()
    if name in seen:
        return
    seen.add(name)
    for piece in context.symbols.pieces.get(name, ()):
        definition = piece.definition
        for part in n.definition_parts(definition):
            for node in n.walk(part):
                if isinstance(node, n.Grid):
                    yield definition, node
        for ref in definition_references(definition):
            if ref.name not in context.symbols.data:
                yield from _grids_of(context, ref.name, seen)


def _income_based(context: Context, expr: n.Expr, seen: set[str]) -> bool:
    """True when the expression reads the quotient familial or income, directly or through defined names."""
    for node in n.walk(expr):
        if not isinstance(node, n.Ref) or node.name in seen:
            continue
        seen.add(node.name)
        declaration = context.symbols.data.get(node.name)
        if declaration is not None:
            entry = entry_of(declaration)
            if entry is not None and entry.key in _INCOME_ENTRIES:
                return True
            if (entry is None or entry.kind is None) and _INCOME_WORDS.search(
                    _fold(f"{declaration.name.replace('_', ' ')} {declaration.description or ''}")):
                return True
            continue
        for piece in context.symbols.pieces.get(node.name, ()):
            if any(_income_based(context, ref, seen) for ref in definition_references(piece.definition)):
                return True
    return False


PROFILES: dict[str, Callable[[Context], Iterator[Diagnostic]]] = {"cantine-1-euro": _cantine_1_euro}
