"""Command line: the only module that prints or exits.

Exit codes (documented in docs/cli.md):
  0  success
  1  problems found in a rule file: errors, failed examples, file not formatted,
     a computation the rules cannot do (division by zero…)
  2  bad usage: unknown option, bad `--set`, bad situation file or value, bad date,
     bad identity file, bad recipient SIRET or missing token for a chosen environment
  3  API Particulier refused a call for a configuration reason (token, scope, parameter):
     the data stay unknown and the rest is still printed
  70 internal error (a bug: reported in French, never as a traceback)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from .diagnostics import Diagnostic, TarifError
    from .ruleset import RuleSet

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_SOURCE, EXIT_INTERNAL = 0, 1, 2, 3, 70


class _UsageProblem(Exception):
    """A caller mistake (exit 2), with a French message and an optional hint."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message, self.hint = message, hint


def _fail(message: str, hint: str | None = None, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"tarifrules: erreur: {message}", err=True)
    if hint:
        click.echo(f"aide: {hint}", err=True)
    sys.exit(code)


def _print_error(exc: TarifError, *, err: bool = True) -> None:
    from .render import render_diagnostics

    click.echo(render_diagnostics(exc.diagnostics, exc.sources), err=err)


def _load(path: str) -> RuleSet:
    from .diagnostics import TarifError
    from .ruleset import load

    try:
        return load(Path(path))
    except TarifError as exc:
        _print_error(exc)
        sys.exit(EXIT_PROBLEMS)


# ------------------------------------------------------------------ situations


def _read_situation_file(path: str) -> dict[str, Any]:
    from decimal import Decimal

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _UsageProblem(f"situation introuvable : {path}", "vérifiez le chemin du fichier") from None
    except (OSError, UnicodeDecodeError):
        raise _UsageProblem(f"situation illisible : {path}", "un fichier JSON ou YAML en UTF-8 est attendu") from None
    import yaml

    try:
        if file.suffix.lower() in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        else:
            data = json.loads(text, parse_float=Decimal)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:  # both say where
        line = getattr(exc, "lineno", None) or getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" (ligne {line})" if line else ""
        raise _UsageProblem(f"la situation {path} n'est pas un JSON/YAML valide{where}",
                            'exemple : {"quotient_familial": 650, "demandeur_emploi": "oui"}') from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _UsageProblem(f"la situation {path} doit associer des noms de données à des valeurs",
                            'exemple : {"quotient_familial": 650}')
    return {str(k): v for k, v in data.items()}


def _situation(situation_file: str | None, assignments: Sequence[str]) -> dict[str, Any]:
    situation = _read_situation_file(situation_file) if situation_file else {}
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        if not sep or not name.strip():
            raise _UsageProblem(f"« --set {assignment} » : écrivez nom=valeur",
                                "exemple : --set quotient_familial=650")
        situation[name.strip()] = value.strip() or None
    return situation


# ------------------------------------------------------------------ commands


class _FrenchHelp:
    """Click's help screens with French headings (click writes « Usage: » and « Commands: »)."""

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix="Utilisation : ")


class _Command(_FrenchHelp, click.Command):
    pass


class _Group(_FrenchHelp, click.Group):
    command_class = _Command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.commands[name].get_short_help_str(limit=70)) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commandes"):
                formatter.write_dl(rows)


_HELP = {"help_option_names": ["-h", "--help"]}


@click.group(cls=_Group, context_settings=_HELP, options_metavar="[OPTIONS]",
             subcommand_metavar="COMMANDE [ARGUMENTS]...")
@click.version_option(package_name="tarifrules", message="tarifrules %(version)s",
                      help="Affiche la version et quitte.")
@click.help_option("-h", "--help", help="Affiche cette aide et quitte.")
def cli() -> None:
    """tarifrules : délibérations tarifaires en règles vérifiées, évaluées et expliquées."""


