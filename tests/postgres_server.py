"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary folder, a free port,
the unix socket in that folder, stopped and removed at the end.

initdb refuses to run as root: as root, the cluster belongs to `nobody` and the server
commands run through `runuser` (or `su`). The binaries are looked up in
TARIFRULES_PG_BIN, then /usr/lib/postgresql/*/bin, then PATH; without them the tests
that need the server are skipped with a message saying how to install it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

SKIP_REASON = ("PostgreSQL absent : installez le paquet Debian « postgresql » (la CI le fait dans .ci/run) "
               "ou indiquez ses binaires dans TARIFRULES_PG_BIN")


def binaries() -> Path | None:
    candidates = [os.environ.get("TARIFRULES_PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.append(str(Path(found).parent))
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").is_file() and (Path(candidate) / "pg_ctl").is_file():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_owner(command: list[str], owner: str | None) -> list[str]:
    if owner is None:
        return command
    if shutil.which("runuser"):
        return ["runuser", "-u", owner, "--", *command]
    return ["su", owner, "-s", "/bin/sh", "-c", " ".join(_quote(c) for c in command)]


def _quote(word: str) -> str:
    import shlex

    return shlex.quote(word)


@contextlib.contextmanager
def postgres_cluster() -> Iterator[str]:
    """Start a cluster; yield its libpq connection string; stop and remove it."""
    bin_dir = binaries()
    if bin_dir is None:
        raise FileNotFoundError(SKIP_REASON)
    owner = "nobody" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="tarifrules-pg-"))
    data, sockets = root / "data", root / "socket"
    sockets.mkdir()
    if owner is not None:
        shutil.chown(root, owner)
        shutil.chown(sockets, owner)
    port = _free_port()
    log = root / "server.log"
    try:
        subprocess.run(_as_owner([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                  "-E", "UTF8", "--locale=C", "--no-sync"], owner),
                       check=True, capture_output=True, timeout=120)
        options = f"-p {port} -k {sockets} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log),
                                  "-w", "-t", "60", "start"], owner), check=True, capture_output=True, timeout=90)
        try:
            yield f"host={sockets} port={port} user=postgres dbname=postgres"
        finally:
            subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                                     owner), capture_output=True, timeout=60)
    finally:
        shutil.rmtree(root, ignore_errors=True)
