"""Bytes on the wire: one HTTP exchange with an upstream, on a pooled client.

Two transports answer the same call. `AiohttpTransport` sends through an
aiohttp session directly, without building httpx's request and response
objects around every call (bench/compare.py weighs the two). `HttpxTransport` sends
through an `httpx.AsyncClient`: httpx's own pool (GATEWAY_HTTP_TRANSPORT=httpcore)
or any httpx transport, such as `httpx.MockTransport` in unit tests.

Each library's exceptions become one of three, by what the caller may assume:

    TransportError
    ├── NotSent          nothing reached the upstream (refused, no free connection)
    ├── AnswerTimedOut   sent, and no answer in time
    └── ConnectionLost   sent, and the connection closed before a whole answer
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

import aiohttp
import httpx

USER_AGENT = "contacts-gateway/0.1"

# status, headers, body
Exchange = tuple[int, Mapping[str, str], bytes]


class TransportError(Exception):
    pass


class NotSent(TransportError):
    pass


class AnswerTimedOut(TransportError):
    pass


class ConnectionLost(TransportError):
    pass


@dataclass(frozen=True)
class TransportOptions:
    connect_timeout: float
    read_timeout: float
    pool_timeout: float
    max_connections: int


class Transport(Protocol):
    async def exchange(
        self, method: str, url: str, headers: Mapping[str, str], content: bytes | None
    ) -> Exchange:
        """Send one request to `url` (absolute) and read the whole answer."""
        ...

    async def aclose(self) -> None: ...


class AiohttpTransport:
    def __init__(self, options: TransportOptions) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=options.max_connections, keepalive_timeout=30.0),
            # aiohttp's `connect` covers waiting for a pooled connection and opening
            # one. No total timeout: the request's deadline bounds the whole call.
            timeout=aiohttp.ClientTimeout(
                connect=options.pool_timeout + options.connect_timeout,
                sock_connect=options.connect_timeout,
                sock_read=options.read_timeout,
            ),
            headers={"user-agent": USER_AGENT},
            trust_env=False,
        )

    async def exchange(
        self, method: str, url: str, headers: Mapping[str, str], content: bytes | None
    ) -> Exchange:
        try:
            async with self._session.request(
                method, url, headers=headers, data=content, allow_redirects=False
            ) as response:
                body = await response.read()
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise NotSent(str(exc)) from exc
        except aiohttp.ServerTimeoutError as exc:
            raise AnswerTimedOut(str(exc)) from exc
        except aiohttp.ClientError as exc:
            raise ConnectionLost(str(exc)) from exc
        return response.status, response.headers, body

    async def aclose(self) -> None:
        await self._session.close()


class HttpxTransport:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    @classmethod
    def pooled(cls, options: TransportOptions) -> HttpxTransport:
        limits = httpx.Limits(
            max_connections=options.max_connections,
            max_keepalive_connections=options.max_connections,
            keepalive_expiry=30.0,
        )
        timeout = httpx.Timeout(
            connect=options.connect_timeout,
            read=options.read_timeout,
            write=options.read_timeout,
            pool=options.pool_timeout,
        )
        return cls(
            httpx.AsyncClient(
                timeout=timeout,
                limits=limits,
                follow_redirects=False,
                trust_env=False,
                headers={"user-agent": USER_AGENT},
            )
        )

    async def exchange(
        self, method: str, url: str, headers: Mapping[str, str], content: bytes | None
    ) -> Exchange:
        try:
            response = await self._client.request(method, url, headers=headers, content=content)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise NotSent(str(exc)) from exc
        except httpx.TimeoutException as exc:
            raise AnswerTimedOut(str(exc)) from exc
        except httpx.HTTPError as exc:
            raise ConnectionLost(str(exc)) from exc
        return response.status_code, response.headers, response.content

    async def aclose(self) -> None:
        await self._client.aclose()


@asynccontextmanager
async def open_transport(kind: str, options: TransportOptions) -> AsyncIterator[Transport]:
    """A pooled transport (`aiohttp` or `httpcore`), closed on exit."""
    transport: Transport = (
        AiohttpTransport(options) if kind == "aiohttp" else HttpxTransport.pooled(options)
    )
    try:
        yield transport
    finally:
        await transport.aclose()