@cli.command("check")
@click.help_option("-h", "--help", help="Affiche cette aide et quitte.")
@click.argument("files", nargs=-1, required=True, metavar="FICHIER...")
@click.option("--json", "as_json", is_flag=True, help="Diagnostics en JSON.")
@click.option("--profil", "profile", type=click.Choice(["cantine-1-euro"]), metavar="cantine-1-euro",
              help="Vérifie aussi les conditions d'un dispositif (cantine à 1 €).")
def check_command(files: tuple[str, ...], as_json: bool, profile: str | None) -> None:
    """Vérifie des fichiers .tarif (code 0 : aucune erreur ; 1 : erreurs)."""
    from .api import check
    from .diagnostics import TarifError
    from .render import render_diagnostics
    from .source import read_source

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


def _source_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Options saying who to ask API Particulier about, and where."""
    function = click.option("--destinataire", "recipient", metavar="SIRET",
                            help="SIRET de l'organisme destinataire (défaut : API_PARTICULIER_RECIPIENT).")(function)
    function = click.option("--environnement", "environment", metavar="production|staging|local|URL",
                            help="API Particulier à appeler (défaut : production si un jeton est configuré, "
                                 "sinon le faux serveur intégré).")(function)
    return click.option("--identite", "identity_file", metavar="FICHIER",
                        help="Personnes du foyer pour API Particulier (JSON).")(function)


def _evaluation_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = _source_options(function)
    function = click.option("--fetch", "fetch", is_flag=True,
                            help="Lit d'abord les données utiles auprès d'API Particulier (avec --identite).")(function)
    function = click.option("--json", "as_json", is_flag=True, help="Résultat en JSON.")(function)
    function = click.option("--date", "day", metavar="JJ/MM/AAAA",
                            help="Date d'évaluation (défaut : aujourd'hui).")(function)
    function = click.option("--set", "assignments", multiple=True, metavar="nom=valeur",
                            help="Une donnée de la situation (répétable).")(function)
    function = click.option("--situation", "situation_file", metavar="FICHIER",
                            help="Situation du foyer en JSON ou YAML.")(function)
    function = click.help_option("-h", "--help", help="Affiche cette aide et quitte.")(function)
    return click.argument("file", metavar="FICHIER")(function)


def _evaluate(file: str, situation_file: str | None, assignments: Sequence[str], day: str | None,
              source: _Source | None = None) -> tuple[Any, int]:
    """The evaluation and the exit code to end with (`EXIT_SOURCE` when a fetch call was refused)."""
    from .diagnostics import TarifError

    ruleset = _load(file)
    try:
        situation = _situation(situation_file, assignments)
    except _UsageProblem as problem:
        _fail(problem.message, problem.hint)
    try:
        evaluation = ruleset.evaluate(situation, date=day)
        if source is None:
            return evaluation, EXIT_OK
        fetched = _fetch(ruleset, source, evaluation.date, situation)
        evaluation = ruleset.evaluate(fetched.situation, date=evaluation.date).with_sources(fetched.sources())
        return evaluation, EXIT_SOURCE if fetched.errors else EXIT_OK
    except TarifError as exc:
        # A bad date or situation is the caller's (2); a computation the rules cannot do is the file's (1).
        caller = all(d.code[0] == "D" or d.code in ("E001", "E004") for d in exc.diagnostics)
        _print_error(TarifError(exc.diagnostics, {ruleset.file: ruleset.source}))
        sys.exit(EXIT_USAGE if caller else EXIT_PROBLEMS)


# ------------------------------------------------------------------ API Particulier


class _Source:
    """Where `--fetch` reads from: the identity file and the API chosen by the options."""

    def __init__(self, identity_file: str | None, environment: str | None, recipient: str | None):
        if not identity_file:
            _fail("--identite FICHIER est obligatoire pour lire les données auprès d'API Particulier",
                  "voir docs/api-particulier.md, « Le fichier d'identité »")
        self.identity_file, self.environment, self.recipient = identity_file, environment, recipient


def _fetch(ruleset: RuleSet, source: _Source, date: Any, situation: dict[str, Any]) -> Any:
    """Fetch what the rules need; says on stderr when the built-in fake server answers."""
    from .api_particulier.connect import connect, connect_dgfip
    from .api_particulier.fetch import Fetcher, fetch
    from .api_particulier.household import Household
    from .diagnostics import TarifError

    try:
        data = json.loads(Path(source.identity_file).read_text(encoding="utf-8"))
    except FileNotFoundError:
        _fail(f"fichier d'identité introuvable : {source.identity_file}", "vérifiez le chemin du fichier")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        _fail(f"le fichier d'identité {source.identity_file} n'est pas un JSON lisible",
              "voir docs/api-particulier.md, « Le fichier d'identité »")
    fetcher = Fetcher(ruleset)
    try:
        household = Household.parse(data)
        connection = connect(fetcher.scopes, recipient=source.recipient, environment=source.environment)
    except TarifError as exc:
        _print_error(exc)
        sys.exit(EXIT_USAGE)
    if connection.note:
        click.echo(f"tarifrules: note: {connection.note}", err=True)
    dgfip = None
    if fetcher.dgfip_scopes:
        try:
            dgfip, dgfip_note = connect_dgfip()
        except TarifError as exc:
            _print_error(exc)
            sys.exit(EXIT_USAGE)
        if dgfip_note:
            click.echo(f"tarifrules: note: {dgfip_note}", err=True)
    with connection.client:
        result = fetch(fetcher, household, date, connection.client, situation, dgfip=dgfip)
    if dgfip is not None:
        dgfip.close()
    for call in result.errors:
        click.echo(f"tarifrules: erreur: {call.endpoint} : {call.reason}" + (f" (code {call.code})" if call.code
                                                                              else ""), err=True)
    return result


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
    click.echo(f"{evaluation.ruleset.title} — au {evaluation.date:%d/%m/%Y}")
    for name, output in evaluation.outputs.items():
        line = f"{name} = {output.display()}"
        missing = evaluation.missing_for(name)
        if missing:
            line += f" (manque : {', '.join(missing)})"
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
        from .pages.letter import build_letter

        letter = build_letter(evaluation)
        text = letter.to_html() if output_format == "lettre-html" else letter.to_markdown()
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"impossible d'écrire {out} : {exc.strerror or exc}", "vérifiez le chemin du fichier")
    click.echo(f"explication écrite dans {out}", err=True)


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
    from .pages import build_site

    try:
        site = build_site(files, out, compare)
    except OSError as exc:
        _fail(f"impossible d'écrire dans {out} : {exc.strerror or exc}", "vérifiez le dossier de sortie")
    click.echo(f"{len(site.pages)} page(s) et {len(site.comparisons)} comparaison(s) écrites dans {out}")
    for path in (*([site.index] if site.index else []), *site.pages, *site.comparisons):
        click.echo(f"  {path}")
    for file in site.errors:
        click.echo(f"tarifrules: erreur: {file} contient des erreurs : sa page les liste", err=True)
    sys.exit(EXIT_PROBLEMS if site.errors else EXIT_OK)


@cli.command("fetch")
@click.help_option("-h", "--help", help="Affiche cette aide et quitte.")
@click.argument("file", metavar="FICHIER")
@_source_options
@click.option("--situation", "situation_file", metavar="FICHIER",
              help="Données déjà connues (déclarées par la famille), en JSON ou YAML.")
@click.option("--set", "assignments", multiple=True, metavar="nom=valeur", help="Une donnée déjà connue (répétable).")
@click.option("--date", "day", metavar="JJ/MM/AAAA", help="Date du calcul (défaut : aujourd'hui).")
@click.option("--json", "as_json", is_flag=True, help="Situation, provenance et appels en JSON.")
def fetch_command(file: str, identity_file: str | None, environment: str | None, recipient: str | None,
                  situation_file: str | None, assignments: tuple[str, ...], day: str | None, as_json: bool) -> None:
    """Lit auprès d'API Particulier les données utiles au calcul, sans calculer."""
    from .api_particulier.fetch import fetch_text
    from .diagnostics import TarifError

    source = _Source(identity_file, environment, recipient)
    ruleset = _load(file)
    try:
        situation = _situation(situation_file, assignments)
        date = ruleset.evaluate(situation, date=day).date
    except _UsageProblem as problem:
        _fail(problem.message, problem.hint)
    except TarifError as exc:
        _print_error(TarifError(exc.diagnostics, {ruleset.file: ruleset.source}))
        sys.exit(EXIT_USAGE)
    result = _fetch(ruleset, source, date, situation)
    if as_json:
        click.echo(json.dumps({"file": ruleset.file, "date": date.isoformat(), **result.to_json()},
                              ensure_ascii=False, indent=2))
    else:
        click.echo(f"{ruleset.title} — au {date:%d/%m/%Y}")
        for line in fetch_text(result, ruleset):
            click.echo(line)
    sys.exit(EXIT_SOURCE if result.errors else EXIT_OK)


