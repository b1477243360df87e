"""Shared pytest options.

`--update-golden` rewrites golden files instead of comparing with them; it sets
`UPDATE_GOLDEN=1`, which `tests/helpers.update_golden()` reads, so both spellings work.
"""

from __future__ import annotations

import os

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
