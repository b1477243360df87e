"""Running the service with uvicorn (`tarifrules serve`).

uvicorn's own access log is off (it writes query strings); `app.AccessLog` writes
method, path, status and duration instead. Its HTTP protocol is httptools, sending each
response in one write and bounding the time a client takes (`protocol`). With several
workers, each process builds the app from the environment (`TARIFRULES_SERVE_*`), as
uvicorn requires an import string.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from .registry import SETTLE
from .requests import DEFAULT_LIMIT

_FOLDER, _LIMIT, _INTERVAL = "TARIFRULES_SERVE_DOSSIER", "TARIFRULES_SERVE_LIMITE", "TARIFRULES_SERVE_RELECTURE"
_SETTLE, _TIMEOUT = "TARIFRULES_SERVE_STABILITE", "TARIFRULES_SERVE_DELAI"  # (protocol reads _TIMEOUT too)


def app_from_environment() -> Any:
    import gc

    from .app import create_app

    app = create_app(os.environ[_FOLDER], limit=int(os.environ.get(_LIMIT, DEFAULT_LIMIT)),
                     reload_interval=float(os.environ.get(_INTERVAL, "1")),
                     settle=float(os.environ.get(_SETTLE, SETTLE)), timeout=float(os.environ.get(_TIMEOUT, "10")))
    gc.collect()
    gc.freeze()  # what is loaded now lives as long as the process: spare it the collector's full passes
    return app


class SaidInFrench(logging.Filter):
    """Drops uvicorn's English lines for what the service already logs in French (`protocol.py`)."""

    REPEATS = frozenset({"Invalid HTTP request received."})

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self.REPEATS


def _log_config() -> dict[str, Any]:
    import uvicorn.config

    config: dict[str, Any] = {**uvicorn.config.LOGGING_CONFIG}
    config["filters"] = {**config.get("filters", {}), "deja_dit": {"()": SaidInFrench}}
    config["loggers"] = {**config["loggers"],
                         "uvicorn.error": {**config["loggers"].get("uvicorn.error", {}), "filters": ["deja_dit"]},
                         "tarifrules.service": {"handlers": ["default"], "level": "INFO", "propagate": False}}
    return config


def run(folder: Path, *, host: str, port: int, limit: int = DEFAULT_LIMIT, workers: int = 1,
        reload_interval: float | None = None, timeout: float = 10.0, access_log: bool = True) -> None:
    """Serve `folder`; the folder is scanned every `reload_interval` seconds (default: the environment's
    `TARIFRULES_SERVE_RELECTURE`, else 1), a changed file read once unchanged for
    `TARIFRULES_SERVE_STABILITE` seconds (default 0.2)."""
    import uvicorn

    os.environ.update({_FOLDER: str(folder), _LIMIT: str(limit), _TIMEOUT: str(timeout)})
    if reload_interval is not None:
        os.environ[_INTERVAL] = str(reload_interval)
    config = _log_config()
    if not access_log:
        config["loggers"]["tarifrules.service"] = {**config["loggers"]["tarifrules.service"], "level": "WARNING"}
    logging.getLogger("tarifrules.service").setLevel(logging.INFO if access_log else logging.WARNING)
    print(f"tarifrules : service sur http://{host}:{port} pour {folder} (Ctrl-C pour arrêter)", file=sys.stderr)
    uvicorn.run("tarifrules.service.server:app_from_environment", factory=True, host=host, port=port,
                workers=workers, access_log=False, log_config=config, server_header=False,
                http="tarifrules.service.protocol:HttpProtocol")
