"""Which API Particulier scopes a set of rule files needs, and why (data minimisation).

Each datum of `données` is bound to the catalogue by the words after its comma
(`quotient_familial : montant entier, quotient familial CAF`). A datum is *needed* by an
output when some household makes the evaluator read it, unknown data included (a datum
read only when another one is missing still has to be asked for). Where the data an
output depends on have few meaningful values (booleans, lists, numbers compared with a
few thresholds) every such household is evaluated, so the set is exact; otherwise the
data the output's rules mention are taken, which can only over-approximate.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import nodes as n
from .catalogue import Catalogue, CatalogueEntry, load_catalogue
from .checks.context import Context
from .checks.solver import _NUMERIC, MAX_HOUSEHOLDS, _enumerable, candidates
from .dgfip.years import income_year_choice
from .diagnostics import TarifError
from .ruleset import RuleSet
from .symbols import data_references, definition_references, dependency_parts, references

API_PARTICULIER = "api_particulier"


@dataclass(frozen=True)
class DatumUse:
    """One datum of one file: its catalogue entry and the rules that read it."""

    file: str
    datum: str
    entry: CatalogueEntry | None
    outputs: tuple[str, ...]
    articles: tuple[str, ...]
    rules: tuple[str, ...]  # the source lines of the definitions that read it
    year_scope: str | None = None  # DGFiP: the year scope the datum's income year needs (`revenus N-1`…)

    @property
    def scopes(self) -> tuple[str, ...]:
        """Every scope reading this datum needs: the entry's, plus its year scope (DGFiP)."""
        if self.entry is None:
            return ()
        return self.entry.required_scopes + ((self.year_scope,) if self.year_scope else ())


@dataclass(frozen=True)
class ScopeReport:
    uses: tuple[DatumUse, ...]
    unused: tuple[tuple[str, str], ...]  # (file, datum) declared but never read
    exact: bool  # every output's data were found by enumerating households
    files: tuple[str, ...] = field(default=())

    def by_scope(self, habilitation: str = API_PARTICULIER) -> dict[str, list[DatumUse]]:
        grouped: dict[str, list[DatumUse]] = {}
        for use in self.uses:
            entry = use.entry
            if entry is not None and entry.habilitation == habilitation:
                for scope in use.scopes:
                    grouped.setdefault(scope, []).append(use)
        return dict(sorted(grouped.items()))

    @property
    def scopes(self) -> list[str]:
        return list(self.by_scope())

    @property
    def declared(self) -> list[DatumUse]:
        return [u for u in self.uses if u.entry is not None and u.entry.source == "famille"]

    @property
    def unbound(self) -> list[DatumUse]:
        return [u for u in self.uses if u.entry is None]

    @property
    def other_habilitations(self) -> dict[str, dict[str, list[DatumUse]]]:
        names = {u.entry.habilitation for u in self.uses if u.entry is not None}
        return {name: self.by_scope(name) for name in sorted(h for h in names if h and h != API_PARTICULIER)}

    def by_output(self) -> dict[str, list[str]]:
        result: dict[str, set[str]] = {}
        for use in self.uses:
            for output in use.outputs:
                scopes = result.setdefault(output, set())
                if use.entry is not None and use.entry.habilitation == API_PARTICULIER:
                    scopes.update(use.entry.required_scopes)
        return {output: sorted(scopes) for output, scopes in sorted(result.items())}

    def endpoints(self) -> list[str]:
        paths = {endpoint.path for uses in self.by_scope().values() for use in uses
                 for endpoint in (use.entry.endpoints if use.entry else ())}
        return sorted(paths)

    def to_json(self) -> dict[str, Any]:
        def describe(uses: list[DatumUse]) -> dict[str, Any]:
            return {
                "data": sorted({u.datum for u in uses}),
                "articles": sorted({a for u in uses for a in u.articles}, key=_article_key),
                "rules": [rule for u in uses for rule in u.rules],
            }

        return {
            "scopes": self.scopes,
            "by_scope": {scope: describe(uses) for scope, uses in self.by_scope().items()},
            "by_output": self.by_output(),
            "endpoints": self.endpoints(),
            "declared": sorted({u.datum for u in self.declared}),
            "unused": sorted({datum for _, datum in self.unused}),
            "unbound": sorted({u.datum for u in self.unbound}),
            "habilitations": {
                name: {scope: describe(uses) for scope, uses in scopes.items()}
                for name, scopes in self.other_habilitations.items()
            },
            "exact": self.exact,
        }


def _article_key(number: str) -> tuple[int, str]:
    digits = "".join(itertools.takewhile(str.isdigit, number))
    return (int(digits) if digits else 0, number)


def analyse(rulesets: Sequence[RuleSet], catalogue: Catalogue | None = None) -> ScopeReport:
    catalogue = catalogue or load_catalogue()
    uses: list[DatumUse] = []
    unused: list[tuple[str, str]] = []
    exact = True
    for ruleset in rulesets:
        needed: dict[str, set[str]] = {}
        for output in ruleset.output_names:
            data, enumerated = needed_data(ruleset, output)
            exact = exact and enumerated
            for datum in data:
                needed.setdefault(datum, set()).add(output)
        for declaration in ruleset.program.data:
            outputs = needed.get(declaration.name)
            if not outputs:
                unused.append((ruleset.file, declaration.name))
                continue
            articles, rules = _reading_rules(ruleset, declaration.name)
            entry = catalogue.lookup(declaration.description or "")
            choice = income_year_choice(declaration.description) if entry and entry.requires_one_of else None
            uses.append(DatumUse(ruleset.file, declaration.name, entry, tuple(sorted(outputs)), articles, rules,
                                 choice.scope if choice else None))
    return ScopeReport(tuple(uses), tuple(unused), exact, tuple(r.file for r in rulesets))


