"""What the rules need and how they read: scopes, datapass, schema, doc."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from ..files import system_error
from .common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    _fail,
    _load,
    cli,
)

if TYPE_CHECKING:
    pass


@cli.command("doc")
@click.help_option("-h", "--help", help="Affiche cette aide et quitte.")
@click.argument("files", nargs=-1, required=True, metavar="FICHIER...")
@click.option("-o", "--sortie", "out", required=True, metavar="DOSSIER",
              help="Dossier où écrire les pages HTML (créé s'il n'existe pas).")
@click.option("--comparer", "compare", nargs=2, multiple=True, metavar="ANCIEN NOUVEAU",
              help="Compare deux versions d'un tarif (répétable ; les versions successives d'une même "
                   "collectivité sont aussi trouvées seules).")
def doc_command(files: tuple[str, ...], out: str, compare: tuple[tuple[str, str], ...]) -> None:
    """Écrit une page HTML par fichier (grilles, graphiques, exemples, données), un index et les comparaisons."""
    from ..pages import build_site

    try:
        site = build_site(files, out, compare)
    except OSError as exc:
        _fail(f"impossible d'écrire dans {out} : {system_error(exc)}", "vérifiez le dossier de sortie")
    click.echo(f"{len(site.pages)} page(s) et {len(site.comparisons)} comparaison(s) écrites dans {out}")
    for path in (*([site.index] if site.index else []), *site.pages, *site.comparisons):
        click.echo(f"  {path}")
    for file in site.errors:
        click.echo(f"tarifrules: erreur: {file} contient des erreurs : sa page les liste", err=True)
    sys.exit(EXIT_PROBLEMS if site.errors else EXIT_OK)


@cli.command("scopes")
@click.help_option("-h", "--help", help="Affiche cette aide et quitte.")
@click.argument("files", nargs=-1, required=True, metavar="FICHIER...")
@click.option("--json", "as_json", is_flag=True, help="Analyse en JSON.")
def scopes_command(files: tuple[str, ...], as_json: bool) -> None:
    """Scopes API Particulier que les règles lisent vraiment, et pourquoi."""
    from ..scopes import analyse, scopes_text

    report = analyse([_load(file) for file in files])
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    for line in scopes_text(report):
        click.echo(line)


@cli.command("schema")
@click.help_option("-h", "--help", help="Affiche cette aide et quitte.")
@click.argument("file", metavar="FICHIER")
def schema_command(file: str) -> None:
    """Schéma JSON de la situation d'un foyer pour un fichier."""
    from ..schema import situation_schema

    click.echo(json.dumps(situation_schema(_load(file).program), ensure_ascii=False, indent=2))


@cli.command("datapass")
@click.help_option("-h", "--help", help="Affiche cette aide et quitte.")
@click.argument("files", nargs=-1, required=True, metavar="FICHIER...")
@click.option("--format", "output_format", type=click.Choice(["markdown", "json", "lien"]), default="markdown",
              show_default=True, help="Demande en Markdown, en JSON, ou seulement le lien pré-rempli.")
@click.option("--formulaire", "form", metavar="NOM", help="Impose le formulaire DataPass (son identifiant).")
def datapass_command(files: tuple[str, ...], output_format: str, form: str | None) -> None:
    """Prépare la demande DataPass API Particulier (scopes justifiés, lien pré-rempli)."""
    from ..datapass import FORMS, markdown, prepare
    from ..models import dump

    if form is not None and form not in FORMS:
        _fail(f"formulaire DataPass inconnu : {form}", "formulaires connus : " + ", ".join(FORMS))
    model = prepare([_load(file) for file in files], form)
    if output_format == "json":
        click.echo(json.dumps(dump(model), ensure_ascii=False, indent=2))
    elif output_format == "lien":
        click.echo(model.link)
    else:
        click.echo(markdown(model), nl=False)
