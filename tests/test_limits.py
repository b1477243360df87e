"""Files deeper or longer than the engines go are refused by `check`, and at the limits every engine agrees."""

from __future__ import annotations

import pytest

import tarifrules
from tarifrules import TarifError

_LIMITS_HEADER = ('délibération "Essai"\n  applicable à partir du 01/09/2025\n\ndonnées\n'
                  '  quotient_familial : montant entier au minimum 0 €, quotient familial CAF\n\n'
                  'résultats\n  tarif_repas : montant, prix\n\n')


@pytest.mark.parametrize(("body", "code"), [
    ('article 1 "a"\n  tarif_repas : 1,00 €\n' + "".join(f"    sauf si quotient_familial > {i} € : {i},00 €\n"
                                                         for i in range(1, 1001)), "T070"),
    ('article 1 "a"\n  v0 : 1,00 €\n' + "".join(f"  v{i} : v{i - 1} + 0,01 €\n" for i in range(1, 5000))
     + "  tarif_repas : v4999\n", "T070"),
    ('article 1 "a"\n  tarif_repas :\n' + "".join(f"    {'si' if i == 1 else 'sinon si'} quotient_familial > {i} € "
                                                  f": {i},00 €\n" for i in range(1, 300)) + "    sinon : 0,50 €\n",
     "T070"),
    ('article 1 "a"\n  tarif_repas : ' + " + ".join(["0,01 €"] * 10000) + "\n", "S008"),
    ('article 1 "a"\n  tarif_repas : grille selon quotient_familial\n'
     + "".join(f"    de {i * 10} € à {(i + 1) * 10} € exclu : 1,00 €\n" for i in range(20000))
     + "    à partir de 200 000 € : 2,00 €\n", "T071"),
], ids=["1000-sauf-si", "5000-noms-en-chaine", "300-sinon-si", "somme-de-10000-termes", "grille-de-20000-tranches"])
def test_files_deeper_than_the_engines_go_are_refused_by_check(body: str, code: str) -> None:
    # Each passed `check` (or crashed it) and then failed at `eval` with a RecursionError or a hang.
    with pytest.raises(TarifError) as refused:
        tarifrules.load(_LIMITS_HEADER + body)
    assert [d.code for d in refused.value.diagnostics] == [code]


def test_a_cycle_thousands_of_names_long_is_reported_as_a_cycle() -> None:
    names = [f"v{i}" for i in range(3000)]
    body = 'article 1 "a"\n' + "".join(f"  {a} : {b} + 0,01 €\n" for a, b in zip(names, names[1:] + names[:1],
                                                                             strict=True))
    body += "  tarif_repas : v0\n"
    with pytest.raises(TarifError) as refused:
        tarifrules.load(_LIMITS_HEADER + body)
    assert [d.code for d in refused.value.diagnostics] == ["T030"]


def test_at_the_limits_every_engine_agrees() -> None:
    import pyarrow as pa

    from tarifrules.checks.limits import MAX_DEPTH

    count = MAX_DEPTH - 3
    rules = tarifrules.load(_LIMITS_HEADER + 'article 1 "a"\n  tarif_repas : 0,50 €\n' + "".join(
        f"    sauf si quotient_familial > {10 * i} € : {i},00 €\n" for i in range(1, count + 1)))
    day = "01/10/2025"
    households = [0, 5, 15, 650, 10 * count + 1]
    expected = [rules.interpret({"quotient_familial": q}, date=day).outputs["tarif_repas"].value for q in households]
    assert [rules.evaluate({"quotient_familial": q}, date=day).outputs["tarif_repas"].value
            for q in households] == expected
    column = rules.evaluate_table(pa.table({"quotient_familial": households}), date=day).outputs["tarif_repas"]
    assert [column.value(row) for row in range(len(households))] == expected
    rules.evaluate({"quotient_familial": 650}, date=day).explain()
