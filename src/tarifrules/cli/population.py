"""Many households at once, and rules where the data live: batch, sql, serve."""

from __future__ import annotations

import datetime
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from .common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    _fail,
    _load,
    _loaded,
    _print_error,
    _start_loading,
    cli,
)

if TYPE_CHECKING:
    from ..batch.files import Population
    from ..batch.run import BatchResult
    from ..ruleset import RuleSet


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
    from ..diagnostics import TarifError
    from ..sql import to_sql

    ruleset = _load(file)
    try:
        query = to_sql(ruleset, dialect=dialect, table=table, date=day, keep=keep)
    except TarifError as exc:
        caller = all(d.code in ("E001", "E004") for d in exc.diagnostics)
        _print_error(TarifError(exc.diagnostics, {ruleset.file: ruleset.source}))
        sys.exit(EXIT_USAGE if caller else EXIT_PROBLEMS)
    click.echo(query)


@cli.command("serve")
@click.help_option("-h", "--help", help="Affiche cette aide et quitte.")
@click.argument("folder", metavar="DOSSIER")
@click.option("--port", type=int, default=8000, show_default=True, help="Port d'écoute.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d'écoute.")
@click.option("--limite", "limit", type=click.IntRange(min=1), default=65536, show_default=True, metavar="OCTETS",
              help="Taille maximale du corps d'une requête.")
@click.option("--processus", "workers", type=click.IntRange(min=1), default=1, show_default=True, metavar="N",
              help="Nombre de processus (un par cœur).")
@click.option("--delai", "timeout", type=click.FloatRange(min=0.1, max=3600), default=10, show_default=True,
              metavar="SECONDES", help="Délai pour recevoir les en-têtes d'une requête, puis son corps (408 au-delà).")
def serve_command(folder: str, port: int, host: str, limit: int, workers: int, timeout: float) -> None:
    """Sert en HTTP les fichiers .tarif d'un dossier (calcul, explication)."""
    import socket

    from ..service.server import run

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
    run(Path(folder), host=host, port=port, limit=limit, workers=workers, timeout=timeout)


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
@click.option("--moteur", "engine", type=click.Choice(["auto", "numpy", "duckdb", "postgres"]), default="auto",
              show_default=True, metavar="auto|numpy|duckdb|postgres",
              help="Calcul en colonnes (NumPy), ou par la requête de « tarifrules sql » dans DuckDB ou PostgreSQL.")
@click.option("--dsn", metavar="CONNEXION", help="Avec --moteur postgres : la chaîne de connexion (libpq).")
def batch_command(file: str, population: str, output: str, mappings: tuple[str, ...], day: str | None,
                  other_file: str | None, engine: str, dsn: str | None) -> None:
    """Calcule toute une population (fichier CSV ou Parquet)."""
    from ..batch.files import FileProblem, file_format

    if not output:
        _fail("-o SORTIE est obligatoire : le fichier des résultats (.csv ou .parquet)",
              "exemple : tarifrules batch regles.tarif menages.csv -o tarifs.csv")
    if engine not in ("auto", "numpy") and (mappings or other_file):
        _fail("--map et --compare ne sont disponibles qu'avec --moteur numpy",
              "nommez les colonnes comme les données, ou calculez sans --moteur")
    if engine == "postgres" and not dsn:
        _fail("--moteur postgres demande --dsn", 'exemple : --dsn "host=localhost dbname=famille" ; '
              "ENTREE est alors le nom de la table")
    if engine == "auto" and (mappings or other_file):
        engine = "numpy"
    mapping: dict[str, str] = {}
    for item in mappings:
        column, sep, datum = item.partition("=")
        if not sep or not column.strip() or not datum.strip():
            _fail(f"« --map {item} » : écrivez colonne=donnée", "exemple : --map qf=quotient_familial")
        mapping[column.strip()] = datum.strip()
    # Work in parallel: child processes check the rule files not in the cache (other cores), the worker
    # reads the population file, the main thread imports what computing needs. Then the worker writes each
    # slice of results (Arrow, without the GIL) while the next one is computed and the last while the
    # summary is; problems are still reported in order: rules, then files.
    loading = _start_loading([file, *([other_file] if other_file else [])])  # (before any thread starts)
    with ThreadPoolExecutor(max_workers=1) as worker:
        reading = worker.submit(_engine_and_population, population, engine)
        from ..batch.run import MappingProblem, data_columns
        from ..diagnostics import TarifError

        rulesets = _loaded(loading)
        try:
            file_format(output)
            engine, read = reading.result()
            if read is None:
                _batch_on_engine(rulesets[0], population, output, day, engine, dsn)
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
        try:
            results, lines = _run_and_write(worker, rulesets, columns, read, date, output, other_file)
        except FileProblem as problem:
            _fail(problem.message, problem.hint)
    for line in lines:
        click.echo(line)
    click.echo(f"Résultats écrits dans {output}")
    sys.exit(EXIT_PROBLEMS if results[0].error_count else EXIT_OK)


def _run_and_write(worker: ThreadPoolExecutor, rulesets: list[RuleSet], columns: list[dict[str, str]],
                   read: Population, date: datetime.date, output: str,
                   other_file: str | None) -> tuple[list[BatchResult], list[str]]:
    """Each rule file over the population, the first one's results written to `output` by `worker`
    (Parquet: each slice, a row group, while the next one is computed), and the summary lines."""
    from ..batch.files import ParquetStream, file_format, write_population
    from ..batch.report import comparison, summary
    from ..batch.run import run_batch

    size = read.table.num_rows
    stream = ParquetStream(output) if file_format(output) == ".parquet" else None
    writes: list[Future[None]] = []

    def emit(rows: Any) -> None:
        assert stream is not None
        writes.append(worker.submit(stream.write, rows))

    results: list[BatchResult] = []
    for ruleset, chosen in zip(rulesets, columns, strict=True):
        written = emit if stream is not None and not results else None  # (the output holds the first file)
        if size > 100_000:
            with click.progressbar(length=size, label=f"Calcul ({Path(ruleset.file).name})",
                                   file=sys.stderr) as bar:
                results.append(run_batch(ruleset, read.table, chosen, date, read.first_line, bar.update, written))
        else:
            results.append(run_batch(ruleset, read.table, chosen, date, read.first_line, None, written))
    finishing: Future[Any]
    if stream is None:
        finishing = worker.submit(write_population, results[0].output_table(read.table), output, read.delimiter)
    else:
        finishing = worker.submit(stream.close)
    lines = summary(results[0]) + (comparison(results[0], results[1], other_file) if other_file else [])
    for write in writes:
        write.result()
    complete = finishing.result()
    if stream is not None and not complete:  # a slice of other types stopped the stream: all at once
        write_population(results[0].output_table(read.table), output)
    return results, lines


def _engine_and_population(population: str, engine: str) -> tuple[str, Population | None]:
    """The engine `--moteur` names or `auto` chooses, and the file read when NumPy computes."""
    from ..batch.engines import choose_engine
    from ..batch.files import read_population

    if engine == "auto":
        engine = choose_engine(population)
    return engine, read_population(population) if engine == "numpy" else None


def _batch_on_engine(ruleset: RuleSet, population: str, output: str, day: str | None, engine: str,
                     dsn: str | None) -> NoReturn:
    """`batch --moteur duckdb|postgres`: the generated SQL computes, tarifrules writes and sums up."""
    from ..batch.engines import engine_summary, run_on_engine
    from ..batch.files import FileProblem, write_population
    from ..diagnostics import TarifError

    try:
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
