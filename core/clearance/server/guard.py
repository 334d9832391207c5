"""ASGI plumbing shared by the API and the pages: body size limit, security headers, error bodies."""

from __future__ import annotations

import json
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearance.server.errors import describe

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_SECURITY_NAMES = {name for name, _value in SECURITY_HEADERS}


class BodyTooLarge(Exception):
    pass


def _json_answer(status: int, message: str) -> tuple[Message, Message]:
    body = json.dumps({"error": message}).encode()
    start: Message = {
        "type": "http.response.start", "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                    *SECURITY_HEADERS],
    }
    return start, {"type": "http.response.body", "body": body}


class Guard:
    """Refuses bodies over the limit with 413 (declared or streamed, chunked or not), answers a fault with
    a JSON 500, and adds the security headers to every answer.

    A streamed body that overflows is noticed while the app reads it; FastAPI turns any error raised while
    reading into its own 400, so the guard replaces whatever the app answers after an overflow by the 413.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = self.max + 1
                if declared > self.max:
                    await self._send_pair(send, *self._too_large())
                    return
        received = 0
        overflow = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, overflow
            if overflow:
                raise BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max:
                    overflow = True
                    raise BodyTooLarge()
            return message

        async def secure_send(message: Message) -> None:
            nonlocal started
            if overflow:  # the app's answer to the cut body is replaced by the 413, once
                if not started:
                    started = True
                    await self._send_pair(send, *self._too_large())
                return
            if message["type"] == "http.response.start":
                started = True
                headers = [h for h in message.get("headers", []) if h[0].lower() not in _SECURITY_NAMES]
                message = {**message, "headers": headers + SECURITY_HEADERS}
            await send(message)

        try:
            await self.app(scope, limited_receive, secure_send)
        except BodyTooLarge:
            if not started:
                started = True
                await self._send_pair(send, *self._too_large())
        except Exception:
            if not started:  # the fault itself is logged by the server: re-raised below
                started = True
                await self._send_pair(send, *_json_answer(
                    500, "the service failed on this request; its log says why (this is a bug: please report it)"))
            raise

    def _too_large(self) -> tuple[Message, Message]:
        return _json_answer(413, f"the request body is larger than the {self.max} byte limit")

    @staticmethod
    async def _send_pair(send: Send, start: Message, body: Message) -> None:
        await send(start)
        await send(body)


def validation_body(exc: RequestValidationError) -> dict[str, Any]:
    """FastAPI's error list described the way every other refusal is."""
    return describe(exc.errors())
