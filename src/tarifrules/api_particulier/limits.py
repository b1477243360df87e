"""What a server may make a client do: how long it may make it wait, how much it may send.

Every delay or rate a server announces (`Retry-After`, `meta.retry_in`, `RateLimit-*`,
`expires_in`) is read by `server_number` alone: a finite, non-negative number written in
ASCII, or nothing. A client never sleeps longer than `MAX_WAIT`: a longer announced delay
makes the datum unknown at once, with the delay stated (`too_long`). Each call has a total
`Budget` (all its attempts and waits, whatever the server drips) and a bounded body size;
`exchange` streams the answer (uncompressed, as asked) and stops at either limit. None of this raises for what a
server sends, and nothing here logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime
import email.utils
import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

__all__ = ["DEFAULT_DEADLINE", "HOUSEHOLD_DEADLINE", "MAX_BODY", "MAX_WAIT", "Budget", "Refused", "aexchange",
           "exchange", "guard_transports", "overall", "retry_after", "server_number", "too_long"]

MAX_WAIT = 60.0  # seconds: the longest delay a server can make a call wait (once)
DEFAULT_DEADLINE = 30.0  # seconds: one call, all attempts and waits included
HOUSEHOLD_DEADLINE = 60.0  # seconds: every call for one household (`fetch`)
MAX_BODY = 1_000_000  # bytes of (decoded) body: API Particulier answers are a few kB
HUGE = 1e15  # what a number too large for a float reads as (finite, far beyond any cap)

_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def server_number(value: object) -> float | None:
    """A finite, non-negative number sent by a server (header text or JSON value), else None.

    Only ASCII decimal notation: no sign, no `inf`, `nan`, `Infinity`, `1_000`, nor digits of
    other scripts (which `float` would accept). A value too large for a float (`1e309`, 400
    digits) reads as `HUGE`, i.e. finite and beyond every cap.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return float(min(value, int(HUGE))) if value >= 0 else None
    if isinstance(value, float):
        return value if math.isfinite(value) and value >= 0 else None
    if not isinstance(value, str) or len(value) > 400 or not _NUMBER.fullmatch(text := value.strip(" \t")):
        return None
    number = float(text)
    return min(number, HUGE)  # float("1e309") is inf: finite from here on


def retry_after(value: str | None, date: str | None = None, *, wall: Callable[[], float] = time.time
                ) -> float | None:
    """Seconds to wait from a `Retry-After` header: delay-seconds or an HTTP-date (RFC 9110
    §10.2.3), the date counted from the answer's own `Date` header when it has one (no clock
    skew), else from `wall`. None when absent or unreadable."""
    if value is None:
        return None
    seconds = server_number(value)
    if seconds is not None:
        return seconds
    when = _http_date(value)
    if when is None:
        return None
    now = _http_date(date) if date is not None else None
    return min(max(when - (now if now is not None else wall()), 0.0), HUGE)


def _http_date(text: str) -> float | None:
    try:
        parsed = email.utils.parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    try:
        return parsed.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


def spell_delay(seconds: float) -> str:
    """« 30 s », « 3 600 s (1 h) », « 5 400 s (environ 2 h) », « plus de 10 ans » (rounded up to the second)."""
    if seconds >= 10 * 365 * 86400:
        return "plus de 10 ans"
    whole = math.ceil(seconds)
    text = f"{whole:,} s".replace(",", " ")
    for one, many, size in (("jour", "jours", 86400), ("h", "h", 3600), ("min", "min", 60)):
        if whole >= 2 * size or (whole >= size and whole % size == 0):
            amount = round(whole / size)
            words = f"{amount} {one if amount == 1 else many}"
            return f"{text} ({words})" if whole % size == 0 else f"{text} (environ {words})"
    return text


def too_long(seconds: float) -> bool:
    return seconds > MAX_WAIT


# ------------------------------------------------------------------ one call's budget


@dataclass(frozen=True, slots=True)
class Refused:
    """An answer not read to its end: too slow or too big (`reason` in French)."""
    reason: str


_OUTER: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("tarifrules_overall", default=None)