@cli.command("test")
@click.help_option("-h", "--help", help="Affiche cette aide et quitte.")
@click.argument("files", nargs=-1, required=True, metavar="FICHIER...")
def test_command(files: tuple[str, ...]) -> None:
    """Exécute les exemples écrits dans les fichiers (« exemple … attendu … »)."""
    from .diagnostics import TarifError
    from .examples import run_examples
    from .render import render_diagnostics
    from .ruleset import load

    passed = failed = 0
    for file in files:
        try:
            ruleset = load(Path(file))
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


@cli.command("scopes")
@click.help_option("-h", "--help", help="Affiche cette aide et quitte.")
@click.argument("files", nargs=-1, required=True, metavar="FICHIER...")
@click.option("--json", "as_json", is_flag=True, help="Analyse en JSON.")
def scopes_command(files: tuple[str, ...], as_json: bool) -> None:
    """Scopes API Particulier que les règles lisent vraiment, et pourquoi."""
    from .scopes import analyse, scopes_text

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
    from .schema import situation_schema

    click.echo(json.dumps(situation_schema(_load(file).program), ensure_ascii=False, indent=2))


@cli.command("datapass")
@click.help_option("-h", "--help", help="Affiche cette aide et quitte.")
@click.argument("files", nargs=-1, required=True, metavar="FICHIER...")
@click.option("--format", "output_format", type=click.Choice(["markdown", "json", "lien"]), default="markdown",
              show_default=True, help="Demande en Markdown, en JSON, ou seulement le lien pré-rempli.")
