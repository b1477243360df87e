"""Misbehaving API servers: what each one answers, and what a client must make of it.

Each `Misbehaviour` is one answer (status, headers, body) that a real server, a proxy or an
attacker in the middle could send to `ApiParticulier` or `ImpotParticulier`, with the words
the datum's reason must contain and the most the client may sleep because of it. A body is
either bytes or a recipe (`Recipe`) that builds it, so that a 10 MB body is not kept in git.
`DripServer` is a real HTTP server on 127.0.0.1 that sends its answer one byte at a time.
`tests/test_hostile_api.py` runs each case through the library and, where it applies, the CLI.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

MB = 1_000_000


@dataclass(frozen=True)
class Recipe:
    """A body built when the case runs: `size` bytes of `kind` (`json`: a JSON document padded
    with spaces; `gzip-bomb`: a small gzip body that inflates to `size` bytes)."""
    kind: str
    size: int

    def build(self) -> bytes:
        if self.kind == "json":
            head = json.dumps({"data": {"quotient_familial": {"valeur": 650}}}).encode()
            return head + b" " * (self.size - len(head))
        if self.kind == "gzip-bomb":
            return gzip.compress(b" " * self.size, compresslevel=9)
        raise ValueError(self.kind)


@dataclass(frozen=True)
class Misbehaviour:
    name: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Recipe | None = None  # None: the API's JSON error body for the status
    retry_in: object = None  # `meta.retry_in` of the error body (any JSON value); absent if None
    says: tuple[str, ...] = ()  # words the reason must contain
    max_sleep: float = 0.0  # seconds the client may sleep in all because of these answers
    streamed: bool = False  # send the body in chunks, without Content-Length

    def content(self) -> bytes:
        if isinstance(self.body, Recipe):
            return self.body.build()
        if self.body is not None:
            return self.body
        meta = {} if self.retry_in is None else {"retry_in": self.retry_in}
        error = {"code": "00429" if self.status == 429 else "37020", "title": "t", "detail": "d", "meta": meta}
        return json.dumps({"errors": [error]}).encode()

    def chunks(self) -> Iterator[bytes]:
        data = self.content()
        for start in range(0, len(data), 65_536):
            yield data[start:start + 65_536]


UNAVAILABLE = "service indisponible"
TOO_MANY = "service indisponible (trop de requêtes)"
# 429 retries (5) at the default 1 s when the delay is unreadable
UNREADABLE_429 = 5.0

RETRY_AFTER = (
    # unreadable delays: ignored, the default (1 s) applies, then unknown after the bounded retries
    Misbehaviour("retry-after-inf", 429, {"Retry-After": "inf"}, says=(TOO_MANY,), max_sleep=UNREADABLE_429),
    Misbehaviour("retry-after-nan", 429, {"Retry-After": "nan"}, says=(TOO_MANY,), max_sleep=UNREADABLE_429),
    Misbehaviour("retry-after-negative", 429, {"Retry-After": "-5"}, says=(TOO_MANY,), max_sleep=UNREADABLE_429),
    Misbehaviour("retry-after-arabic-digits", 429, {"Retry-After": "٣٦٠٠"}, says=(TOO_MANY,),  # sent as UTF-8
                 max_sleep=UNREADABLE_429),
    Misbehaviour("retry-after-garbage-date", 429, {"Retry-After": "Mon, 99 Foo 2015 99:99:99 GMT"},
                 says=(TOO_MANY,), max_sleep=UNREADABLE_429),
    # delays beyond the longest wait (60 s): unknown at once, the delay said, no sleep
    Misbehaviour("retry-after-1e309", 429, {"Retry-After": "1e309"},
                 says=(TOO_MANY[:-1], "nouvel essai annoncé dans plus de 10 ans", "60 s")),
    Misbehaviour("retry-after-one-hour", 429, {"Retry-After": "3600"},
                 says=("trop de requêtes", "nouvel essai annoncé dans 3 600 s (1 h)", "attente maximale de 60 s")),
    Misbehaviour("retry-after-http-date-2100", 429, {"Retry-After": "Fri, 31 Dec 2100 23:59:59 GMT"},
                 says=("trop de requêtes", "plus de 10 ans")),
    Misbehaviour("retry-after-http-date-year-9999", 429, {"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"},
                 says=("trop de requêtes", "plus de 10 ans")),
    Misbehaviour("retry-after-http-date-two-minutes", 429,
                 {"Date": "Wed, 21 Oct 2026 07:28:00 GMT", "Retry-After": "Wed, 21 Oct 2026 07:30:00 GMT"},
                 says=("trop de requêtes", "120 s (2 min)")),
)

RETRY_IN = (
    Misbehaviour("retry-in-infinity-text", 503, retry_in="Infinity", says=(UNAVAILABLE,), max_sleep=1.5),
    Misbehaviour("retry-in-nan-text", 503, retry_in="NaN", says=(UNAVAILABLE,), max_sleep=1.5),
    Misbehaviour("retry-in-negative", 503, retry_in=-30, says=(UNAVAILABLE,), max_sleep=1.5),
    Misbehaviour("retry-in-true", 503, retry_in=True, says=(UNAVAILABLE,), max_sleep=1.5),
    # JSON numbers Python reads as infinity, or as an integer of 400 digits
    Misbehaviour("retry-in-json-infinity", 503,
                 body=b'{"errors": [{"code": "37020", "meta": {"retry_in": Infinity}}]}',
                 says=(UNAVAILABLE,), max_sleep=1.5),
    Misbehaviour("retry-in-1e400", 503, body=b'{"errors": [{"code": "37020", "meta": {"retry_in": 1e400}}]}',
                 says=(UNAVAILABLE,), max_sleep=1.5),
    Misbehaviour("retry-in-400-digits", 503,
                 body=b'{"errors": [{"code": "37020", "meta": {"retry_in": 1' + b"0" * 400 + b"}}]}",
                 says=(UNAVAILABLE, "plus de 10 ans")),
    Misbehaviour("retry-in-two-hours", 503, retry_in=7200, says=(UNAVAILABLE, "7 200 s (2 h)")),
)

# answered 200 with headers the rate limiter reads: the call succeeds, the pace stays sane
RATE_LIMIT = (
    Misbehaviour("ratelimit-limit-tiny", 200, {"RateLimit-Limit": "1e-300"}),
    Misbehaviour("ratelimit-limit-zero", 200, {"RateLimit-Limit": "0"}),
    Misbehaviour("ratelimit-limit-nan", 200, {"RateLimit-Limit": "nan"}),
    Misbehaviour("ratelimit-limit-negative", 200, {"RateLimit-Limit": "-20"}),
    Misbehaviour("ratelimit-reset-inf", 200, {"RateLimit-Remaining": "0", "RateLimit-Reset": "inf"}),
    # a window spent until the end of time: the limiter waits 60 s at most, which is past the
    # call's deadline (30 s): the next calls are unknown at once, without waiting
    Misbehaviour("ratelimit-reset-1e309", 200, {"RateLimit-Remaining": "0", "RateLimit-Reset": "1e309"},
                 says=("service indisponible (débit limité)", "au-delà du délai total de l'appel")),
)

TOO_BIG = "réponse refusée"
SIZE = (
    Misbehaviour("body-10-mb", 200, body=Recipe("json", 10 * MB), says=(TOO_BIG, "10 000 000 octets annoncés")),
    Misbehaviour("body-10-mb-streamed", 200, body=Recipe("json", 10 * MB), streamed=True,
                 says=(TOO_BIG, "plus de 1 000 000 octets")),
    Misbehaviour("gzip-bomb", 200, {"Content-Encoding": "gzip"}, body=Recipe("gzip-bomb", 50 * MB), streamed=True,
                 says=(TOO_BIG, "compression non demandée")),
    Misbehaviour("content-length-huge", 200, {"Content-Length": "9" * 30}, body=b"{}",
                 says=(TOO_BIG, "plus de 1 Go annoncés")),
    Misbehaviour("bad-gzip", 200, {"Content-Encoding": "gzip"}, body=b"this is not gzip", streamed=True,
                 says=(TOO_BIG, "compression non demandée")),
)


class DripServer:
    """An HTTP server on 127.0.0.1 that answers every request with `answer`, one byte every
    `interval` seconds (`head_first`: the status line and headers at once, then the body
    dripped). Stops when closed; its threads are daemons."""

    def __init__(self, answer: bytes, interval: float = 1.0, *, head_first: bool = False,
                 clock: Callable[[], float] = time.monotonic):
        self.answer, self.interval, self.head_first = answer, interval, head_first
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(2)
                conn.recv(65_536)  # the request (small: one GET)
                data = self.answer
                if self.head_first:
                    head, _, rest = data.partition(b"\r\n\r\n")
                    conn.sendall(head + b"\r\n\r\n")
                    data = rest
                for byte in data:
                    if self.stopped.wait(self.interval):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return

    def close(self) -> None:
        self.stopped.set()
        self.sock.close()
        self._thread.join(timeout=2)

    def __enter__(self) -> DripServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def http_answer(case: Misbehaviour) -> bytes:
    """The raw HTTP/1.1 answer of `case`, for `DripServer` (the connection closes after it)."""
    body = case.content()
    head = [f"HTTP/1.1 {case.status} X", "Content-Type: application/json", f"Content-Length: {len(body)}",
            "Connection: close", *(f"{name}: {value}" for name, value in case.headers.items())]
    return "\r\n".join(head).encode() + b"\r\n\r\n" + body


def slow_answer(body: bytes = b'{"data": {"quotient_familial": {"valeur": 650}}}') -> bytes:
    """A complete, valid answer: only its pace is hostile."""
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode()
            + b"\r\n\r\n" + body)
