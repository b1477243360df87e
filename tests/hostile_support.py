"""Running one hostile input through the command line, the library or the service.

The corpus itself is in `tests/hostile/<area>/` (rule files, situations, CSV files, HTTP
requests, misbehaving-server scripts); each `tests/test_hostile_<area>.py` lists its cases
with what the answer must say. Whatever the case, an entry point must: end within a
bounded time, never exit 70, never print a Python traceback nor « erreur interne », and
(from the library) raise nothing but `TarifError`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tarifrules import TarifError

HOSTILE = Path(__file__).resolve().parent / "hostile"
TARIFRULES = str(Path(sys.executable).with_name("tarifrules"))
TIMEOUT = 60  # seconds: a case that takes longer hangs


def run_cli(args: Sequence[str | os.PathLike[str]], *, timeout: float = TIMEOUT, env: dict[str, str] | None = None,
            stdin: str | None = None, cwd: str | os.PathLike[str] | None = None) -> subprocess.CompletedProcess[str]:
    """`tarifrules ARGS` in a new process; fails the test if it does not end within `timeout` seconds."""
    try:
        return subprocess.run([TARIFRULES, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})}, input=stdin, cwd=cwd)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"tarifrules {' '.join(map(str, args))} : ne s'est pas terminé en {timeout} s") from None


def assert_handled(result: subprocess.CompletedProcess[str], exit_code: int, *needles: str) -> None:
    """The command ended with `exit_code`, said each of `needles` (stdout or stderr), and showed no
    internal error."""
    both = result.stdout + result.stderr
    assert "Traceback" not in both, both
    assert "erreur interne" not in both, both
    assert result.returncode != 70, both
    assert result.returncode == exit_code, f"code de sortie {result.returncode} au lieu de {exit_code} : {both}"
    for needle in needles:
        assert needle in both, f"« {needle} » absent de : {both}"


def library_error(call: Callable[[], Any]) -> TarifError:
    """The `TarifError` that `call()` raises; fails the test if it raises anything else or nothing."""
    try:
        call()
    except TarifError as error:
        return error
    except Exception as other:  # the library's contract: only TarifError for bad input
        raise AssertionError(f"{type(other).__name__} au lieu de TarifError : {other}") from other
    raise AssertionError("aucune erreur levée")


def messages(error: TarifError) -> str:
    """Every message and hint of an error, one per line (to search for what it must say)."""
    return "\n".join(f"{d.code} {d.message} {d.hint or ''}" for d in error.diagnostics)