@click.option("--formulaire", "form", metavar="NOM", help="Impose le formulaire DataPass (son identifiant).")
def datapass_command(files: tuple[str, ...], output_format: str, form: str | None) -> None:
    """Prépare la demande DataPass API Particulier (scopes justifiés, lien pré-rempli)."""
    from .datapass import FORMS, markdown, prepare
    from .models import dump

    if form is not None and form not in FORMS:
        _fail(f"formulaire DataPass inconnu : {form}", "formulaires connus : " + ", ".join(FORMS))
    model = prepare([_load(file) for file in files], form)
    if output_format == "json":
        click.echo(json.dumps(dump(model), ensure_ascii=False, indent=2))
    elif output_format == "lien":
        click.echo(model.link)
    else:
        click.echo(markdown(model), nl=False)


@cli.command("sql")
@click.help_option("-h", "--help", help="Affiche cette aide et quitte.")
@click.argument("file", metavar="FICHIER")
@click.option("--dialect", type=click.Choice(["duckdb", "postgres", "spark", "trino"]), default="duckdb",
              show_default=True, metavar="duckdb|postgres|spark|trino", help="Dialecte SQL de la requête.")
@click.option("--table", default="menages", show_default=True, metavar="T",
              help="Table des foyers : une colonne par donnée, nommée comme elle.")
@click.option("--date", "day", metavar="JJ/MM/AAAA",
              help="Date du calcul (défaut : aujourd'hui) : période d'application, réponses « non » pas encore sûres.")
@click.option("--garder", "keep", multiple=True, metavar="COLONNE",
              help="Colonne de la table recopiée telle quelle en tête (identifiant du foyer…) ; répétable.")
