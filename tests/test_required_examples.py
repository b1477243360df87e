"""The two required examples, exhaustively: every QF from 0 to 3 000, with and without job seeker."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import tarifrules

from .helpers import EXAMPLES

CENT = Decimal("0.01")
BRACKETS = [(400, "1.00"), (700, "2.10"), (1000, "3.20"), (1300, "4.10"), (1700, "4.80")]


def cantine(qf: int | None, job_seeker: bool | None) -> Decimal | None:
    """Independent reference written from the délibération (None: indéterminé)."""
    if qf is None:
        return Decimal("5.40")
    base = next((Decimal(p) for ceiling, p in BRACKETS if qf < ceiling), Decimal("5.40"))
    reduced = max(base * Decimal("0.5"), Decimal("1.00"))
    if job_seeker is None:
        return base.quantize(CENT) if base == reduced else None
    return (reduced if job_seeker else base).quantize(CENT)


def taux_effort(qf: int | None) -> Decimal:
    if qf is None:
        return Decimal("6.50")
    value = min(max(Decimal(qf) * Decimal("0.0045"), Decimal("0.80")), Decimal("6.50"))
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def test_cantine_every_qf() -> None:
    rules = tarifrules.load(EXAMPLES / "restauration-scolaire.tarif")
    mismatches = []
    for qf in [*range(0, 3001), None]:
        for job_seeker in (False, True, None):
            situation = {"quotient_familial": qf, "demandeur_emploi": job_seeker}
            output = rules.evaluate(situation).outputs["tarif_repas"]
            want = cantine(qf, job_seeker)
            got = output.value if output.status == "value" else None
            if got != want or (want is not None and str(got) != str(want)):
                mismatches.append((qf, job_seeker, want, got))
    assert mismatches == []


def test_cantine_unknown_job_seeker_names_the_missing_datum() -> None:
    rules = tarifrules.load(EXAMPLES / "restauration-scolaire.tarif")
    evaluation = rules.evaluate({"quotient_familial": 650})
    assert evaluation.outputs["tarif_repas"].status == "unknown"
    assert evaluation.missing == ("demandeur_emploi",)


def test_taux_effort_every_qf() -> None:
    rules = tarifrules.load(EXAMPLES / "accueil-loisirs-taux-effort.tarif")
    mismatches = []
    for qf in [*range(0, 3001), None]:
        output = rules.evaluate({"quotient_familial": qf}).outputs["tarif_journee"]
        if output.status != "value" or output.value != taux_effort(qf) or str(output.value) != str(taux_effort(qf)):
            mismatches.append((qf, taux_effort(qf), output.value))
    assert mismatches == []
