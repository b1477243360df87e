"""`service.protocol.JoinedWrites`: what a connection writes during one turn of the event loop
reaches the socket as one write, the same bytes in the same order, before any close."""

from __future__ import annotations

import asyncio
from typing import Any

from tarifrules.service.protocol import JoinedWrites


class Recorder:
    """A transport that records what reaches it."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.events.append(bytes(data))

    def close(self) -> None:
        self.closing = True
        self.events.append("close")

    def abort(self) -> None:
        self.closing = True
        self.events.append("abort")

    def write_eof(self) -> None:
        self.events.append("eof")

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 8000) if name == "sockname" else None


def _run(steps: Any) -> list[Any]:
    async def main() -> list[Any]:
        recorder = Recorder()
        joined = JoinedWrites(recorder, asyncio.get_running_loop())  # type: ignore[arg-type]
        await steps(joined)
        await asyncio.sleep(0)
        return recorder.events

    return asyncio.run(main())


def test_writes_of_one_turn_are_sent_at_once_in_order() -> None:
    async def response(joined: JoinedWrites) -> None:
        joined.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        joined.write(memoryview(b"{}"))
        assert joined.get_write_buffer_size() == 40
        await asyncio.sleep(0)
        joined.writelines([b"HTTP/1.1 204 No Content\r\n", b"", b"\r\n"])

    assert _run(response) == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}",
                              b"HTTP/1.1 204 No Content\r\n\r\n"]


def test_close_and_eof_send_what_is_pending_first_abort_drops_it() -> None:
    async def closing(joined: JoinedWrites) -> None:
        joined.write(b"last answer")
        joined.close()

    async def half_closing(joined: JoinedWrites) -> None:
        joined.write(b"answer")
        joined.write_eof()

    async def aborting(joined: JoinedWrites) -> None:
        joined.write(b"lost")
        joined.abort()

    assert _run(closing) == [b"last answer", "close"]
    assert _run(half_closing) == [b"answer", "eof"]
    assert _run(aborting) == ["abort"]


def test_other_calls_reach_the_transport() -> None:
    async def asking(joined: JoinedWrites) -> None:
        assert joined.get_extra_info("sockname") == ("127.0.0.1", 8000)
        assert joined.is_closing() is False

    assert _run(asking) == []
