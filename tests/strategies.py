"""Hypothesis strategies for random *valid* ASTs: what `parse` could return for some file.

Every node is built the way `build.py` builds it (derived fields included: the step of a
rounding, the implicit `inclus`/`exclu` of a grid bound, the granularity of a type), so
that `parse(format_program(p)) == p` is a fair property. Names avoid the language's
keywords; texts avoid what a quoted string cannot hold.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from hypothesis import strategies as st

from tarifrules import nodes as n

# Every word of the grammar's keywords: a name equal to one of them cannot be written.
KEYWORDS = frozenset({
    "délibération", "collectivité", "numéro", "adoptée", "le", "applicable", "du", "au", "à",
    "partir", "fondement", "source", "note", "données", "résultats", "parmi", "article", "grille",
    "selon", "de", "inclus", "incluse", "exclu", "exclue", "jusqu", "moins", "plus", "delà",
    "au-delà", "défaut", "si", "sinon", "sauf", "par", "dérogation", "l", "minimum", "maximum",
    "multiple", "arrondi", "centime", "euro", "unité", "dixième", "proche", "inférieur",
    "supérieur", "entier", "indéterminé", "montant", "nombre", "décimal", "taux", "booléen",
    "date", "et", "ou", "non", "oui", "est", "connu", "inconnu", "exemple", "attendu", "évalué",
})

# Names that look like keywords without being one.
TRICKY_NAMES = ["ou_bien", "connue", "sinonyme", "est_connu", "nonobstant", "le_minimum", "montants",
                "x2", "état", "àdéfaut", "quotient_familial", "Tarif", "rang_enfant"]

names = st.one_of(
    st.sampled_from(TRICKY_NAMES),
    st.from_regex(r"[a-zéè][a-z0-9_éè]{0,8}", fullmatch=True),
).filter(lambda name: name not in KEYWORDS)

# Texts of quoted strings: no line break, no blank at the ends (the parser strips them), and
# not both `"` and `»` (neither quoting could hold them).
texts = st.text(
    alphabet=st.sampled_from("abcdeéèàçAZ019 '’\"#«»,:;-€%()"), min_size=0, max_size=20,
).map(str.strip).filter(lambda text: not ('"' in text and "»" in text))

CHOICES = ["aucun", "1", "2", "12", "0bis", "1 000", "1,5", "connu", "inconnu", "oui", "non", "ou",
           "et", "est", "l'été", "a b", 'dit "X"', "#1", "échelon_3"]
choices = st.one_of(st.sampled_from(CHOICES), names)
words = st.one_of(st.sampled_from(["oui", "non", "inconnu", "12", "0bis", "a b", "l'été", 'le "A"']), names)

dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2100, 12, 31))


@st.composite
def decimals(draw: st.DrawFn) -> Decimal:
    """A non-negative decimal as it could be written (`1,50` keeps its two places)."""
    whole = draw(st.one_of(st.integers(0, 999), st.integers(0, 10**8)))
    places = draw(st.integers(0, 3))
    if not places:
        return Decimal(whole)
    return Decimal(f"{whole}.{draw(st.integers(0, 10**places - 1)):0{places}d}")


numbers = st.builds(n.Number, decimals(), st.sampled_from(list(n.Unit)))
literals = st.one_of(numbers, st.builds(n.Bool, st.booleans()), st.builds(n.DateLiteral, dates))

ARITH_OPS = ["+", "−", "×", "/"]
COMPARE_OPS = ["<", "≤", ">", "≥", "=", "≠"]
STEPS = {"au centime": Decimal("0.01"), "à l'euro": Decimal(1), "à l'unité": Decimal(1),
         "au dixième": Decimal("0.1")}


@st.composite
def roundings(draw: st.DrawFn, inner: st.SearchStrategy[n.Expr]) -> n.Round:
    expr = draw(inner)
    direction = draw(st.sampled_from(list(n.Direction)))
    if draw(st.booleans()):
        step_text = draw(st.sampled_from(sorted(STEPS)))
        return n.Round(expr, STEPS[step_text], direction, step_text)
    literal = draw(numbers)
    step = literal.value / 100 if literal.unit is n.Unit.PERCENT else literal.value
    return n.Round(expr, step, direction, None, literal)


def _compound(children: st.SearchStrategy[n.Expr]) -> st.SearchStrategy[n.Expr]:
    few = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(
        st.builds(n.Arith, st.sampled_from(ARITH_OPS), children, children),
        st.builds(n.Compare, st.sampled_from(COMPARE_OPS), children, children),
        st.builds(n.IsOneOf, children, st.lists(choices, min_size=1, max_size=3).map(tuple)),
        st.builds(n.IsKnown, children, st.booleans()),
        st.builds(n.And, children, children),
        st.builds(n.Or, children, children),
        st.builds(n.Not, children),
        st.builds(n.Default, children, children),
        st.builds(n.Extremum, st.sampled_from(["minimum", "maximum"]), few),
        st.builds(n.Limit, st.sampled_from(["minimum", "maximum"]), children, children),
        roundings(children),
    )


expressions: st.SearchStrategy[n.Expr] = st.recursive(
    st.one_of(literals, st.builds(n.Ref, names)), _compound, max_leaves=8
)

# ------------------------------------------------------------------ definitions


def _end(value: n.Number, word: bool | None, implicit: bool | None) -> n.Bound:
    """A bound as `build._bound` makes it: a written word, or the form's implicit meaning."""
    return n.Bound(value, word, True) if word is not None else n.Bound(value, implicit, False)


