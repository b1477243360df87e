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
    from ..batch.files import OutputFile, Population
    from ..batch.run import BatchResult
    from ..rulecache import Loading
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
    from ..batch.files import same_file
    from .signals import Interrupted, interruptible, stopping

    if not output:
        _fail("-o SORTIE est obligatoire : le fichier des résultats (.csv ou .parquet)",
              "exemple : tarifrules batch regles.tarif menages.csv -o tarifs.csv")
    if engine not in ("auto", "numpy") and (mappings or other_file):
        _fail("--map et --compare ne sont disponibles qu'avec --moteur numpy",
              "nommez les colonnes comme les données, ou calculez sans --moteur")
    if engine == "postgres" and not dsn:
        _fail("--moteur postgres demande --dsn", 'exemple : --dsn "host=localhost dbname=famille" ; '
              "ENTREE est alors le nom de la table")
    if engine != "postgres" and same_file(population, output):
        suffix = Path(output).suffix or ".csv"
        _fail(f"la sortie {output} est le fichier d'entrée {population} (même fichier, ou un lien vers lui) : "
              "les résultats le remplaceraient", f"écrivez les résultats dans un autre fichier, par exemple "
              f"-o {Path(population).with_name(Path(population).stem + '-resultats' + suffix)}")
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
    # From here, SIGINT and SIGTERM are an exception of the main thread: the temporary file is removed.
    outputs: list[OutputFile] = []
    worker: ThreadPoolExecutor | None = None
    stopped = False
    with interruptible():
        try:
            loading = _start_loading([file, *([other_file] if other_file else [])])  # (before any thread starts)
            worker = ThreadPoolExecutor(max_workers=1)
            _batch(worker, loading, population, output, mapping, day, other_file, engine, dsn, outputs)
        except Interrupted as stop:
            stopped = True
            stopping()  # (a second signal does not cut the cleaning up)
            for written in outputs:
                written.discard()
            if any(written.committed for written in outputs):
                _fail(f"arrêté par {stop.name} après l'écriture complète de {output} : ce fichier est complet, "
                      "seul le bilan n'a pas été affiché en entier", code=stop.exit_code)
            existed = " ; le fichier qui portait déjà ce nom est inchangé" if Path(output).exists() else ""
            _fail(f"interrompu par {stop.name} avant la fin : aucun fichier de résultats écrit sous {output}"
                  f"{existed}", "relancez la commande pour calculer toute la population", code=stop.exit_code)
        finally:
            for written in outputs:
                written.discard()  # (a failed or interrupted write: its temporary file removed)
            if worker is not None:
                worker.shutdown(wait=not stopped, cancel_futures=True)  # (interrupted: the process ends now)


def _batch(worker: ThreadPoolExecutor, loading: Loading, population: str, output: str, mapping: dict[str, str],
           day: str | None, other_file: str | None, engine: str, dsn: str | None,
           outputs: list[OutputFile]) -> NoReturn:
    from ..batch.files import FileProblem, file_format
    from ..batch.run import MappingProblem, check_columns, data_columns
    from ..diagnostics import TarifError

    reading = worker.submit(_engine_and_population, population, engine)
    rulesets = _loaded(loading)
    try:
        file_format(output)
        engine, read = reading.result()
        if read is None:
            _batch_on_engine(rulesets[0], population, output, day, engine, dsn, outputs)
        date = rulesets[0].evaluate_table({}, date=day).date  # no row: only the date is checked
        for ruleset in rulesets[1:]:
            ruleset.evaluate_table({}, date=date)
        check_columns(rulesets[0], read.table.column_names)
        columns = [data_columns(r, read.table.column_names, mapping if r is rulesets[0] else {
            c: d for c, d in mapping.items() if d in r.data_names}) for r in rulesets]
    except (FileProblem, MappingProblem) as problem:
        _fail(problem.message, problem.hint)
    except TarifError as exc:
        _print_error(exc)
        sys.exit(EXIT_USAGE)
    try:
        results, lines = _run_and_write(worker, rulesets, columns, read, date, output, other_file, outputs)
    except FileProblem as problem:
        _fail(problem.message, problem.hint)
    for line in lines:
        click.echo(line)
    click.echo(f"Résultats écrits dans {output}")
    sys.exit(EXIT_PROBLEMS if results[0].error_count else EXIT_OK)