class Budget:
    """The time and size one call may take: `seconds` in all (attempts, waits, reading) from
    its creation, measured by `clock` (monotonic, injectable for tests), and `max_bytes` of body.

    A budget made inside `overall(outer)` (one household's fetch) also ends when `outer` does."""

    def __init__(self, seconds: float = DEFAULT_DEADLINE, max_bytes: int = MAX_BODY, *,
                 clock: Callable[[], float] = time.monotonic, label: str = "de l'appel"):
        self.seconds, self.max_bytes, self.label, self._clock = seconds, max_bytes, label, clock
        self._end = clock() + seconds
        self.outer = _OUTER.get()

    def remaining(self) -> float:
        own = self._end - self._clock()
        return own if self.outer is None else min(own, self.outer.remaining())

    def allows(self, wait: float) -> bool:
        """Whether waiting `wait` seconds still leaves time for an attempt."""
        return wait < self.remaining()

    def binding(self) -> Budget:
        """The budget that ends first: this call's or the household's."""
        if self.outer is not None and self.outer.remaining() < self._end - self._clock():
            return self.outer.binding()
        return self

    def limit(self) -> str:
        """« délai total de l'appel (30 s) » — whichever ends first."""
        binding = self.binding()
        return f"délai total {binding.label} ({spell_delay(binding.seconds)})"

    def late(self) -> Refused:
        binding = self.binding()
        return Refused(f"service indisponible (pas de réponse complète en {spell_delay(binding.seconds)} : délai "
                       f"total {binding.label} dépassé)")

    def big(self, announced: float | None = None) -> Refused:
        size = spell_size(self.max_bytes)
        if announced is not None:
            return Refused(f"réponse refusée : {spell_size(announced)} annoncés, au-delà de la limite de {size}")
        return Refused(f"réponse refusée : plus de {size}")

    def timeout(self, base: httpx.Timeout) -> dict[str, float | None]:
        """The request's httpx timeouts, none beyond what remains of the budget."""
        left = max(self.remaining(), 0.001)
        return {name: left if value is None else min(value, left)
                for name, value in (("connect", base.connect), ("read", base.read), ("write", base.write),
                                    ("pool", base.pool))}


def spell_size(size: float) -> str:
    return "plus de 1 Go" if size >= 1e9 else f"{int(size):,} octets".replace(",", " ")


class _Body:
    """The chunks of one answer, checked against the budget as they arrive."""

    def __init__(self, response: httpx.Response, budget: Budget):
        self.response, self.budget = response, budget
        self.chunks: list[bytes] = []
        self.size = 0

    def refused(self) -> Refused | None:
        """Before reading: a `Content-Length` beyond the limit is refused unread, and so is a
        compressed body (`identity` was asked: a body that inflates a thousandfold in one
        chunk would escape the size limit)."""
        coding = self.response.headers.get("Content-Encoding", "identity").strip().lower()
        if coding not in ("", "identity"):
            return Refused("réponse refusée : compression non demandée (Content-Encoding)")
        declared = server_number(self.response.headers.get("Content-Length"))
        return self.budget.big(declared) if declared is not None and declared > self.budget.max_bytes else None

    def read_already(self) -> bool:
        """Whether the transport gave the body whole (`httpx.MockTransport`, the fake servers in
        process): then it is only checked, as one chunk."""
        try:
            content = self.response.content
        except httpx.ResponseNotRead:
            return False
        self.refusal = self.take(content)
        return True

    refusal: Refused | None = None

    def take(self, chunk: bytes) -> Refused | None:
        self.size += len(chunk)
        if self.size > self.budget.max_bytes:
            return self.budget.big()
        self.chunks.append(chunk)
        return self.budget.late() if self.budget.remaining() <= 0 else None

    def done(self) -> httpx.Response | Refused:
        """The same answer with its body read."""
        if self.budget.remaining() <= 0:
            return self.budget.late()
        response = self.response
        headers = [(k, v) for k, v in response.headers.raw  # raw bytes: a header need not be ASCII
                   if k.lower() not in (b"content-length", b"transfer-encoding")]
        return httpx.Response(response.status_code, headers=headers, content=b"".join(self.chunks),
                              request=response.request)


def exchange(client: httpx.Client, request: httpx.Request, budget: Budget
             ) -> httpx.Response | httpx.TransportError | Refused:
    """Send `request` and read its answer within `budget`: the response (body read), the
    transport error, or why it was not read."""
    if budget.remaining() <= 0:
        return budget.late()
    request.extensions["timeout"] = budget.timeout(client.timeout)
    request.headers["Accept-Encoding"] = "identity"
    try:
        with _deadline(budget), contextlib.closing(client.send(request, stream=True)) as response:
            body = _Body(response, budget)
            if refused := body.refused():
                return refused
            if body.read_already():
                return body.refusal or body.done()
            for chunk in response.iter_raw():
                if refused := body.take(chunk):
                    return refused
            return body.done()
    except (httpx.RequestError, httpx.StreamError) as exc:
        return _failure(exc, budget)


