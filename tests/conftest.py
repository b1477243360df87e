"""Shared pytest options.

`--update-golden` rewrites golden files instead of comparing with them; it sets
`UPDATE_GOLDEN=1`, which `tests/helpers.update_golden()` reads, so both spellings work.

The command line's cache of checked rule files (`tarifrules.rulecache`) goes to a folder of
this run, never to the user's: commands run by the tests (in process or not) share it.
"""

from __future__ import annotations

import os
import tempfile

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="réécrit les fichiers de référence (golden) au lieu de les comparer",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--update-golden"):
        os.environ["UPDATE_GOLDEN"] = "1"
    os.environ["TARIFRULES_CACHE"] = tempfile.mkdtemp(prefix="tarifrules-cache-")
