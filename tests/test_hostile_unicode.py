"""Hostile Unicode in rule files (issue 15 item 10): what is shown is what is computed.

The corpus is `tests/hostile/unicode/`; `nfc.tarif` is the valid base file, every other
file is one trick played on it:

* `nfd*.tarif`: the file saved in NFD (macOS), with CRLF line ends, with a syntax error
  after accented letters: read as its NFC twin, carets on the right character;
* `nom-cyrillique.tarif`, `noms-confondus.tarif`: a Cyrillic `а` in a name, alone or beside
  the Latin name it imitates: warnings T049 and T031 that show the letter's code point;
  `valeur-cyrillique.tarif`: a Cyrillic `о` in a value of a `parmi` list (T049);
* `bidi-*.tarif`: bidirectional controls in a name, a text, a data source, a text holding
  `#`, and in a comment (the only place they are accepted);
* `espace-sans-chasse`, `jointure-nom`, `bom-au-milieu`, `remplissage-hangul`,
  `echappement-terminal`: invisible or control characters, refused (S007);
  `jointure-persan`: a ZWNJ inside a Persian word of a text, accepted.

Each goes through the command line (`check`, `eval`) and the library (`tarifrules.load`);
three of them through the HTTP service too.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

import tarifrules
from tarifrules.characters import is_hidden

from .hostile_support import HOSTILE, assert_handled, library_error, messages, run_cli

CORPUS = HOSTILE / "unicode"
CYRILLIC_A = "\u0430"
SITUATION = "quotient_familial=500"

REFUSED = {  # file: (code, words the message must say, line, column)
    "bidi-nom": ("S006", "U+202E RIGHT-TO-LEFT OVERRIDE", 11, 8),
    "bidi-texte": ("S006", "U+202E RIGHT-TO-LEFT OVERRIDE", 10, 18),
    "bidi-source": ("S006", "U+2066 LEFT-TO-RIGHT ISOLATE", 5, 72),
    "bidi-diese-dans-texte": ("S006", "U+202E RIGHT-TO-LEFT OVERRIDE", 10, 25),
    "espace-sans-chasse": ("S007", "U+200B ZERO WIDTH SPACE", 11, 38),
    "jointure-nom": ("S007", "U+200D ZERO WIDTH JOINER", 11, 38),
    "bom-au-milieu": ("S007", "U+FEFF ZERO WIDTH NO-BREAK SPACE", 11, 14),
    "remplissage-hangul": ("S007", "U+3164 HANGUL FILLER", 8, 14),
    "echappement-terminal": ("S007", "caractère de contrôle U+001B", 1, 21),
}


def path(case: str) -> Path:
    return CORPUS / f"{case}.tarif"


DIGITS = {"chiffres-arabes": "٤٠٠", "chiffres-pleine-chasse": "４００"}  # file: the bound written in other digits


def test_the_corpus_holds_what_its_cases_say() -> None:
    """The tricks are really in the files (an editor may have cleaned one up)."""
    nfc = path("nfc").read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", nfc) and "é" in nfc
    raw = path("nfd").read_bytes().decode("utf-8")
    assert not unicodedata.is_normalized("NFC", raw) and unicodedata.normalize("NFC", raw) == nfc
    assert b"\r\n" in path("nfd-crlf").read_bytes()
    assert CYRILLIC_A in path("nom-cyrillique").read_text(encoding="utf-8")
    assert "\u202e" in path("bidi-commentaire").read_text(encoding="utf-8")
    assert {p.stem for p in CORPUS.glob("*.tarif")} == {
        *REFUSED, "nfc", "nfd", "nfd-crlf", "nfd-erreur", "nom-cyrillique", "noms-confondus", "bidi-commentaire",
        "jointure-persan", "valeur-cyrillique", *DIGITS}


# ----------------------------------------------------------------- NFD: read as its NFC twin


@pytest.mark.parametrize("case", ["nfd", "nfd-crlf"])
def test_nfd_file_checks_ok_and_evaluates_like_its_nfc_twin(case: str) -> None:
    assert_handled(run_cli(["check", path(case)]), 0, "0 erreur(s), 0 avertissement(s)")
    twin = run_cli(["eval", path("nfc"), "--set", SITUATION, "--date", "01/10/2025", "--json"])
    result = run_cli(["eval", path(case), "--set", SITUATION, "--date", "01/10/2025", "--json"])
    assert_handled(result, 0, "tarif_repas")
    assert json.loads(result.stdout)["outputs"] == json.loads(twin.stdout)["outputs"]
    rules = tarifrules.load(path(case))
    assert rules.warnings == ()
    assert rules.evaluate({"quotient_familial": 500}).outputs["tarif_repas"].display() == "2,00 €"
    # A text given to the library directly is normalised the same way.
    text = path(case).read_bytes().decode("utf-8")
    assert tarifrules.load(text).evaluate({"quotient_familial": 300}).outputs["tarif_repas"].display() == "1,00 €"


def test_nfd_error_points_at_the_character_of_the_normalised_line() -> None:
    result = run_cli(["check", path("nfd-erreur")])
    nfc_line = unicodedata.normalize("NFC", path("nfd-erreur").read_text(encoding="utf-8")).split("\n")[11]
    column = nfc_line.index("1.00") + 2  # the « . », 1-based
    assert_handled(result, 1, f"nfd-erreur.tarif:12:{column}: erreur[S002]", "caractère inattendu « . »",
                   f"   12 | {nfc_line}\n      | {' ' * (column - 1)}^\n")
    error = library_error(lambda: tarifrules.load(path("nfd-erreur")))
    assert [(d.code, d.span.line, d.span.column) for d in error.diagnostics] == [("S002", 12, column)]


def test_nfd_file_that_is_not_utf8_points_at_the_character_of_the_normalised_line(tmp_path: Path) -> None:
    text = unicodedata.normalize("NFD", path("nfc").read_text(encoding="utf-8"))
    bad = tmp_path / "latin.tarif"
    # A Latin-1 « é » after the decomposed « à » of line 2: the column counts « à » once.
    bad.write_bytes(text.encode("utf-8").replace(b"01/09/2025", b"01/09/2025 " + "é".encode("latin-1")))
    error = library_error(lambda: tarifrules.load(bad))
    (diagnostic,) = error.diagnostics
    shown = error.sources[str(bad)].split("\n")[diagnostic.span.line - 1]
    assert (diagnostic.code, diagnostic.span.line) == ("F002", 2)
    assert shown[diagnostic.span.column - 1] == "\ufffd", shown


# ----------------------------------------------------------------- names that look like others


def test_cyrillic_letter_in_a_name_is_a_warning_that_shows_the_letter() -> None:
    result = run_cli(["check", path("nom-cyrillique")])
    assert_handled(result, 0, "avertissement[T049]", "U+0430 CYRILLIC SMALL LETTER A", "lettre cyrillique",
                   "« quotient_familial »")
    rules = tarifrules.load(path("nom-cyrillique"))
    assert [d.code for d in rules.warnings] == ["T049"]
    # The household's « quotient_familial » is not the file's: the answer says which letter differs.
    refused = run_cli(["eval", path("nom-cyrillique"), "--set", SITUATION])
    assert_handled(refused, 2, "D001", "U+0430 CYRILLIC SMALL LETTER A", "corrigez le nom dans le fichier")
    error = library_error(lambda: rules.evaluate({"quotient_familial": 500}))
    assert "U+0430" in messages(error)


def test_cyrillic_letter_in_a_listed_value_is_a_warning() -> None:
    result = run_cli(["check", path("valeur-cyrillique")])
    assert_handled(result, 0, "avertissement[T049]", "la valeur « b\u043eursier » de « statut »",
                   "U+043E CYRILLIC SMALL LETTER O")
    rules = tarifrules.load(path("valeur-cyrillique"))
    assert [d.code for d in rules.warnings] == ["T049"]
    # The household's Latin « boursier » is not in the list: refused, not silently priced.
    assert_handled(run_cli(["eval", path("valeur-cyrillique"), "--set", "statut=boursier"]), 2, "D007")


def test_confusable_pair_is_a_warning_naming_both_names_and_where_the_other_is() -> None:
    fake = f"quotient_f{CYRILLIC_A}milial"
    result = run_cli(["check", path("noms-confondus")])
    assert_handled(result, 0, "avertissement[T031]", f"« {fake} » se confond à l'écran avec « quotient_familial », "
                   "déclaré ligne 5", "U+0430 CYRILLIC SMALL LETTER A", "avertissement[T049]")
    assert {d.code for d in tarifrules.load(path("noms-confondus")).warnings} == {"T031", "T049"}
    # eval answers « manque : … » for the lookalike: the Cyrillic letter is named beside it.
    missing = run_cli(["eval", path("noms-confondus"), "--set", SITUATION])
    assert_handled(missing, 0, f"manque : {fake} [« {CYRILLIC_A} » : U+0430 CYRILLIC SMALL LETTER A]")


def test_lookalike_of_a_declared_name_is_explained_in_the_unknown_name_error() -> None:
    text = path("nfc").read_text(encoding="utf-8").replace("selon quotient_familial",
                                                           f"selon quotient_f{CYRILLIC_A}milial")
    error = library_error(lambda: tarifrules.load(text))
    assert [d.code for d in error.diagnostics] == ["T010"]
    assert "U+0430 CYRILLIC SMALL LETTER A" in messages(error)
    assert "« quotient_familial » est déclaré" in messages(error)


def test_names_in_one_alphabet_are_not_warned_about() -> None:
    text = path("nfc").read_text(encoding="utf-8")
    greek = text.replace("tarif_repas", "tarif_réduit_œuvre").replace("quotient_familial", "πηλίκο")
    assert tarifrules.load(greek).warnings == ()
    # `l` and `1` have one TR39 skeleton, but between ASCII names the reader sees the difference.
    ascii_lookalikes = (text.replace("  tarif_repas : montant, prix\n", "  tarif_repas : montant, prix\n"
                                     "  tarif_1 : montant\n")
                        + "  tarif_l : 1,00 €\n  tarif_1 : tarif_l\n")
    assert [d.code for d in tarifrules.load(ascii_lookalikes).warnings] == []


# ----------------------------------------------------------------- bidi controls, invisible characters


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_hidden_character_outside_a_comment_is_refused_at_its_position(case: str) -> None:
    code, words, line, column = REFUSED[case]
    checked = run_cli(["check", path(case)])
    assert_handled(checked, 1, f"{case}.tarif:{line}:{column}: erreur[{code}]", words, "aide:")
    assert "\u202e" not in checked.stdout + checked.stderr and "\x1b" not in checked.stdout + checked.stderr
    assert_handled(run_cli(["eval", path(case), "--set", SITUATION]), 1, f"erreur[{code}]")
    error = library_error(lambda: tarifrules.load(path(case)))
    first = error.diagnostics[0]
    assert (first.code, first.span.line, first.span.column) == (code, line, column)
    assert words in first.message and first.hint
    text = error.sources[first.span.file]
    assert is_hidden(text.split("\n")[line - 1][column - 1])  # the column counts characters of the shown text


@pytest.mark.parametrize("case", ["bidi-commentaire", "jointure-persan"])
def test_direction_marks_in_a_comment_and_a_joiner_inside_a_persian_word_are_accepted(case: str) -> None:
    assert_handled(run_cli(["check", path(case)]), 0, "0 erreur(s), 0 avertissement(s)")
    result = run_cli(["eval", path(case), "--set", SITUATION, "--date", "01/10/2025"])
    assert_handled(result, 0, "tarif_repas = 2,00 €")
    assert tarifrules.load(path(case)).warnings == ()


def test_many_hidden_characters_are_reported_ten_at_most() -> None:
    text = path("nfc").read_text(encoding="utf-8").replace(", prix", ", prix" + "\u200b" * 50)
    error = library_error(lambda: tarifrules.load(text))
    assert len(error.diagnostics) == 10 and {d.code for d in error.diagnostics} == {"S007"}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_check_from_the_library_returns_the_error(case: str) -> None:
    code, _, line, column = REFUSED[case]
    diagnostics = tarifrules.check(path(case))
    assert (diagnostics[0].code, diagnostics[0].span.line, diagnostics[0].span.column) == (code, line, column)


def test_no_break_space_before_a_colon_is_named_in_the_hint() -> None:
    """French typing puts an espace insécable before « : »: the hint names it, it does not only show « »."""
    text = path("nfc").read_text(encoding="utf-8").replace("  tarif_repas : grille", "  tarif_repas\u00a0: grille")
    error = library_error(lambda: tarifrules.load(text))
    (diagnostic,) = error.diagnostics
    assert diagnostic.code == "S002" and "U+00A0 NO-BREAK SPACE" in (diagnostic.hint or "")


def test_the_service_serves_the_nfd_file_and_not_the_bidi_one(tmp_path: Path) -> None:
    """`tarifrules serve`: a refused file is not served and `GET /fichiers` says why; the NFD file
    answers like its NFC twin; a lookalike pair is served with its warning."""
    from fastapi.testclient import TestClient

    from tarifrules.service.app import create_app

    for case in ("bidi-nom", "nfd", "noms-confondus"):
        (tmp_path / f"{case}.tarif").write_bytes(path(case).read_bytes())
    with TestClient(create_app(tmp_path)) as client:
        files = {f["name"]: f for f in client.get("/fichiers").json()["files"]}
        assert not files["bidi-nom"]["served"]
        assert [d["code"] for d in files["bidi-nom"]["diagnostics"]] == ["S006"]
        assert {d["code"] for d in files["noms-confondus"]["diagnostics"]} >= {"T031", "T049"}
        body = {"situation": {"quotient_familial": 500}, "date": "2025-10-01"}
        refused = client.post("/evaluer", json={"file": "bidi-nom", **body})
        assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "H005"
        answered = client.post("/evaluer", json={"file": "nfd", **body})
        assert answered.status_code == 200 and answered.json()["outputs"]["tarif_repas"]["value"] == "2.00"


def test_the_class_of_hidden_characters_is_unicode_s() -> None:
    """`characters._HIDDEN` is written out for speed: it must be every Cf and Cc character of the
    running Python's Unicode (but tab, newline, form feed) and the blank letters, nothing else."""
    import sys

    from tarifrules.characters import BLANK_LETTERS

    expected = {chr(code) for code in range(sys.maxunicode + 1)
                if unicodedata.category(chr(code)) in ("Cf", "Cc")} - set("\t\n\f") | BLANK_LETTERS
    found = {chr(code) for code in range(sys.maxunicode + 1) if is_hidden(chr(code))}
    assert found == expected, sorted(f"U+{ord(c):04X}" for c in found ^ expected)



