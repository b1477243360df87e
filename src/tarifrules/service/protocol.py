"""uvicorn's httptools protocol, sending each response in one piece.

uvicorn writes a response's status line and headers, then its body: two `send` system
calls and two TCP segments (the socket has no Nagle delay), for a reply of a few hundred
bytes. Here what a connection writes during one turn of the event loop is sent at the
end of that turn, at once: the same bytes in the same order, one system call per
response (about 50 µs less per request on a 2-core machine, out of 300).

It also bounds the time a client may take (uvicorn bounds only the wait between two
requests, `timeout_keep_alive`): the request line and headers must arrive within `timeout`
seconds of the first byte (or of the connection, for its first request), else the
connection gets a French 408 and is closed (a connection that sent nothing is closed
silently); headers beyond `MAX_HEADERS` bytes get a 431; a body not received within
`timeout` seconds is answered 408 by the application, and the connection is closed a
second later whatever the application did. A slowloris client holds a connection for
`timeout` seconds at most, not as long as it drips bytes.

Given to uvicorn by import string (`server.run`), so that importing the service does not
import uvicorn. `TARIFRULES_SERVE_DELAI` sets `timeout` (each worker process reads it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ..diagnostics import Diagnostic, error
from .errors import BAD_REQUEST, HEADERS_TOO_LARGE, TIMEOUT, document


class JoinedWrites:
    """A transport whose writes made during one turn of `loop` reach `transport` as one write."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        if self._pending:
            data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return sum(map(len, self._pending)) + self._transport.get_write_buffer_size()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, pause_reading…
        return getattr(self._transport, name)


TIMEOUT_VARIABLE = "TARIFRULES_SERVE_DELAI"
DEFAULT_TIMEOUT = 10.0
MAX_HEADERS = 64 * 1024  # bytes of request line and headers


def _header_part(tail: bytes, data: bytes) -> int:
    """How many bytes of `data` are still request line and headers, `tail` being the last bytes received
    before it: all of them, or those up to the empty line that ends the headers."""
    joined = tail + data
    ends = [found + len(mark) for mark in (b"\r\n\r\n", b"\n\n") if (found := joined.find(mark)) >= 0]
    return len(data) if not ends else max(0, min(ends) - len(tail))
ACCESS = logging.getLogger("tarifrules.service.access")


def late_headers(timeout: float) -> Diagnostic:
    return error(TIMEOUT, f"en-têtes de la requête non reçus en {timeout:g} s",
                 hint="envoyez la requête d'un coup ; vérifiez le réseau entre le client et le service")


def large_headers() -> Diagnostic:
    return error(HEADERS_TOO_LARGE, f"en-têtes de la requête trop gros (plus de {MAX_HEADERS // 1024} Kio)",
                 hint="envoyez une requête simple : aucun en-tête utile au service ne dépasse quelques centaines "
                      "d'octets")


def unreadable_request() -> Diagnostic:
    return error(BAD_REQUEST, "requête HTTP illisible (ligne de requête ou en-têtes mal formés)",
                 hint="un client HTTP ordinaire écrit des requêtes correctes ; encodez l'adresse (%0D pour un "
                      "retour chariot)")


def refusal(status: int, reason: str, problem: Diagnostic) -> bytes:
    """A complete HTTP response closing the connection, with a French error document."""
    body = json.dumps(document([problem]), ensure_ascii=False).encode("utf-8")
    head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n")
    return head.encode("ascii") + body


class HttpProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` over `JoinedWrites`, with a deadline for the headers and the body."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout = float(os.environ.get(TIMEOUT_VARIABLE) or DEFAULT_TIMEOUT)
        self._deadline: asyncio.TimerHandle | None = None
        self._phase = "idle"  # idle (between requests), headers, body
        self._header_bytes = 0
        self._tail = b""  # the last bytes of headers received, where their end may begin

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        joined: Any = JoinedWrites(transport, self.loop)
        super().connection_made(joined)
        self._arm(self.timeout, self._headers_late)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, delay: float, handler: Any) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(delay, handler)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def data_received(self, data: bytes) -> None:
        if self._phase == "idle":
            self._phase, self._header_bytes, self._tail = "headers", 0, b""
            if self._deadline is None:  # after an answer: from this first byte
                self._arm(self.timeout, self._headers_late)
        if self._phase == "headers":
            self._header_bytes += _header_part(self._tail, data)  # (a body in the same packet is no header)
            self._tail = (self._tail + data)[-3:]
            if self._header_bytes > MAX_HEADERS:
                self._refuse(431, "Request Header Fields Too Large", large_headers())
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._phase = "body"
        self._arm(self.timeout + 1, self._body_late)  # the application answers 408 first
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._phase = "idle"
        self._disarm()
        super().on_message_complete()

    def _headers_late(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self._phase == "idle":  # nothing sent yet: closed as an idle keep-alive connection is
            self.transport.close()
            return
        ACCESS.info("- - 408 (en-têtes non reçus en %g s)", self.timeout)
        self._refuse(408, "Request Timeout", late_headers(self.timeout))

    def _body_late(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()  # the application sees the client gone (499 in the access log)

    def send_400_response(self, msg: str) -> None:
        """A request httptools cannot parse (a control character in its path…): in French, as JSON."""
        ACCESS.info("- - 400 (requête HTTP illisible)")
        self._refuse(400, "Bad Request", unreadable_request())

    def _refuse(self, status: int, reason: str, problem: Diagnostic) -> None:
        self._disarm()
        if self.cycle is None or self.cycle.response_complete:  # no answer under way on this connection
            self.transport.write(refusal(status, reason, problem))
        self.transport.close()
