"""How much and how long a client may send: the body's size, depth and read deadline (an ASGI
middleware), and the deadline on a request's line and headers (a uvicorn protocol)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from matcher.serve.models import SafeJSONResponse
from matcher.serve.security import SECURITY_HEADERS

__all__ = [
    "MAX_BODY_BYTES",
    "HEADER_TIMEOUT_S",
    "BODY_TIMEOUT_S",
    "KEEP_ALIVE_S",
    "MAX_JSON_DEPTH",
    "json_depth",
    "BodyLimitMiddleware",
    "server_options",
    "header_timeout_protocol",
]

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
#: Seconds a client has to send a request's line and headers, and then its whole body: a client
#: that announces 1,000 bytes and sends 10 cannot hold a connection (and a worker slot) open.
HEADER_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 10.0
#: Seconds an idle keep-alive connection stays open (uvicorn's ``timeout_keep_alive``).
KEEP_ALIVE_S = 5
#: Deepest nesting of arrays and objects a JSON body may have; a request needs 3.
MAX_JSON_DEPTH = 32


def json_depth(body: bytes | str) -> int:
    """How deeply arrays and objects nest in a JSON text (strings skipped), without parsing it."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = _JSON_STRING_RE.sub("", text)
    depth = deepest = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


_JSON_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"?', re.DOTALL)


class BodyLimitMiddleware:
    """Read the request body within a deadline and a size limit, and refuse what cannot be JSON.

    Over ``max_bytes``: 413 before the app parses it. Not all there within ``timeout_s`` (a client
    that announces more than it sends): 408, and the connection is closed. A JSON body that is not
    UTF-8 or nests deeper than ``max_depth``: 422 saying which. The body is read here and replayed
    to the app, because an error raised from inside the app's own body parsing would surface as a
    generic 400.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout_s: float = BODY_TIMEOUT_S, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.max_depth = max_depth

    async def _send(self, send: Send, status: int, content: Any) -> None:
        body = SafeJSONResponse(content, status_code=status, headers=SECURITY_HEADERS)
        await send({"type": "http.response.start", "status": status, "headers": body.raw_headers + [(b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body.body})

    async def _reject(self, send: Send, size: str) -> None:
        await self._send(
            send, 413,
            {"detail": f"request body is {size}; the limit is {self.max_bytes} bytes ({self.max_bytes // 1024} KB): shorten the brief or the filter lists"},
        )

    async def _invalid(self, send: Send, msg: str) -> None:
        await self._send(send, 422, {"detail": [{"loc": ["body"], "msg": msg, "type": "json_invalid"}], "message": f"body: {msg}"})

    def _check_json(self, scope: Scope, body: bytes) -> str | None:
        if not body:
            return None
        ctype = next((v for n, v in scope.get("headers", ()) if n == b"content-type"), b"application/json").lower()
        if b"json" not in ctype:
            return None
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return "the request body is not UTF-8; send UTF-8 JSON such as {\"brief\": \"...\", \"k\": 10}"
        depth = json_depth(body)
        if depth > self.max_depth:
            return (
                f"the JSON body nests arrays and objects {depth} levels deep; the limit is {self.max_depth} (a request needs 3): "
                "send a JSON object such as {\"brief\": \"...\", \"k\": 10}"
            )
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await self._reject(send, f"{declared} bytes")
                    return
        chunks: list[bytes] = []
        size = 0
        more = True
        deadline = time.monotonic() + self.timeout_s
        while more:
            try:
                message = await asyncio.wait_for(receive(), timeout=max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                logger.info("request body not complete within %g s (%d bytes received); closing the connection", self.timeout_s, size)
                await self._send(
                    send, 408, {"detail": f"the request body did not arrive within {self.timeout_s:g} s ({size} bytes received); send the whole body at once"}
                )
                return
            if message["type"] != "http.request":
                # The client went away: let the app see the disconnect.
                pending: list[Message] = [message]
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(send, f"over {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        else:
            body = b"".join(chunks)
            problem = self._check_json(scope, body)
            if problem is not None:
                await self._invalid(send, problem)
                return
            pending = [{"type": "http.request", "body": body, "more_body": False}]

        async def replay() -> Message:
            if pending:
                return pending.pop(0)
            return await receive()

        await self.app(scope, replay, send)



def server_options(*, header_timeout_s: float = HEADER_TIMEOUT_S, keep_alive_s: int = KEEP_ALIVE_S) -> dict[str, Any]:
    """uvicorn settings that bound how long a client may hold a connection without finishing a request.

    uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but has no time limit on
    receiving a request's headers or body; the headers get one here (an h11 protocol that answers
    408 and closes), the body in :class:`BodyLimitMiddleware`.
    """
    return {"http": header_timeout_protocol(header_timeout_s), "timeout_keep_alive": keep_alive_s, "h11_max_incomplete_event_size": 16 * 1024}


def header_timeout_protocol(timeout_s: float) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with a deadline on each request's line and headers.

    The deadline starts when a connection opens, or when the first byte of a later request on a
    kept-alive connection arrives, and ends when the headers are complete.
    """
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeoutH11Protocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def _waiting_for_headers(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(timeout_s, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._waiting_for_headers():
                self._arm()
            super().data_received(data)
            if not self._waiting_for_headers():
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if self._waiting_for_headers() and not self.transport.is_closing():
                logger.info("request headers not complete within %g s; closing the connection", timeout_s)
                self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                self.transport.close()

    return HeaderTimeoutH11Protocol
