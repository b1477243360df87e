"""Commands on rule files: check, eval, explain, test, fmt."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..files import system_error, write_atomically
from .common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    _cache_notes,
    _fail,
    _print_error,
    cli,
)

if TYPE_CHECKING:
    from ..diagnostics import Diagnostic

from .sources import _evaluate, _evaluation_options, _Source


@cli.command("check")
@click.help_option("-h", "--help", help="Affiche cette aide et quitte.")
@click.argument("files", nargs=-1, required=True, metavar="FICHIER...")
@click.option("--json", "as_json", is_flag=True, help="Diagnostics en JSON.")
@click.option("--profil", "profile", type=click.Choice(["cantine-1-euro"]), metavar="cantine-1-euro",
              help="Vérifie aussi les conditions d'un dispositif (cantine à 1 €).")
def check_command(files: tuple[str, ...], as_json: bool, profile: str | None) -> None:
    """Vérifie des fichiers .tarif (code 0 : aucune erreur ; 1 : erreurs)."""
    from ..api import check
    from ..diagnostics import TarifError
    from ..render import render_diagnostics
    from ..source import read_source

    everything: list[Diagnostic] = []
    for file in files:
        diagnostics = check(Path(file), profile=profile)
        everything.extend(diagnostics)
        if not as_json and diagnostics:
            try:
                sources = {read_source(Path(file))[1]: read_source(Path(file))[0]}
            except TarifError:
                sources = {}
            click.echo(render_diagnostics(diagnostics, sources))
            click.echo()
    errors = sum(d.is_error for d in everything)
    warnings = len(everything) - errors
    if as_json:
        click.echo(json.dumps([d.to_json() for d in everything], ensure_ascii=False, indent=2))
    else:
        click.echo(f"{len(files)} fichier(s) vérifié(s) : {errors} erreur(s), {warnings} avertissement(s)")
    sys.exit(EXIT_PROBLEMS if errors else EXIT_OK)


@cli.command("eval")
@_evaluation_options
def eval_command(file: str, situation_file: str | None, assignments: tuple[str, ...], day: str | None,
                 as_json: bool, fetch: bool, identity_file: str | None, environment: str | None,
                 recipient: str | None) -> None:
    """Évalue les résultats d'un fichier pour un foyer."""
    source = _Source(identity_file, environment, recipient) if fetch else None
    evaluation, code = _evaluate(file, situation_file, assignments, day, source)
    if as_json:
        click.echo(json.dumps(evaluation.to_json(), ensure_ascii=False, indent=2))
        sys.exit(code)
    from ..characters import shown_name

    click.echo(f"{evaluation.ruleset.title} — au {evaluation.date:%d/%m/%Y}")
    for name, output in evaluation.outputs.items():
        line = f"{name} = {output.display()}"
        missing = evaluation.missing_for(name)
        if missing:
            line += f" (manque : {', '.join(map(shown_name, missing))})"
        click.echo(line)
    for datum, value, cited in evaluation.explain().sources:
        click.echo(f"  {datum} = {value}, {cited}")
    sys.exit(code)


@cli.command("explain")
@_evaluation_options
@click.option("--format", "output_format", type=click.Choice(["texte", "lettre", "lettre-html"]), default="texte",
              metavar="texte|lettre|lettre-html",
              help="texte (défaut) ; lettre : la lettre d'explication à la famille (CRPA), en Markdown ; "
                   "lettre-html : la même lettre en page HTML.")
