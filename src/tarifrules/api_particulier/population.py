"""A deterministic synthetic population for load tests of the fake API Particulier.

Household number `i` (1…N) is registered under the invented identity
`nomNaissance = "MENAGE" + i on 5 digits` (`MENAGE00001`, `MENAGE00002`…), one first name
drawn from a fixed list, a sex, a birth date between 1955 and 2002 and a birth commune code
drawn from a fixed list; its QF is spread uniformly over 0…3000 € (one in ten computed by the
MSA). Exactly `round(5 %)` of the households are unknown to the CAF (404 `23003`) and exactly
`round(20 %)` have a France Travail `identifiant` (`menage` + i on 5 digits): three in four
of those are registered job seekers (category 1–5, with payments), the others have an ended
registration and no payment (indemnités: 404). Same `size` and `seed` → same households.
Nothing here describes a real person.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from .fixtures import (
    CNAF_NOT_FOUND,
    DSS_BENEFITS,
    Person,
    address,
    client_identity,
    ft_statut,
    identity,
    member,
    payment,
    qf,
)

FIRST_NAMES = ("ALEX", "CAMILLE", "CLAUDE", "DOMINIQUE", "SACHA", "MORGAN", "YANNICK", "LOUISON", "ELOI", "MAEL")
COMMUNES = (("24322", "24000 PERIGUEUX"), ("24037", "24100 BERGERAC"), ("33063", "33000 BORDEAUX"),
            ("19272", "19100 BRIVE LA GAILLARDE"), ("87085", "87000 LIMOGES"))
NOT_FOUND_SHARE = 0.05
FRANCE_TRAVAIL_SHARE = 0.20
JOB_SEEKER_SHARE = 0.75  # of the households with a France Travail identifiant


@dataclass(frozen=True)
class SyntheticHousehold:
    """One invented household of the population, with its true data (what the fake answers)."""

    number: int
    identity: dict[str, Any]  # query parameters, as the client sends them
    quotient_familial: int | None  # None: unknown to the CAF (404)
    fournisseur: str | None
    france_travail: str | None  # identifiant, or None
    job_seeker: bool

    @property
    def client_identity(self) -> dict[str, Any]:
        """The identity as a mapping for `Identity.parse`."""
        return client_identity(self.identity)


def synthetic_population(size: int, seed: int = 0) -> list[SyntheticHousehold]:
    """`size` invented households, the same for the same (size, seed)."""
    rng = random.Random(seed)
    numbers = list(range(1, size + 1))
    unknown = set(rng.sample(numbers, round(size * NOT_FOUND_SHARE)))
    with_ft = rng.sample(numbers, round(size * FRANCE_TRAVAIL_SHARE))
    seekers = set(rng.sample(with_ft, round(len(with_ft) * JOB_SEEKER_SHARE)))
    households = []
    for number in numbers:
        sexe = rng.choice("MF")
        date = f"{rng.randint(1955, 2002)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        commune = rng.choice(COMMUNES)[0]
        params = identity(f"MENAGE{number:05d}", [rng.choice(FIRST_NAMES)], sexe, date, commune)
        value = rng.randint(0, 3000)
        fournisseur = "MSA" if rng.random() < 0.1 else "CNAF"
        found = number not in unknown
        households.append(SyntheticHousehold(number, params, value if found else None, fournisseur if found else None,
                                    f"menage{number:05d}" if number in with_ft else None, number in seekers))
    return households


def population_identities(size: int, seed: int = 0) -> list[tuple[dict[str, Any], str | None]]:
    """(identity mapping for `Identity.parse`, France Travail identifiant or None) per household,
    in household order: what a benchmark replays against `FakeApiParticulier(population=size, seed=seed)`."""
    return [(h.client_identity, h.france_travail) for h in synthetic_population(size, seed)]


def population_people(size: int, seed: int = 0) -> tuple[list[Person], dict[str, dict[str, Any]],
                                                          dict[str, list[dict[str, Any]]]]:
    """The fixtures the fake server registers: persons, France Travail statuts and payments."""
    people: list[Person] = []
    statuses: dict[str, dict[str, Any]] = {}
    payments: dict[str, list[dict[str, Any]]] = {}
    rng = random.Random(f"{seed}-details")
    for household in synthetic_population(size, seed):
        params = household.identity
        nom, prenom, sexe = params["nomNaissance"], params["prenoms"][0], params["sexeEtatCivil"]
        born = "-".join(f"{int(params[k]):02d}" for k in ("anneeDateNaissance", "moisDateNaissance",
                                                         "jourDateNaissance"))
        town = dict(COMMUNES)[params["codeCogInseeCommuneNaissance"]]
        key = f"menage{household.number:05d}"
        if household.quotient_familial is None:
            answers = {res: (404, CNAF_NOT_FOUND) for res in ("quotient_familial", *DSS_BENEFITS)}
            people.append(Person(key, params, answers=answers))
        else:
            civilite = "Monsieur" if sexe == "M" else "Madame"
            answer = qf(household.fournisseur or "CNAF", household.quotient_familial,
                        [member(nom, prenom, born, sexe)], [],
                        address(f"{civilite} {nom} {prenom}", f"{household.number} RUE DU BANC D'ESSAI", town),
                        calcul=None if household.fournisseur == "MSA" else (2025, 10))
            people.append(Person(key, params, caf=True, answers={"quotient_familial": answer}))
        if household.france_travail is None:
            continue
        start = f"{rng.randint(2023, 2025 if household.job_seeker else 2024)}-{rng.randint(1, 12):02d}-01"
        postal, name = town.split(" ", 1)
        statut = ft_statut("M." if sexe == "M" else "MME", nom, prenom[:13], born, start,
                           None if household.job_seeker else "2025-06-30", rng.randint(1, 5) if household.job_seeker
                           else 1, postal, params["codeCogInseeCommuneNaissance"], name,
                           f"{household.number} RUE DU BANC D'ESSAI")
        statuses[household.france_travail] = statut
        if household.job_seeker:
            payments[household.france_travail] = [payment("2025-09-30", float(rng.randint(300, 1600)))]
    return people, statuses, payments