@pytest.mark.parametrize("case", sorted(DIGITS))
def test_a_number_in_other_digits_is_refused_as_in_a_situation(case: str) -> None:
    # `٤٠٠` read as 400 in a rule file, while the same digits are refused in a situation (D002).
    assert DIGITS[case] in path(case).read_text(encoding="utf-8")
    checked = run_cli(["check", path(case)])
    assert_handled(checked, 1, f"{case}.tarif:12:14: erreur[S001]", "avec les chiffres 0 à 9")
    error = library_error(lambda: tarifrules.load(path(case)))
    assert [(d.code, d.span.line, d.span.column) for d in error.diagnostics] == [("S001", 12, 14)]



def test_a_key_typed_in_nfd_is_refused_alike_everywhere_and_never_overrides_its_twin(tmp_path: Path) -> None:
    # « quotient_famillé » twice, once in NFD: read as the same key, the last one won (9,00 € or 1,00 €).
    # The NFD spelling is not a declared name: the CLI, the library and the service refuse it alike.
    text = ('délibération "Essai"\n  applicable à partir du 01/09/2025\n\ndonnées\n'
            '  quotient_famillé : montant entier au minimum 0 €\n\nrésultats\n  tarif_repas : montant, prix\n\n'
            'article 1 "a"\n  tarif_repas : quotient_famillé × 1 %\n')
    file = tmp_path / "essai.tarif"
    file.write_text(text, encoding="utf-8")
    nfd = unicodedata.normalize("NFD", "quotient_famillé")
    assert nfd != "quotient_famillé"
    rules = tarifrules.load(file)
    error = library_error(lambda: rules.evaluate({"quotient_famillé": 100, nfd: 900}, date="01/10/2025"))
    assert [d.code for d in error.diagnostics] == ["D001"]
    assert_handled(run_cli(["eval", file, "--set", "quotient_famillé=100", "--set", f"{nfd}=900",
                            "--date", "01/10/2025"]), 2, "D001")
    from fastapi.testclient import TestClient

    from tarifrules.service.app import create_app

    with TestClient(create_app(tmp_path)) as client:
        answer = client.post("/evaluer", json={"file": "essai", "date": "2025-10-01",
                                               "situation": {"quotient_famillé": 100, nfd: 900}})
    assert answer.status_code == 422, answer.text