@st.composite
def grid_rows(draw: st.DrawFn) -> n.GridRow:
    form = draw(st.sampled_from(list(n.BoundForm)))
    value = draw(expressions)
    low, high = draw(numbers), draw(numbers)
    word = st.one_of(st.none(), st.booleans())
    match form:
        case n.BoundForm.RANGE:
            return n.GridRow(form, _end(low, draw(word), True), _end(high, draw(word), None), value)
        case n.BoundForm.UP_TO:
            return n.GridRow(form, None, _end(high, draw(word), None), value)
        case n.BoundForm.BELOW:
            return n.GridRow(form, None, _end(high, None, False), value)
        case n.BoundForm.FROM:
            return n.GridRow(form, _end(low, None, True), None, value)
        case n.BoundForm.ABOVE | n.BoundForm.BEYOND:
            return n.GridRow(form, _end(low, None, False), None, value)
    return n.GridRow(form, None, None, value)


@st.composite
def case_lists(draw: st.DrawFn) -> n.Cases:
    conditions = draw(st.lists(expressions, min_size=1, max_size=3))
    cases = [n.Case(condition, draw(expressions)) for condition in conditions]
    if draw(st.booleans()):
        cases.append(n.Case(None, draw(expressions)))
    return n.Cases(tuple(cases))


article_numbers = st.builds(
    lambda number, sub, suffix: f"{number}{sub}{suffix}",
    st.integers(1, 40), st.sampled_from(["", ".1", "-2"]), st.sampled_from(["", " bis", " ter"]),
)

bodies = st.one_of(
    expressions,
    st.builds(n.Grid, expressions, st.lists(grid_rows(), min_size=1, max_size=4).map(tuple)),
    case_lists(),
)

definitions = st.builds(
    n.Definition,
    names,
    bodies,
    st.lists(st.builds(n.Unless, expressions, expressions), max_size=2).map(tuple),
    st.one_of(st.none(), expressions),
    st.lists(article_numbers, max_size=2).map(tuple),
)

articles = st.builds(
    n.Article, article_numbers, st.one_of(st.none(), texts), st.lists(definitions, max_size=3).map(tuple)
)

# ------------------------------------------------------------------ declarations


@st.composite
def type_specs(draw: st.DrawFn) -> n.TypeSpec:
    kind = draw(st.sampled_from(list(n.Kind)))
    minimum = draw(st.one_of(st.none(), numbers))
    maximum = draw(st.one_of(st.none(), numbers))
    if kind is n.Kind.ENUM:
        values = tuple(draw(st.lists(choices, min_size=1, max_size=4)))
        return n.TypeSpec(kind, None, values, minimum, maximum)
    granularity = {
        n.Kind.MONTANT: draw(st.sampled_from([n.Granularity.ENTIER, n.Granularity.CENTIME])),
        n.Kind.NOMBRE: n.Granularity.ENTIER,
        n.Kind.DECIMAL: n.Granularity.CONTINU,
        n.Kind.TAUX: n.Granularity.CONTINU,
    }.get(kind)
    return n.TypeSpec(kind, granularity, (), minimum, maximum)


# A declaration's description: free text up to the end of the line, blanks collapsed.
descriptions = st.text(alphabet=st.sampled_from("abcéà019 '’,:;-€%()«»"), max_size=25).map(
    lambda text: " ".join(text.split()) or None
)

declarations = st.builds(n.Declaration, names, type_specs(), descriptions)

# ------------------------------------------------------------------ header and examples

references = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9./-]{0,12}", fullmatch=True)


@st.composite
def headers(draw: st.DrawFn) -> n.Header:
    values = {
        "collectivité": texts, "numéro": references, "adoptée": dates,
        "applicable": st.tuples(dates, st.one_of(st.none(), dates)),
        "fondement": texts, "source": texts, "note": texts,
    }
    items = [n.HeaderItem(key, draw(value)) for key, value in values.items() if draw(st.booleans())]
    return n.Header(draw(texts), tuple(items))


example_values = st.one_of(literals, st.builds(n.Word, words), st.just(n.UnknownValue()))

example_lines = st.one_of(
    st.builds(n.ExampleData, st.lists(st.builds(n.Assignment, names, example_values),
                                      min_size=1, max_size=3).map(tuple)),
    st.builds(n.Expectation, names, st.one_of(st.none(), example_values)),
    st.builds(n.ExampleDate, dates),
)

examples = st.builds(n.Example, texts, st.lists(example_lines, max_size=4).map(tuple))

programs = st.builds(
    n.Program,
    headers(),
    st.lists(declarations, max_size=3).map(tuple),
    st.lists(declarations, max_size=2).map(tuple),
    st.lists(articles, max_size=3).map(tuple),
    st.lists(examples, max_size=2).map(tuple),
)


def program_with(expression: n.Expr) -> n.Program:
    """The smallest program holding `expression` as a definition's body."""
    definition = n.Definition("x", expression)
    return n.Program(n.Header("Essai", ()), (), (), (n.Article("1", None, (definition,)),), ())
