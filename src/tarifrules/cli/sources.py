"""Where data come from: `--fetch` (API Particulier, API Impôt particulier), `fetch`, the fake servers."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from ..files import system_error
from .common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_SOURCE,
    EXIT_USAGE,
    IDENTITY_LIMIT,
    _fail,
    _load,
    _print_error,
    _read_document,
    _situation,
    _UsageProblem,
    cli,
)

if TYPE_CHECKING:
    from ..ruleset import RuleSet


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
    from ..diagnostics import TarifError

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
    from ..api_particulier.connect import connect, connect_dgfip
    from ..api_particulier.fetch import Fetcher, fetch
    from ..api_particulier.household import Household
    from ..diagnostics import TarifError

    try:
        data = _read_document(source.identity_file, "fichier d'identité", IDENTITY_LIMIT)
    except _UsageProblem as problem:
        _fail(problem.message, problem.hint)
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
    from ..api_particulier.fetch import fetch_text
    from ..diagnostics import TarifError

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
    from ..api_particulier.fake import ALL_SCOPES, DEFAULT, FakeApiParticulier, make_server
    from ..dgfip.fake import FakeImpotParticulier

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
        _fail(f"impossible d'écouter sur {host}:{port} : {system_error(exc)}")
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