def sql_command(file: str, dialect: str, table: str, day: str | None, keep: tuple[str, ...]) -> None:
    """Écrit la requête SQL qui calcule les résultats pour chaque foyer d'une table."""
    from .diagnostics import TarifError
    from .sql import to_sql

    ruleset = _load(file)
    try:
        query = to_sql(ruleset, dialect=dialect, table=table, date=day, keep=keep)
    except TarifError as exc:
        caller = all(d.code in ("E001", "E004") for d in exc.diagnostics)
        _print_error(TarifError(exc.diagnostics, {ruleset.file: ruleset.source}))
        sys.exit(EXIT_USAGE if caller else EXIT_PROBLEMS)
    click.echo(query)


@cli.command("fmt")
@click.help_option("-h", "--help", help="Affiche cette aide et quitte.")
@click.argument("files", nargs=-1, required=True, metavar="FICHIER...")
@click.option("--check", "check_only", is_flag=True, help="Ne modifie rien ; code 1 si un fichier n'est pas formaté.")
def fmt_command(files: tuple[str, ...], check_only: bool) -> None:
    """Met les fichiers en forme canonique (commentaires conservés)."""
    from .api import format_source
    from .diagnostics import TarifError
    from .source import read_source

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
            Path(file).write_text(formatted, encoding="utf-8")
            click.echo(f"reformaté : {file}")
    if check_only and not (unformatted or broken):
        click.echo(f"{len(files)} fichier(s) déjà formaté(s)")
    sys.exit(EXIT_PROBLEMS if broken or (check_only and unformatted) else EXIT_OK)


@cli.command("serve")
@click.help_option("-h", "--help", help="Affiche cette aide et quitte.")
@click.argument("folder", metavar="DOSSIER")
@click.option("--port", type=int, default=8000, show_default=True, help="Port d'écoute.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d'écoute.")
@click.option("--limite", "limit", type=click.IntRange(min=1), default=65536, show_default=True, metavar="OCTETS",
              help="Taille maximale du corps d'une requête.")
@click.option("--processus", "workers", type=click.IntRange(min=1), default=1, show_default=True, metavar="N",
              help="Nombre de processus (un par cœur).")
def serve_command(folder: str, port: int, host: str, limit: int, workers: int) -> None:
    """Sert en HTTP les fichiers .tarif d'un dossier (calcul, explication)."""
    import socket

    from .service.server import run

    if not Path(folder).is_dir():
        _fail(f"dossier introuvable : {folder}", "donnez le dossier qui contient les fichiers .tarif")
    try:  # say it in French before uvicorn says it in English
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        import errno

        reason = {errno.EADDRINUSE: "port déjà utilisé", errno.EACCES: "droit refusé",
                  errno.EADDRNOTAVAIL: "adresse absente de cette machine"}.get(exc.errno or 0, "erreur système")
        _fail(f"impossible d'écouter sur {host}:{port} ({reason})", "choisissez un autre --port ou --host")
    run(Path(folder), host=host, port=port, limit=limit, workers=workers)


@cli.command("fake-api-particulier")
@click.help_option("-h", "--help", help="Affiche cette aide et quitte.")
@click.option("--port", type=int, default=8080, show_default=True, help="Port d'écoute (0 : port libre).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d'écoute.")
@click.option("--scopes", metavar="SCOPE,SCOPE…",
              help="Scopes du jeton émis au démarrage (défaut : tous ceux du faux serveur).")
@click.option("--population", type=click.IntRange(min=0), default=0, show_default=True, metavar="N",
              help="Ajoute N ménages synthétiques (MENAGE00001…) pour les essais de charge.")
@click.option("--seed", type=int, default=0, show_default=True, help="Graine de la population synthétique.")
@click.option("--france-connect", "france_connect", metavar="PERSONNE", multiple=True,
              help="Émet aussi un jeton FranceConnect fictif pour cette personne (ex. grandval ; répétable).")
