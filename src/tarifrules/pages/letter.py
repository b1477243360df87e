"""The explanation letter a family can receive (CRPA L311-3-1 and R311-3-1-2).

R311-3-1-2 lists what the administration must be able to tell a person about an
algorithmic decision: (1) the degree and mode of contribution of the processing to the
decision, (2) the data processed and their sources, (3) the processing parameters and,
where relevant, their weighting, applied to the person's situation, (4) the operations
performed. The letter has one section for each, then what would change the result.

It is built from one `Evaluation` only: the data it names are those of the household
that the evaluator read (the trace), never another datum; sources are those the
evaluation cites (`Evaluation.with_sources`, e.g. after `--fetch`), else what the
catalogue says the datum is. `Letter` is a small document model rendered to Markdown
(`to_markdown`) and to HTML (`to_html`, escaped, same style as the tariff sheets).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

from .. import nodes as n
from ..catalogue import load_catalogue
from ..formatter import _chain
from ..ruleset import Evaluation
from ..symbols import data_references
from ..values import spell
from .alternatives import alternatives
from .html import esc, page

__all__ = ["Letter", "Section", "build_letter"]

_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre")
_PROVIDERS = {"CAF": "la CAF", "MSA": "la MSA", "CNAF/MSA": "la CAF ou la MSA", "MEN": "l'Éducation nationale",
              "CNOUS": "le CNOUS", "MESRI": "le ministère de l'Enseignement supérieur", "DGFiP": "la DGFiP"}
_FEMININE = frozenset({"participation", "contribution", "réduction", "somme", "remise", "majoration", "prime",
                        "redevance", "cotisation", "allocation", "gratuité", "prise", "tarification", "facture"})
_CITED = re.compile(r"^source (?P<provider>.+?) via API Particulier(?P<rest>.*)$")
_PERIOD = re.compile(r"calculé en (\d{2})/(\d{4})")


@dataclass(frozen=True)
class Section:
    title: str
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    numbered: bool = False


@dataclass(frozen=True)
class Letter:
    title: str
    subtitle: tuple[str, ...]
    sections: tuple[Section, ...]

    def to_markdown(self) -> str:
        lines = [f"# {self.title}", ""]
        lines += [f"{line}  " for line in self.subtitle[:-1]] + list(self.subtitle[-1:]) + [""]
        for section in self.sections:
            lines += [f"## {section.title}", ""]
            for paragraph in section.paragraphs:
                lines += [paragraph, ""]
            if section.items:
                lines += [f"{i}. {item}" if section.numbered else f"- {item}"
                          for i, item in enumerate(section.items, 1)] + [""]
        return "\n".join(lines).rstrip("\n") + "\n"

    def to_html(self) -> str:
        parts = [f"<h1>{esc(self.title)}</h1>", "<p>" + "<br>".join(_inline(s) for s in self.subtitle) + "</p>"]
        for section in self.sections:
            parts.append(f"<section><h2>{esc(section.title)}</h2>")
            parts += [f"<p>{_inline(p)}</p>" for p in section.paragraphs]
            if section.items:
                tag = "ol" if section.numbered else "ul"
                parts.append(f"<{tag}>" + "".join(f"<li>{_inline(i)}</li>" for i in section.items) + f"</{tag}>")
            parts.append("</section>")
        return page(self.title, "\n".join(parts))


def _inline(text: str) -> str:
    """Escaped text where `code` spans (backticks) become <code>."""
    pieces = text.split("`")
    return "".join(f"<code>{esc(p)}</code>" if i % 2 else esc(p) for i, p in enumerate(pieces))


# ------------------------------------------------------------------ building


def _label(name: str) -> str:
    return name.replace("_", " ")


def _output_label(evaluation: Evaluation, name: str) -> str:
    declaration = evaluation.ruleset.symbols.outputs[name]
    text = (declaration.description or _label(name)).strip()
    if re.match(r"^(le|la|les|l'|un|une)\b", text, re.I):
        return text
    first = text.split(" ")[0].lower()
    if first[:1] in "aeiouyéèêàâh":
        return f"l'{text}"
    return f"la {text}" if first in _FEMININE else f"le {text}"


def cited_source(sentence: str) -> str:
    """« source CAF via API Particulier, calculé en 10/2025 » → « fourni par la CAF via API
    Particulier, calculé en octobre 2025 »; any other sentence is kept as it is."""
    match = _CITED.match(sentence)
    if not match:
        return sentence
    provider = match.group("provider")
    rest = _PERIOD.sub(lambda m: f"calculé en {_MONTHS[int(m.group(1)) - 1]} {m.group(2)}", match.group("rest"))
    return f"fourni par {_PROVIDERS.get(provider, provider)} via API Particulier{rest}"


def _planned_source(description: str | None) -> str:
    entry = load_catalogue().lookup(description or "")
    if entry is None:
        return "donnée communiquée pour ce calcul"
    if entry.source == "famille":
        return "déclaré par la famille"
    provider = _PROVIDERS.get(entry.provider or "", entry.provider or "")
    api = "API Particulier" if entry.source == "api_particulier" else "API Impôt particulier"
    return f"donnée communiquée pour ce calcul (la délibération prévoit {provider} via {api})"


def read_data(evaluation: Evaluation, trace: dict[Any, Any]) -> set[str]:
    """The data the evaluator read for this household."""
    ruleset = evaluation.ruleset
    return {ref.name for key, ref in data_references(ruleset.program, ruleset.symbols).items() if key in trace}


def _header_lines(evaluation: Evaluation) -> tuple[str, ...]:
    header = evaluation.ruleset.program.header
    lines = []
    collectivity = header.get("collectivité")
    if collectivity is not None:
        lines.append(str(collectivity.value))
    vote = f"Délibération « {header.title} »"
    number, adopted = header.get("numéro"), header.get("adoptée")
    if number is not None:
        vote += f", n° {number.value}"
    if adopted is not None and isinstance(adopted.value, datetime.date):
        vote += f", adoptée le {adopted.value:%d/%m/%Y}"
    lines.append(vote)
    lines.append(f"Calcul fait pour la date du {evaluation.date:%d/%m/%Y}")
    return tuple(lines)


def _results(evaluation: Evaluation) -> Section:
    paragraphs = []
    for name, output in evaluation.outputs.items():
        label = _output_label(evaluation, name)
        if output.status == "value":
            paragraphs.append(f"{label[:1].upper()}{label[1:]} (`{name}`) est de {output.display()}.")
        else:
            missing = ", ".join(_label(d) for d in evaluation.missing_for(name))
            paragraphs.append(f"{label[:1].upper()}{label[1:]} (`{name}`) n'a pas pu être déterminé : il manque "
                              f"{missing or 'une donnée'}.")
    return Section("Résultat", tuple(paragraphs))


def _contribution(evaluation: Evaluation) -> Section:
    header = evaluation.ruleset.program.header
    basis = header.get("fondement")
    decided = all(o.status == "value" for o in evaluation.outputs.values())
    text = (f"Ce résultat a été calculé par un traitement algorithmique (le logiciel tarifrules) qui applique "
            f"les règles votées dans la délibération « {header.title} »")
    text += f" (fondement : {basis.value})." if basis is not None else "."
    paragraphs = [text]
    if decided:
        paragraphs.append("Le traitement détermine entièrement le résultat à partir des seules données "
                          "listées ci-dessous : il n'y a pas d'appréciation individuelle, et deux foyers dans la même "
                          "situation obtiennent le même résultat.")
    else:
        paragraphs.append("Le traitement n'a pas pu conclure seul : le résultat reste indéterminé tant que les "
                          "données manquantes ne sont pas connues. Aucun montant ne vous est appliqué sur cette base.")
    paragraphs.append("Les règles appliquées sont publiques ; vous pouvez en demander la communication, ainsi que "
                      "celle de cette explication.")
    return Section("1. Comment le traitement a contribué à la décision", tuple(paragraphs))


def _data_section(evaluation: Evaluation, read: set[str]) -> Section:
    ruleset = evaluation.ruleset
    items = []
    for datum in ruleset.data_names:
        if datum not in read or datum not in evaluation.data:
            continue
        declaration = ruleset.symbols.data[datum]
        unit = n.UNIT_OF_KIND.get(declaration.type.kind)
        whole = declaration.type.granularity is n.Granularity.ENTIER
        value = spell(evaluation.data[datum], unit, whole_euros=whole)
        cited = evaluation.sources.get(datum)
        source = cited_source(cited) if cited else _planned_source(declaration.description)
        numeric = declaration.type.kind in (n.Kind.MONTANT, n.Kind.NOMBRE, n.Kind.DECIMAL, n.Kind.TAUX)
        items.append(f"{_label(datum)} {'de' if numeric else ':'} {value}, {source}")
    missing = [d for d in evaluation.missing]
    for datum in missing:
        cited = evaluation.sources.get(datum)
        items.append(f"{_label(datum)} : inconnu" + (f" ({cited})" if cited else " (non communiqué)"))
    for datum in evaluation.set_aside:
        items.append(f"{_label(datum)} : une réponse négative de l'Éducation nationale n'est pas fiable avant "
                     "mi-octobre ; elle a été lue comme inconnue")
    paragraphs = ("Seules les données suivantes ont servi au calcul :",) if items else (
        "Aucune donnée personnelle n'a servi au calcul.",)
    return Section("2. Les données utilisées et leur source", paragraphs, tuple(items))


def _parameters(evaluation: Evaluation, trace: dict[Any, Any]) -> Section:
    """The rules applied to this household, as voted: the tranche, the rate, the exception."""
    items: list[str] = []
    for output in evaluation.explain().outputs:
        for step in output.steps:
            article = evaluation.ruleset.symbols.articles.get(step.article)
            if article is None:
                continue
            for definition in article.definitions:
                if definition.name == step.name:
                    items += _applied(step.article, definition, trace)
    unique = tuple(dict.fromkeys(items))
    return Section("3. Les paramètres appliqués à votre situation",
                   ("Les paramètres des règles, tels qu'ils sont votés, qui ont été appliqués :",), unique)


def _applied(article: str, definition: n.Definition, trace: dict[Any, Any]) -> list[str]:
    where = f"article {article}, `{definition.name}`"
    for unless in definition.unless:
        if trace.get(id(unless.condition)) is True:
            return [f"{where} : exception « sauf si {_chain(unless.condition)} » → {_chain(unless.value)}"]
    body = definition.body
    if isinstance(body, n.Grid):
        from ..checks.grids import _bound_text

        for row in body.rows:
            if id(row.value) in trace:
                label = "à défaut" if row.form is n.BoundForm.DEFAULT else f"tranche « {_bound_text(row)} »"
                return [f"{where} : grille selon {_chain(body.selector)}, {label} → {_chain(row.value)}"]
        return []
    if isinstance(body, n.Cases):
        for case in body.cases:
            if case.condition is None or trace.get(id(case.condition)) is True:
                condition = "sinon" if case.condition is None else f"si {_chain(case.condition)}"
                return [f"{where} : {condition} → {_chain(case.value)}"]
        return []
    return [f"{where} : {_chain(body)}"]


def _operations(evaluation: Evaluation) -> Section:
    items = []
    for output in evaluation.explain().outputs:
        items += [step.sentence() for step in output.steps]
        items.append(f"Résultat : `{output.name}` = {output.display}")
    return Section("4. Les opérations effectuées", ("Le calcul, dans l'ordre où il a été fait :",), tuple(items),
                   numbered=True)


def _changes(evaluation: Evaluation, read: set[str]) -> Section | None:
    found = alternatives(evaluation, read)
    if not found:
        return None
    items = tuple(a.sentence(_output_label(evaluation, a.output)) for a in found)
    items = tuple(item[:1].upper() + item[1:] + "." for item in items)
    return Section("Ce qui changerait le résultat",
                   ("Toutes choses égales par ailleurs, et d'après les mêmes règles :",), items)


def build_letter(evaluation: Evaluation) -> Letter:
    trace = evaluation.ruleset.trace(dict(evaluation.data))
    read = read_data(evaluation, trace) & (set(evaluation.data) | set(evaluation.missing))
    sections = [_results(evaluation), _contribution(evaluation), _data_section(evaluation, read),
                _parameters(evaluation, trace), _operations(evaluation)]
    changes = _changes(evaluation, read)
    if changes is not None:
        sections.append(changes)
    sections.append(Section("Vos droits", (
        "Cette explication vous est communiquée en application des articles L311-3-1 et R311-3-1-2 du code des "
        "relations entre le public et l'administration. Si une donnée ci-dessus est inexacte, signalez-le au "
        "service qui vous l'a adressée : le calcul sera refait avec la donnée corrigée.",)))
    return Letter(f"Explication du calcul : {evaluation.ruleset.title}", _header_lines(evaluation), tuple(sections))

