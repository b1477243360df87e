"""The service's shortcuts give the verdicts of the general code they stand in for."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tarifrules import nodes as n
from tarifrules.service.registry import Registry, Version

from .helpers import EXAMPLES

REGISTRY = Registry(EXAMPLES)
REGISTRY.refresh()
VERSIONS = {name: entry.served() for name, entry in sorted(REGISTRY.entries.items())}


def _words(version: Version) -> list[str]:
    """Strings a situation could hold for this file: choices, booleans, numbers, dates, mistakes."""
    choices = [c for d in version.ruleset.symbols.data.values() if d.type.kind is n.Kind.ENUM for c in d.type.choices]
    return [*choices, "oui", "non", "Vrai", "0", "1", "2", "650", "650,50", "1 000", "-5", "٦٥٠", "inconnu",
            "null", "", " ", "01/09/2025", "2025-09-01", "31/02/2025", "12 €", "x"]


def _values(version: Version) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(-3, 5000), st.sampled_from(_words(version)),
        st.decimals(min_value=-10, max_value=5000, places=3).map(Decimal), st.text(max_size=6),
    )
    containers = st.lists(scalars, max_size=2) | st.dictionaries(st.text(max_size=3), scalars, max_size=1)
    return st.one_of(scalars, scalars, scalars, containers)


@st.composite
def versions_and_situations(draw: st.DrawFn) -> tuple[Version, dict[str, Any]]:
    version = VERSIONS[draw(st.sampled_from(sorted(VERSIONS)))]
    declared = st.sampled_from(version.ruleset.data_names)
    names = st.one_of(declared, declared, declared, st.sampled_from(["x", "", "tarif_repas"]))
    return version, draw(st.dictionaries(names, _values(version), max_size=4))


@settings(max_examples=600, deadline=None)
@given(versions_and_situations())
def test_accepts_is_the_verdict_of_the_whole_schema(case: tuple[Version, dict[str, Any]]) -> None:
    version, situation = case
    assert version.accepts(situation) == version.validator.is_valid(situation)
    for name, value in situation.items():  # each datum alone: about half the values are valid
        assert version.accepts({name: value}) == version.validator.is_valid({name: value})


def test_accepts_both_ways() -> None:
    cantine = VERSIONS["restauration-scolaire"]
    assert cantine.accepts({"quotient_familial": 650, "demandeur_emploi": "oui"})
    assert cantine.accepts({})
    assert not cantine.accepts({"quotient_familial": -5})
    assert not cantine.accepts({"quotient_familial": Decimal("650.5")})  # a whole-euro amount
    assert not cantine.accepts({"quotient_familal": 650})