def _failure(exc: httpx.RequestError | httpx.StreamError, budget: Budget) -> httpx.TransportError | Refused:
    """What an exchange that raised gives: a transport error, the deadline passed, or no answer."""
    if isinstance(exc, httpx.TimeoutException):
        return budget.late() if budget.remaining() <= 0 else exc
    if isinstance(exc, httpx.TransportError):
        return exc
    if isinstance(exc, httpx.RequestError):  # a body that does not decode, too many redirects: not an answer
        return Refused("réponse illisible")
    return httpx.ReadError("flux de réponse interrompu")


async def aexchange(client: httpx.AsyncClient, request: httpx.Request, budget: Budget
                    ) -> httpx.Response | httpx.TransportError | Refused:
    """`exchange` for the async client; the whole exchange is also cancelled at the deadline."""
    if budget.remaining() <= 0:
        return budget.late()
    request.extensions["timeout"] = budget.timeout(client.timeout)
    request.headers["Accept-Encoding"] = "identity"
    try:
        async with asyncio.timeout(max(budget.remaining(), 0.001)):
            response = await client.send(request, stream=True)
            try:
                body = _Body(response, budget)
                if refused := body.refused():
                    return refused
                if body.read_already():
                    return body.refusal or body.done()
                async for chunk in response.aiter_raw():
                    if refused := body.take(chunk):
                        return refused
                return body.done()
            finally:
                await response.aclose()
    except TimeoutError:
        return budget.late()
    except (httpx.RequestError, httpx.StreamError) as exc:
        return _failure(exc, budget)


# ------------------------------------------------------------------ the deadline on the socket

# httpx timeouts bound each read, not a whole answer: a server that drips one byte a second
# never trips them, even in the status line and headers, before `exchange` sees a chunk. The
# real transports' sockets are therefore wrapped so that each read waits at most what remains
# of the current call's budget (set here, per thread or task, for the time of one exchange).
_CURRENT: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("tarifrules_budget", default=None)


@contextlib.contextmanager
def overall(budget: Budget) -> Iterator[Budget]:
    """Every call made inside shares `budget` too (e.g. all the calls for one household)."""
    token = _OUTER.set(budget)
    try:
        yield budget
    finally:
        _OUTER.reset(token)


@contextlib.contextmanager
def _deadline(budget: Budget) -> Iterator[None]:
    token = _CURRENT.set(budget)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def _bounded(timeout: float | None) -> float | None:
    budget = _CURRENT.get()
    if budget is None:
        return timeout
    left = budget.remaining()
    if left <= 0:
        raise httpcore.ReadTimeout("délai total de l'appel dépassé")
    return left if timeout is None else min(timeout, left)


class _Stream:
    """A httpcore network stream whose reads respect the current call's budget."""

    def __init__(self, inner: Any):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = self._inner.read(max_bytes, _bounded(timeout))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, *args: Any, **kwargs: Any) -> _Stream:
        return _Stream(self._inner.start_tls(*args, **kwargs))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend:
    """A httpcore network backend handing out `_Stream`s."""

    def __init__(self, inner: Any):
        self._inner = inner

    def connect_tcp(self, *args: Any, **kwargs: Any) -> _Stream:
        return _Stream(self._inner.connect_tcp(*args, **kwargs))

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> _Stream:
        return _Stream(self._inner.connect_unix_socket(*args, **kwargs))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def guard_transports(client: httpx.Client) -> None:
    """Wrap the sockets of the client's real transports (its default one and those mounted for
    proxies) so that reads stop at the call's deadline. Uses httpx and httpcore internals
    (`_transport`, `_mounts`, `_pool._network_backend`): when they change, nothing is wrapped,
    and the deadline is still checked between chunks of the body (a test on a real dripping
    server catches the difference)."""
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None) if isinstance(transport, httpx.HTTPTransport) else None
        backend = getattr(pool, "_network_backend", None)
        if backend is not None and not isinstance(backend, _Backend):
            pool._network_backend = _Backend(backend)  # type: ignore[union-attr]