def _reading(read: Population, chosen: dict[str, str]) -> str:
    """How the file was read: its separator, and the column of each datum."""
    from ..batch.files import SEPARATORS

    data = ", ".join(datum if column == datum else f"{datum} ← colonne « {column} »"
                     for datum, column in chosen.items()) or "aucune"
    if read.delimiter is None:
        return f"Données lues : {data}"
    return f"Données lues : {data} — séparateur : {SEPARATORS[read.delimiter]}"


def _run_and_write(worker: ThreadPoolExecutor, rulesets: list[RuleSet], columns: list[dict[str, str]],
                   read: Population, date: datetime.date, output: str,
                   other_file: str | None, outputs: list[OutputFile]) -> tuple[list[BatchResult], list[str]]:
    """Each rule file over the population, the first one's results written to `output` by `worker`
    (Parquet: each slice, a row group, while the next one is computed), and the summary lines.
    The results go to a temporary file (`outputs`), renamed to `output` once complete."""
    from ..batch.files import OutputFile, ParquetStream, file_format, write_population
    from ..batch.report import comparison, summary
    from ..batch.run import run_batch
    from .signals import held

    size = read.table.num_rows
    written = OutputFile(output)
    outputs.append(written)
    stream = ParquetStream(written) if file_format(output) == ".parquet" else None
    writes: list[Future[None]] = []

    def emit(rows: Any) -> None:
        assert stream is not None
        writes.append(worker.submit(stream.write, rows))

    results: list[BatchResult] = []
    for ruleset, chosen in zip(rulesets, columns, strict=True):
        sent = emit if stream is not None and not results else None  # (the output holds the first file)
        if size > 100_000:
            with click.progressbar(length=size, label=f"Calcul ({Path(ruleset.file).name})",
                                   file=sys.stderr) as bar:
                results.append(run_batch(ruleset, read.table, chosen, date, read.first_line, bar.update, sent,
                                         lines=read.lines, unreadable=read.unreadable))
        else:
            results.append(run_batch(ruleset, read.table, chosen, date, read.first_line, None, sent,
                                     lines=read.lines, unreadable=read.unreadable))
    finishing: Future[Any]
    if stream is None:
        finishing = worker.submit(write_population, results[0].output_table(read.table), written, read.delimiter)
    else:
        finishing = worker.submit(stream.close)
    lines = summary(results[0], _reading(read, columns[0])) + (
        comparison(results[0], results[1], other_file) if other_file else [])
    for write in writes:
        write.result()
    complete = finishing.result()
    if stream is not None and not complete:  # a slice of other types stopped the stream: all at once
        write_population(results[0].output_table(read.table), written)
    with held():  # (a signal now would not know whether the file is there)
        written.commit()
    return results, lines


def _engine_and_population(population: str, engine: str) -> tuple[str, Population | None]:
    """The engine `--moteur` names or `auto` chooses, and the file read when NumPy computes."""
    from ..batch.engines import choose_engine
    from ..batch.files import read_population

    if engine == "auto":
        engine = choose_engine(population)
    return engine, read_population(population) if engine == "numpy" else None


def _batch_on_engine(ruleset: RuleSet, population: str, output: str, day: str | None, engine: str,
                     dsn: str | None, outputs: list[OutputFile]) -> NoReturn:
    """`batch --moteur duckdb|postgres`: the generated SQL computes, tarifrules writes and sums up."""
    from ..batch.engines import engine_summary, run_on_engine
    from ..batch.files import FileProblem, OutputFile, write_population
    from ..batch.run import MappingProblem
    from ..diagnostics import TarifError
    from .signals import held

    try:
        date = ruleset.evaluate({}, date=day).date
        table = run_on_engine(ruleset, population, engine, dsn, date)
        written = OutputFile(output)
        outputs.append(written)
        write_population(table, written)
        with held():
            written.commit()
    except (FileProblem, MappingProblem) as problem:
        _fail(problem.message, problem.hint)
    except TarifError as exc:
        _print_error(exc)
        sys.exit(EXIT_USAGE)
    for line in engine_summary(ruleset, table):
        click.echo(line)
    click.echo(f"Résultats écrits dans {output}")
    sys.exit(EXIT_OK)