def mentioned_data(ruleset: RuleSet, output: str) -> set[str]:
    """Data named by the rules an output depends on (directly or through other names)."""
    symbols = ruleset.symbols
    return {ref.name for part in dependency_parts(symbols, [output]) for ref in references(part)
            if ref.name in symbols.data}


def needed_data(ruleset: RuleSet, output: str) -> tuple[set[str], bool]:
    """Data some household makes the evaluator read for `output`, and whether this is exact."""
    mentioned = sorted(mentioned_data(ruleset, output))
    context = Context(ruleset.program, ruleset.symbols, dict(ruleset.kinds.names))
    if not _decided_at_thresholds(context, output):
        return set(mentioned), False
    domains: list[list[Any]] = []
    for name in mentioned:
        values = candidates(context, name)
        if not values:
            return set(mentioned), False
        domains.append([*values, None])  # None: the datum is unknown
    total = 1
    for domain in domains:
        total *= len(domain)
    if total > MAX_HOUSEHOLDS:
        return set(mentioned), False
    data_refs = {key: ref.name for key, ref in data_references(ruleset.program, ruleset.symbols).items()}
    read: set[str] = set()
    for combination in itertools.product(*domains):
        household = {name: value for name, value in zip(mentioned, combination, strict=True) if value is not None}
        try:
            trace = ruleset.trace_output(household, output)
        except (TarifError, ArithmeticError):
            continue
        read |= {data_refs[key] for key in trace if key in data_refs}
        if len(read) == len(mentioned):
            break
    return read, True


def _decided_at_thresholds(context: Context, output: str) -> bool:
    """True when the comparisons and grids `output` depends on can only change at the values
    `candidates` tries: a numeric datum is compared with (or graded by) written numbers, and
    any other compared value is not computed from numeric data (`qf × 2 < 1 000 €` changes at
    500 €, a value no threshold names)."""
    symbols = context.symbols

    def numeric_datum(node: n.Expr | None) -> bool:
        return isinstance(node, n.Ref) and node.name in symbols.data and symbols.data[node.name].type.kind in _NUMERIC

    for part in dependency_parts(symbols, [output]):
        for node in n.walk(part):
            match node:
                case n.Compare(left=left, right=right):
                    for side, other in ((left, right), (right, left)):
                        if numeric_datum(side) and not isinstance(other, n.Number):
                            return False
                        if not numeric_datum(side) and not _enumerable(context, [side]):
                            return False
                case n.Grid(selector=selector, rows=rows):
                    if numeric_datum(selector):
                        if any(bound is not None and not isinstance(bound.value, n.Number)
                               for row in rows for bound in (row.lower, row.upper)):
                            return False
                    elif not _enumerable(context, [selector]):
                        return False
    return True


def _reading_rules(ruleset: RuleSet, datum: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    lines = ruleset.source.split("\n")
    articles: list[str] = []
    rules: list[str] = []
    for article in ruleset.program.articles:
        for definition in article.definitions:
            if any(ref.name == datum for ref in definition_references(definition)):
                if article.number not in articles:
                    articles.append(article.number)
                rules.append(f"article {article.number} : {_definition_text(definition, lines)}")
    return tuple(articles), tuple(rules)


def _definition_text(definition: n.Definition, lines: list[str]) -> str:
    """The written lines of a definition, joined; a grid reads as its first line."""
    first = definition.span.line
    ends = [first]
    if not isinstance(definition.body, n.Grid):  # expressions end where they are written; bodies run on
        ends += [node.span.end_line for part in n.definition_parts(definition) for node in n.walk(part)
                 if not isinstance(node, (n.Grid, n.Cases))]
    last = min(max(ends), len(lines))
    written = [lines[i - 1].split("#")[0].strip() for i in range(first, last + 1)]
    return " ".join(w for w in written if w)


def scopes_text(report: ScopeReport) -> Iterable[str]:
    """The French summary printed by `tarifrules scopes`."""
    by_scope = report.by_scope()
    yield f"Scopes API Particulier nécessaires ({len(by_scope)}) :"
    for scope, uses in by_scope.items():
        data = ", ".join(sorted({u.datum for u in uses}))
        articles = ", ".join(sorted({a for u in uses for a in u.articles}, key=_article_key))
        yield f"  {scope} — {data} (article{'s' if ',' in articles else ''} {articles})"
    if not by_scope:
        yield "  aucun"
    for habilitation, scopes in report.other_habilitations.items():
        yield f"Habilitation distincte « {habilitation} » :"
        for scope, uses in scopes.items():
            yield f"  {scope} — {', '.join(sorted({u.datum for u in uses}))}"
    yield "Par résultat :"
    for output, scopes_list in report.by_output().items():
        yield f"  {output} : {', '.join(scopes_list) or 'aucun scope'}"
    declared = sorted({u.datum for u in report.declared})
    yield f"Données déclarées par la famille : {', '.join(declared) or 'aucune'}"
    if report.unbound:
        names = ", ".join(sorted({u.datum for u in report.unbound}))
        yield f"Données sans source reconnue dans le catalogue : {names}"
    if report.unused:
        names = ", ".join(sorted({d for _, d in report.unused}))
        yield f"Données déclarées mais jamais utilisées (ne les demandez pas) : {names}"
    if not report.exact:
        yield "(analyse par les règles écrites : certains résultats ont trop de cas pour être énumérés)"
