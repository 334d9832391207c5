"""The door in front of the login form: an address waiting out its throttle is answered before routing.

A refused attempt must cost the server less than the attacker's request costs the attacker, or a flood of
them slows every submission. Routing, reading the form and rendering the login page cost about 1.5 ms of
CPU per request; the gate answers an address that is already throttled from the raw request line with a
page rendered once (tens of microseconds), counting the failure as the login route does. Attempts that
reach the route are throttled there as well, per account and per address, after the form is read.

The answer is held back ``login_refusal_seconds`` (a tarpit): a client that waits for each answer, as
browsers and most scripts do, then tries at most once a second per connection instead of thousands of
times, and waiting costs the server a timer on its event loop, no thread and no CPU. Past
``MAX_HELD`` answers held at once the rest are answered at once, so holding cannot be turned against the
server's memory.
"""

from __future__ import annotations

import asyncio
import math

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from clearance.server.db import Database
from clearance.server.login import address_of, log_failure_window
from clearance.server.throttle import FailureLog, LoginThrottle

_SECONDS = "CLEARANCE-RETRY-AFTER"  # stands in for "N seconds" in the page rendered once
MAX_HELD = 1024


class LoginGate:
    def __init__(self, app: ASGIApp, throttle: LoginThrottle, failures: FailureLog, db: Database,
                 hold_seconds: float = 1.0) -> None:
        self.app = app
        self.throttle = throttle
        self.failures = failures
        self.db = db
        self.hold_seconds = hold_seconds
        self.held = 0
        self.sleep = asyncio.sleep
        self._page: str | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/login":
            await self.app(scope, receive, send)
            return
        address = address_of(scope)
        wait = self.throttle.wait_seconds([self.throttle.address_key(address)])
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        previous = self.failures.count(address)
        if previous is not None:  # once per address per window: a database write, off the event loop
            await run_in_threadpool(log_failure_window, self.db, self.failures, address, "login", previous)
        if self.hold_seconds > 0 and self.held < MAX_HELD:
            self.held += 1  # one event loop per worker: no lock needed
            try:
                await self.sleep(min(self.hold_seconds, wait))
            finally:
                self.held -= 1
            wait = self.throttle.wait_seconds([self.throttle.address_key(address)])
        seconds = str(max(1, math.ceil(wait)))
        body = self._render(scope).replace(_SECONDS, "1 second" if seconds == "1" else f"{seconds} seconds").encode()
        await send({"type": "http.response.start", "status": 429, "headers": [
            (b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"), (b"retry-after", seconds.encode())]})
        await send({"type": "http.response.body", "body": body})

    def _render(self, scope: Scope) -> str:
        if self._page is None:
            from clearance.server.web import render  # the pages import the server's app modules

            request = Request({**scope, "path": "/login/throttled"})
            self._page = bytes(render(
                request, "error.html", status=429, title="Too many attempts", heading="Too many attempts",
                message=f"Too many failed attempts from this address: try again in {_SECONDS}.",
                back="/login", back_label="Back to log in",
            ).body).decode()
        return self._page
