"""Command line: the group, shared helpers and the entry point (`cli/` is the only package that prints or exits).

Exit codes (documented in docs/cli.md):
  0  success
  1  problems found in a rule file: errors, failed examples, file not formatted,
     a computation the rules cannot do (division by zero…)
  2  bad usage: unknown option, bad `--set`, bad situation file or value, bad date,
     bad identity file, bad recipient SIRET or missing token for a chosen environment
  3  API Particulier refused a call for a configuration reason (token, scope, parameter):
     the data stay unknown and the rest is still printed
  70 internal error (a bug: reported in French, never as a traceback)
  130 interrupted by SIGINT (Ctrl+C), 143 by SIGTERM (128 + the signal's number); `batch` then
     leaves no results file under the output's name (cli/signals.py)
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from ..diagnostics import TarifError
    from ..rulecache import Loading
    from ..ruleset import RuleSet

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_SOURCE, EXIT_INTERNAL = 0, 1, 2, 3, 70
EXIT_INTERRUPTED = 130  # SIGINT; SIGTERM, where a command handles it, is 143 (cli/signals.py)


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
    from ..render import render_diagnostics

    click.echo(render_diagnostics(exc.diagnostics, exc.sources), err=err)


def _load(path: str) -> RuleSet:
    return _loaded(_start_loading([path], fork=False))[0]


def _start_loading(paths: Sequence[str], *, fork: bool = True) -> Loading:
    """The rule files read, and those not in the cache of checked files checked meanwhile by child processes
    on other cores (`rulecache.start_loading`): to call before starting threads. An unreadable file: its
    error printed, exit 1."""
    from ..diagnostics import TarifError
    from ..rulecache import start_loading

    try:
        return start_loading(paths, fork=fork)
    except TarifError as exc:
        _rules_failed(exc)


def _loaded(loading: Loading) -> list[RuleSet]:
    """The rule files' `RuleSet`s; a file with errors: its diagnostics printed, exit 1."""
    from ..diagnostics import TarifError

    try:
        return loading.results()
    except TarifError as exc:
        _rules_failed(exc)
    finally:
        _cache_notes(loading)


def _cache_notes(loading: Loading) -> None:
    """What the cache of checked files ignored, and why (a folder others may write in, a changed entry)."""
    for note in loading.notes:
        click.echo(f"tarifrules: attention: {note}", err=True)


def _rules_failed(exc: TarifError) -> NoReturn:
    """A rule file that does not load: its diagnostics printed, exit 1."""
    _print_error(exc)
    sys.exit(EXIT_PROBLEMS)


# ------------------------------------------------------------------ situations


SITUATION_LIMIT = 1_000_000  # bytes: a household's situation is a few hundred
IDENTITY_LIMIT = 1_000_000  # bytes: the persons of one household


def _read_document(path: str, noun: str, limit: int, *, yaml: bool = False, syntax: str = "JSON lisible",
                   example: str = "voir docs/api-particulier.md, « Le fichier d'identité »") -> Any:
    """A JSON (or, with `yaml`, YAML) file given on the command line, read as data
    (`documents.py`); `noun` names it in messages (« situation », « fichier d'identité »).
    Anything unreadable or refused is a `_UsageProblem` (exit 2)."""
    from ..documents import DocumentError
    from ..files import FileProblem, read_regular_file

    the = f"la {noun}" if noun == "situation" else f"le {noun}"
    try:
        raw = read_regular_file(path, limit)
    except FileProblem as problem:
        if problem.reason == "missing":
            raise _UsageProblem(f"{noun} introuvable : {path}", "vérifiez le chemin du fichier") from None
        raise _UsageProblem(f"impossible de lire {the} {path} : {problem.message}", problem.hint) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _UsageProblem(f"{the} {path} n'est pas un texte UTF-8",
                            "enregistrez le fichier en UTF-8") from None
    try:
        return _parse_document(text, yaml)
    except DocumentError as exc:
        where = f" (ligne {exc.line})" if exc.line else ""
        raise _UsageProblem(f"{the} {path}{where} : {exc.message}", example) from None
    except _SyntaxProblem as exc:
        where = f" (ligne {exc.line})" if exc.line else ""
        raise _UsageProblem(f"{the} {path} n'est pas un {syntax}{where}", example) from None