def fake_api_particulier_command(port: int, host: str, scopes: str | None, population: int, seed: int,
                                 france_connect: tuple[str, ...]) -> None:
    """Lance un faux API Particulier (et un faux API Impôt particulier) local."""
    from .api_particulier.fake import ALL_SCOPES, DEFAULT, FakeApiParticulier, make_server
    from .dgfip.fake import FakeImpotParticulier

    chosen = [s.strip() for s in scopes.split(",") if s.strip()] if scopes else list(ALL_SCOPES)
    fake = FakeApiParticulier(population=population, seed=seed) if population else DEFAULT
    unknown = [p for p in france_connect if p not in fake.people]
    if unknown:
        _fail(f"personne inconnue du faux serveur : {', '.join(unknown)}",
              "personnes connues : " + ", ".join(k for k in fake.people if not k.startswith("menage")))
    try:
        dgfip = FakeImpotParticulier()
        server = make_server(host, port, fake, dgfip)
    except OSError as exc:
        _fail(f"impossible d'écouter sur {host}:{port} : {exc.strerror or exc}")
    token = fake.issue_token(chosen)
    bound_port = server.server_address[1]
    click.echo(f"Faux API Particulier sur http://{host}:{bound_port} (Ctrl-C pour arrêter)")
    if population:
        click.echo(f"Population synthétique : {population} ménages, MENAGE00001 à MENAGE{population:05d} "
                   f"(graine {seed})")
    click.echo(f"Jeton ({', '.join(chosen)}) : {token}")
    for person in france_connect:
        click.echo(f"Jeton FranceConnect de {person} : {fake.issue_france_connect_token(person, chosen)}")
    client_id, secret = dgfip.issue_client()
    click.echo(f"Faux API Impôt particulier (DGFiP) à la même adresse : DGFIP_API_URL=http://{host}:{bound_port} "
               f"DGFIP_CLIENT_ID={client_id} DGFIP_CLIENT_SECRET={secret} DGFIP_ID_TELESERVICE=essai")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("arrêté")
    finally:
        server.server_close()
    sys.exit(EXIT_OK)


@cli.command("batch")
@click.help_option("-h", "--help", help="Affiche cette aide et quitte.")
@click.argument("file", metavar="FICHIER")
@click.argument("population", metavar="ENTREE")
@click.option("-o", "--output", "output", metavar="SORTIE",
              help="Fichier des résultats, .csv ou .parquet (les colonnes d'ENTREE, plus les résultats).")
@click.option("--map", "mappings", multiple=True, metavar="colonne=donnée",
              help="Lit une donnée dans une colonne d'un autre nom (répétable).")
@click.option("--date", "day", metavar="JJ/MM/AAAA", help="Date du calcul (défaut : aujourd'hui).")
@click.option("--compare", "other_file", metavar="AUTRE.tarif",
              help="Calcule aussi AUTRE.tarif sur la même population et montre l'écart.")
@click.option("--moteur", "engine", type=click.Choice(["numpy", "duckdb", "postgres"]), default="numpy",
              show_default=True, metavar="numpy|duckdb|postgres",
              help="Calcul en colonnes (NumPy), ou par la requête de « tarifrules sql » dans DuckDB ou PostgreSQL.")
