"""Both transports over real sockets on loopback: what the caller may assume
after each way a call can fail."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from gateway.errors import OutcomeUnknown, UpstreamUnavailable
from gateway.upstream.http import UpstreamHTTP, UpstreamRequest
from gateway.upstream.moneybird import read_error_message
from gateway.upstream.transport import (
    AiohttpTransport,
    AnswerTimedOut,
    ConnectionLost,
    HttpxTransport,
    NotSent,
    Transport,
    TransportOptions,
)

OPTIONS = TransportOptions(
    connect_timeout=1.0, read_timeout=0.2, pool_timeout=1.0, max_connections=4
)
ConnectionHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
TRANSPORTS: list[Callable[[TransportOptions], Transport]] = [
    AiohttpTransport,
    HttpxTransport.pooled,
]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nothing listens there any more


@asynccontextmanager
async def server(handle: ConnectionHandler) -> AsyncIterator[str]:
    """A raw HTTP server on loopback; its connections are closed on exit."""
    connections: list[tuple[asyncio.Task[Any], asyncio.StreamWriter]] = []

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        connections.append((task, writer))
        try:
            await handle(reader, writer)
        finally:
            writer.close()

    listening = await asyncio.start_server(tracked, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        listening.close()
        for task, writer in connections:
            task.cancel()
            writer.close()
        await asyncio.gather(*(task for task, _ in connections), return_exceptions=True)
        await listening.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> None:
    await reader.readuntil(b"\r\n\r\n")


async def answer_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
    )
    await writer.drain()
    writer.close()


async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    await asyncio.sleep(5)


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.close()


async def cut_short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(b'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"partial')
    await writer.drain()
    writer.close()


def exchange(make: Callable[[TransportOptions], Transport], url: str) -> Any:
    async def run() -> Any:
        transport = make(OPTIONS)
        try:
            return await transport.exchange("GET", url, {}, None)
        finally:
            await transport.aclose()

    return asyncio.run(run())


def exchange_with(make: Callable[[TransportOptions], Transport], handle: ConnectionHandler) -> Any:
    async def run() -> Any:
        async with server(handle) as url:
            transport = make(OPTIONS)
            try:
                return await transport.exchange("GET", url + "x.json", {}, None)
            finally:
                await transport.aclose()

    return asyncio.run(run())


@pytest.mark.parametrize("make", TRANSPORTS)
def test_an_answer(make: Callable[[TransportOptions], Transport]) -> None:
    status, headers, body = exchange_with(make, answer_ok)
    assert (status, headers["content-type"], body) == (200, "application/json", b"{}")


@pytest.mark.parametrize("make", TRANSPORTS)
def test_a_refused_connection_is_not_sent(make: Callable[[TransportOptions], Transport]) -> None:
    with pytest.raises(NotSent):
        exchange(make, f"http://127.0.0.1:{closed_port()}/x.json")


@pytest.mark.parametrize("make", TRANSPORTS)
def test_no_answer_in_time(make: Callable[[TransportOptions], Transport]) -> None:
    with pytest.raises(AnswerTimedOut):
        exchange_with(make, never_answer)


@pytest.mark.parametrize("make", TRANSPORTS)
@pytest.mark.parametrize("handle", [hang_up, cut_short])
def test_a_lost_connection(
    make: Callable[[TransportOptions], Transport], handle: ConnectionHandler
) -> None:
    with pytest.raises(ConnectionLost):
        exchange_with(make, handle)


@pytest.mark.parametrize("make", TRANSPORTS)
def test_a_refused_connection_is_reported_as_unreachable_even_for_a_write(
    make: Callable[[TransportOptions], Transport],
) -> None:
    async def run() -> None:
        transport = make(OPTIONS)
        http = UpstreamHTTP(
            transport,
            name="Moneybird",
            base_url=f"http://127.0.0.1:{closed_port()}/",
            read_error_message=read_error_message,
            max_retries=0,
        )
        try:
            await http.send(UpstreamRequest("POST", "x.json", {}, is_write=True, json={}))
        finally:
            await transport.aclose()

    with pytest.raises(UpstreamUnavailable, match="could not be reached") as caught:
        asyncio.run(run())
    assert not isinstance(caught.value, OutcomeUnknown)