@click.option("--sortie", "out", metavar="FICHIER", help="Écrit l'explication dans ce fichier plutôt qu'à l'écran.")
def explain_command(file: str, situation_file: str | None, assignments: tuple[str, ...], day: str | None,
                    as_json: bool, fetch: bool, identity_file: str | None, environment: str | None,
                    recipient: str | None, output_format: str, out: str | None) -> None:
    """Explique chaque résultat, article par article (ou en lettre à la famille : --format lettre)."""
    if as_json and output_format != "texte":
        _fail("--json et --format lettre ne vont pas ensemble", "choisissez l'un ou l'autre")
    source = _Source(identity_file, environment, recipient) if fetch else None
    evaluation, code = _evaluate(file, situation_file, assignments, day, source)
    if output_format != "texte" or out:
        _write_explanation(evaluation, output_format, out)
        sys.exit(code)
    if as_json:
        click.echo(json.dumps(evaluation.to_json(), ensure_ascii=False, indent=2))
        sys.exit(code)
    click.echo(f"{evaluation.ruleset.title} — au {evaluation.date:%d/%m/%Y}")
    click.echo(str(evaluation.explain()))
    sys.exit(code)


def _write_explanation(evaluation: Any, output_format: str, out: str | None) -> None:
    """The letter (Markdown or HTML) or the text explanation, on stdout or into `out`."""
    if output_format == "texte":
        text = f"{evaluation.ruleset.title} — au {evaluation.date:%d/%m/%Y}\n{evaluation.explain()}\n"
    else:
        from ..pages.letter import build_letter

        letter = build_letter(evaluation)
        text = letter.to_html() if output_format == "lettre-html" else letter.to_markdown()
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        write_atomically(out, text)
    except OSError as exc:
        _fail(f"impossible d'écrire {out} : {system_error(exc)}", "vérifiez le chemin du fichier")
    click.echo(f"explication écrite dans {out}", err=True)


@cli.command("test")
@click.help_option("-h", "--help", help="Affiche cette aide et quitte.")
@click.argument("files", nargs=-1, required=True, metavar="FICHIER...")
def test_command(files: tuple[str, ...]) -> None:
    """Exécute les exemples écrits dans les fichiers (« exemple … attendu … »)."""
    from ..diagnostics import TarifError
    from ..examples import run_examples
    from ..render import render_diagnostics
    from ..rulecache import start_loading

    passed = failed = 0
    for file in files:
        try:
            loading = start_loading([file], fork=False)
            try:
                ruleset = loading.results()[0]
            finally:
                _cache_notes(loading)
        except TarifError as exc:
            click.echo(f"ERREUR {file} : le fichier ne se charge pas")
            click.echo(render_diagnostics(exc.diagnostics, exc.sources))
            failed += 1
            continue
        results = run_examples(ruleset)
        file_failed = [r for r in results if not r.passed]
        passed += len(results) - len(file_failed)
        failed += len(file_failed)
        mark = "ok    " if not file_failed else "ÉCHEC "
        click.echo(f"{mark}{file} : {len(results) - len(file_failed)}/{len(results)} exemple(s)")
        for result in file_failed:
            click.echo(render_diagnostics(result.failures, {ruleset.file: ruleset.source}))
    click.echo(f"{passed} passed, {failed} failed")
    sys.exit(EXIT_PROBLEMS if failed else EXIT_OK)


@cli.command("fmt")
@click.help_option("-h", "--help", help="Affiche cette aide et quitte.")
@click.argument("files", nargs=-1, required=True, metavar="FICHIER...")
@click.option("--check", "check_only", is_flag=True, help="Ne modifie rien ; code 1 si un fichier n'est pas formaté.")
def fmt_command(files: tuple[str, ...], check_only: bool) -> None:
    """Met les fichiers en forme canonique (commentaires conservés)."""
    from ..api import format_source
    from ..diagnostics import TarifError
    from ..source import read_source

    unformatted = 0
    broken = 0
    for file in files:
        try:
            text, name = read_source(Path(file))
            formatted = format_source(text, name)
        except TarifError as exc:
            _print_error(exc, err=False)
            broken += 1
            continue
        if formatted == text:
            continue
        unformatted += 1
        if check_only:
            click.echo(f"à reformater : {file}")
        else:
            write_atomically(file, formatted)
            click.echo(f"reformaté : {file}")
    if check_only and not (unformatted or broken):
        click.echo(f"{len(files)} fichier(s) déjà formaté(s)")
    sys.exit(EXIT_PROBLEMS if broken or (check_only and unformatted) else EXIT_OK)
