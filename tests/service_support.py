"""A real `tarifrules serve` on 127.0.0.1 for the tests, and raw HTTP exchanges with it.

`Served.start(folder, *options)` runs the command in a new process (stdout and stderr in a
log file), waits until it answers, and `stop()` ends that process only. `exchange` sends raw
bytes on a new connection and reads until the server closes it or `timeout` seconds pass.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, folder: Path, *options: str, log: Path, env: dict[str, str] | None = None) -> Served:
        port = free_port()
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "tarifrules.cli", "serve", str(folder), "--port", str(port), *options],
                stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        served = cls(process, port, log)
        deadline = time.monotonic() + 60  # a loaded machine can be slow to start a process
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"tarifrules serve s'est arrêté : {served.log_text()}")
            try:
                httpx.get(f"{served.url}/fichiers", timeout=2)
                return served
            except httpx.TransportError:
                time.sleep(0.1)
        served.stop()
        raise AssertionError(f"tarifrules serve ne répond pas après 60 s : {served.log_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def files(self) -> dict[str, Any]:
        return {f["name"]: f for f in httpx.get(f"{self.url}/fichiers", timeout=10).json()["files"]}

    def wait_for(self, name: str, predicate: Any, timeout: float = 60) -> dict[str, Any]:
        """The entry `name` of `GET /fichiers` once `predicate(entry)` holds (fails after `timeout` s)."""
        deadline = time.monotonic() + timeout
        entry: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            entry = self.files().get(name)
            if entry is not None and predicate(entry):
                return entry
            time.sleep(0.05)
        raise AssertionError(f"« {name} » : état attendu non atteint en {timeout} s ({entry})")


@dataclass(frozen=True)
class Exchange:
    raw: bytes  # everything the server sent
    elapsed: float  # seconds from the connection to its close by the server (or to `timeout`)
    closed: bool  # the server closed the connection

    @property
    def status(self) -> int | None:
        head = self.raw.split(b"\r\n", 1)[0].split()
        return int(head[1]) if len(head) >= 2 and head[1].isdigit() else None

    @property
    def body(self) -> Any:
        _, _, body = self.raw.partition(b"\r\n\r\n")
        return json.loads(body) if body else None


def exchange(port: int, chunks: list[bytes], *, pause: float = 0.0, timeout: float = 30.0,
             close_after: bool = False) -> Exchange:
    """Send `chunks` (`pause` seconds apart) on a new connection, then read until the server closes
    it or `timeout` seconds pass; with `close_after`, close right after the last chunk instead."""
    start = time.monotonic()
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        for i, chunk in enumerate(chunks):
            if i and pause and select.select([connection], [], [], pause)[0]:
                break  # the server answered (or closed): stop sending, read what it said
            try:
                connection.sendall(chunk)
            except OSError:  # closed by the server while sending: what it said is still readable
                break
        if close_after:
            return Exchange(b"", time.monotonic() - start, False)
        while time.monotonic() - start < timeout:
            connection.settimeout(max(0.05, timeout - (time.monotonic() - start)))
            try:
                data = connection.recv(65536)
            except TimeoutError:
                break
            except OSError:
                return Exchange(received, time.monotonic() - start, True)
            if not data:
                return Exchange(received, time.monotonic() - start, True)
            received += data
    return Exchange(received, time.monotonic() - start, False)