@click.option("--dsn", metavar="CONNEXION", help="Avec --moteur postgres : la chaîne de connexion (libpq).")
def batch_command(file: str, population: str, output: str, mappings: tuple[str, ...], day: str | None,
                  other_file: str | None, engine: str, dsn: str | None) -> None:
    """Calcule toute une population (fichier CSV ou Parquet)."""
    from .batch.files import FileProblem, file_format, read_population, write_population
    from .batch.report import comparison, summary
    from .batch.run import MappingProblem, data_columns, run_batch
    from .diagnostics import TarifError

    if not output:
        _fail("-o SORTIE est obligatoire : le fichier des résultats (.csv ou .parquet)",
              "exemple : tarifrules batch regles.tarif menages.csv -o tarifs.csv")
    if engine != "numpy":
        _batch_on_engine(file, population, output, day, engine, dsn, bool(mappings or other_file))
    mapping: dict[str, str] = {}
    for item in mappings:
        column, sep, datum = item.partition("=")
        if not sep or not column.strip() or not datum.strip():
            _fail(f"« --map {item} » : écrivez colonne=donnée", "exemple : --map qf=quotient_familial")
        mapping[column.strip()] = datum.strip()
    rulesets = [_load(file), *([_load(other_file)] if other_file else [])]
    try:
        file_format(output)
        read = read_population(population)
        date = rulesets[0].evaluate_table({}, date=day).date  # no row: only the date is checked
        for ruleset in rulesets[1:]:
            ruleset.evaluate_table({}, date=date)
        columns = [data_columns(r, read.table.column_names, mapping if r is rulesets[0] else {
            c: d for c, d in mapping.items() if d in r.data_names}) for r in rulesets]
    except (FileProblem, MappingProblem) as problem:
        _fail(problem.message, problem.hint)
    except TarifError as exc:
        _print_error(exc)
        sys.exit(EXIT_USAGE)
    size = read.table.num_rows
    results = []
    for ruleset, chosen in zip(rulesets, columns, strict=True):
        if size > 100_000:
            with click.progressbar(length=size, label=f"Calcul ({Path(ruleset.file).name})", file=sys.stderr) as bar:
                results.append(run_batch(ruleset, read.table, chosen, date, read.first_line, bar.update))
        else:
            results.append(run_batch(ruleset, read.table, chosen, date, read.first_line))
    try:
        write_population(results[0].output_table(read.table), output, read.delimiter)
    except FileProblem as problem:
        _fail(problem.message, problem.hint)
    for line in summary(results[0]):
        click.echo(line)
    if other_file:
        for line in comparison(results[0], results[1], other_file):
            click.echo(line)
    click.echo(f"Résultats écrits dans {output}")
    sys.exit(EXIT_PROBLEMS if results[0].error_count else EXIT_OK)


def _batch_on_engine(file: str, population: str, output: str, day: str | None, engine: str, dsn: str | None,
                     numpy_only: bool) -> None:
    """`batch --moteur duckdb|postgres`: the generated SQL computes, tarifrules writes and sums up."""
    from .batch.engines import engine_summary, run_on_engine
    from .batch.files import FileProblem, file_format, write_population
    from .diagnostics import TarifError

    if numpy_only:
        _fail("--map et --compare ne sont disponibles qu'avec --moteur numpy",
              "nommez les colonnes comme les données, ou calculez sans --moteur")
    if engine == "postgres" and not dsn:
        _fail("--moteur postgres demande --dsn", 'exemple : --dsn "host=localhost dbname=famille" ; '
              "ENTREE est alors le nom de la table")
    ruleset = _load(file)
    try:
        file_format(output)
        date = ruleset.evaluate({}, date=day).date
        table = run_on_engine(ruleset, population, engine, dsn, date)
        write_population(table, output)
    except FileProblem as problem:
        _fail(problem.message, problem.hint)
    except TarifError as exc:
        _print_error(exc)
        sys.exit(EXIT_USAGE)
    for line in engine_summary(ruleset, table):
        click.echo(line)
    click.echo(f"Résultats écrits dans {output}")
    sys.exit(EXIT_OK)


# ------------------------------------------------------------------ entry point

_CLICK_WORDS = {
    "No such option": "option inconnue",
    "No such command": "commande inconnue",
    "Missing argument": "argument manquant",
    "Missing option": "option manquante",
    "requires an argument": "demande une valeur",
    "Got unexpected extra argument": "argument en trop",
    "Got unexpected extra arguments": "arguments en trop",
}


def _translate(message: str) -> str:
    for english, french in _CLICK_WORDS.items():
        message = message.replace(english, french)
    return message


def main(argv: Sequence[str] | None = None) -> None:
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="tarifrules", standalone_mode=False)
    except click.UsageError as exc:
        _fail(_translate(exc.format_message()), "tarifrules --help pour la liste des commandes et options")
    except click.Abort:
        _fail("interrompu")
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except _UsageProblem as problem:
        _fail(problem.message, problem.hint)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        _fail("interrompu")
    except BrokenPipeError:
        sys.exit(EXIT_OK)
    except Exception as exc:
        _fail(f"erreur interne ({type(exc).__name__}) : merci de la signaler avec le fichier en cause",
              code=EXIT_INTERNAL)


if __name__ == "__main__":  # pragma: no cover
    main()