class _SyntaxProblem(Exception):
    """Bad JSON or YAML syntax, at `line` when known."""

    def __init__(self, line: int | None):
        super().__init__(line)
        self.line = line


def _parse_document(text: str, yaml: bool) -> Any:
    """`load_yaml` or `load_json`; bad syntax as `_SyntaxProblem`."""
    from ..documents import load_json, load_yaml

    if not yaml:
        try:
            return load_json(text)
        except json.JSONDecodeError as exc:
            raise _SyntaxProblem(exc.lineno) from None
    import yaml as pyyaml

    try:
        return load_yaml(text)
    except pyyaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise _SyntaxProblem(mark.line + 1 if mark is not None else None) from None


def _read_situation_file(path: str) -> dict[str, Any]:
    data = _read_document(path, "situation", SITUATION_LIMIT, yaml=Path(path).suffix.lower() in (".yaml", ".yml"),
                          syntax="JSON/YAML valide",
                          example='exemple : {"quotient_familial": 650, "demandeur_emploi": "oui"}')
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


# Command → the module of `cli/` that defines it, imported when the command runs: a command
# pays for the imports of its own family only (click's « lazily loading subcommands »).
LAZY_COMMANDS: dict[str, str] = {
    **dict.fromkeys(("check", "eval", "explain", "test", "fmt"), "evaluation"),
    **dict.fromkeys(("sql", "serve", "batch"), "population"),
    **dict.fromkeys(("doc", "scopes", "schema", "datapass"), "reports"),
    **dict.fromkeys(("fetch", "fake-api-particulier"), "sources"),
}


class _Group(_FrenchHelp, click.Group):
    command_class = _Command

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            import importlib

            importlib.import_module(f"{__package__}.{LAZY_COMMANDS[cmd_name]}")  # registers its commands
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        commands = [(name, self.get_command(ctx, name)) for name in self.list_commands(ctx)]
        rows = [(name, command.get_short_help_str(limit=70)) for name, command in commands if command is not None]
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
    """The `tarifrules` command (`argv`: its arguments; `None`, those of this process, which then
    ends here: see `_end_process`)."""
    # No command does linear algebra: one OpenBLAS thread, or NumPy's import starts workers that
    # spin on the other core while `batch` reads and writes files there (a caller's setting wins).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        _run(argv)
    except SystemExit as exc:
        if argv is not None:
            raise
        _end_process(exc.code)
    if argv is None:
        _end_process(EXIT_OK)


def _run(argv: Sequence[str] | None) -> None:
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="tarifrules", standalone_mode=False)
    except click.UsageError as exc:
        _fail(_translate(exc.format_message()), "tarifrules --help pour la liste des commandes et options")
    except click.Abort:
        _fail("interrompu (Ctrl+C)", code=EXIT_INTERRUPTED)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except _UsageProblem as problem:
        _fail(problem.message, problem.hint)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        _fail("interrompu (Ctrl+C)", code=EXIT_INTERRUPTED)
    except BrokenPipeError:
        sys.exit(EXIT_OK)
    except Exception as exc:
        _fail(f"erreur interne ({type(exc).__name__}) : merci de la signaler avec le fichier en cause",
              code=EXIT_INTERNAL)


def _end_process(code: object) -> NoReturn:
    """Ends the process once the command is done, without Python's teardown.

    Every file a command writes is closed when it returns (and its threads joined); what is
    left is freeing objects the system frees anyway: with NumPy and Arrow loaded, Python's
    teardown takes ~30 ms (benchmarks/RESULTS.md), a tenth of `batch` on a million
    households. Standard output and error are flushed first."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`| head`): nothing more to say
            stream.flush()
    os._exit(code if isinstance(code, int) else EXIT_OK if code is None else EXIT_PROBLEMS)


