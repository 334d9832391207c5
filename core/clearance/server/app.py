"""The FastAPI application: API, pages, static files, error bodies. ``create_app`` is the one entry."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from clearance import __version__
from clearance.server import API_PREFIX, api, checkpoints, consents, packet, web, writer
from clearance.server.config import ServerConfig
from clearance.server.db import BUSY_RETRY_AFTER_SECONDS, Database
from clearance.server.decider import Decider
from clearance.server.errors import ServiceError, log_refusal
from clearance.server.guard import Guard, validation_body
from clearance.server.login_gate import LoginGate
from clearance.server.throttle import FailureLog, LoginThrottle

HERE = Path(__file__).resolve().parent


class KeyRingHolder:
    """Opens the signing key folder on first use; the key ring itself notices rotations on disk."""

    def __init__(self, directory: str, db: Database | None = None) -> None:
        self.directory = directory
        self.db = db
        self._ring: Any = None
        self._published: str | None = None
        self._lock = threading.Lock()

    def ring(self) -> Any:
        """The key ring without publishing (for callers that hold the write lock, which publishing takes)."""
        with self._lock:
            if self._ring is None:
                from clearance.approvals import KeyRing

                self._ring = KeyRing.open(Path(self.directory).expanduser())
            return self._ring

    def __call__(self) -> Any:
        with self._lock:
            if self._ring is None:
                from clearance.approvals import KeyRing

                self._ring = KeyRing.open(Path(self.directory).expanduser())
            active = self._ring.active_key_id()
            if self.db is not None and active != self._published:  # first use, or a rotation noticed on disk
                from clearance.server import keyset

                keyset.publish(self.db, self._ring)
                self._published = active
            return self._ring


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(API_PREFIX) and request.url.path != "/openapi.json"


def _api_routes(routes: Any) -> Iterator[APIRoute]:
    """Every API route, including those of included routers (the API's and the consent registry's)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None) or getattr(route, "router", None)
        if inner is not None and hasattr(inner, "routes"):
            yield from _api_routes(inner.routes)


def _allowed_methods(request: Request) -> list[str]:
    """Every method the resource at this path serves (RFC 9110 wants them all in `Allow`, not the first route's).

    For the API, a fixed path (`/records/lookup`) is its own resource even where a templated one
    (`/records/{record_id}`) would also match it."""
    path = request.url.path
    if path.startswith(API_PREFIX):
        matching = [r for r in _api_routes(request.app.router.routes) if r.path_regex.match(path)]
        chosen = [r for r in matching if not r.param_convertors] or matching
        return sorted({m for r in chosen for m in (r.methods or ())} - {"HEAD"})
    return [
        method for method in ("DELETE", "GET", "PATCH", "POST", "PUT")
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL
               for route in request.app.router.routes)
    ]


def create_app(config: ServerConfig | None = None, db: Database | None = None) -> FastAPI:
    config = config or ServerConfig()
    app = FastAPI(
        title="Clearance disclosure service",
        version=__version__,
        description="Disclose GenAI uses, decide on them, and hand out signed approvals. "
        "Authenticate with `Authorization: Bearer TOKEN`.",
        docs_url=None,  # the interactive docs load scripts from a CDN, which the CSP forbids
        redoc_url=None,
    )
    app.state.config = config
    app.state.db = db or Database(config.db)
    app.state.decider = Decider(config.policy)
    app.state.keyring = KeyRingHolder(config.keys_dir, app.state.db)
    app.state.checkpoint_schedule = checkpoints.Schedule(config.audit_checkpoint_entries,
                                                         config.audit_checkpoint_minutes * 60)
    writer.checkpoint_batches(app.state.db, lambda chain: checkpoints.add_to_chain(
        chain, app.state.keyring.ring(), app.state.checkpoint_schedule))
    app.state.login_throttle = LoginThrottle.from_config(config)
    app.state.auth_failures = FailureLog(config.auth_log_window_seconds)
    database = app.state.db
    app.state.decider.consents = lambda: consents.book_for(database)  # version 2 records: the service's registry

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> Response:
        actor = getattr(request.state, "actor_name", None) or "anonymous"
        if exc.audit:
            await run_in_threadpool(log_refusal, request.app.state.db, actor, exc)
        headers = dict(exc.headers)
        if exc.status == 401:
            headers.setdefault("WWW-Authenticate", "Bearer")
        if _wants_html(request):
            return web.error_page(request, exc.status, exc.message)
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers or None)

    @app.exception_handler(OperationalError)
    async def _database_busy(request: Request, exc: OperationalError) -> Response:
        # A lock wait or statement cut short by the bounded timeouts, or the database unreachable: say so, and
        # when to retry, instead of hanging or answering a bare 500.
        message = "the database is busy or unreachable; retry in a moment"
        headers = {"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)}
        if _wants_html(request):
            page = web.error_page(request, 503, message)
            page.headers["Retry-After"] = headers["Retry-After"]
            return page
        return JSONResponse({"error": message}, status_code=503, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        body = validation_body(exc)
        if _wants_html(request):
            return web.error_page(request, 422, body["error"])
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code
        message = str(exc.detail) if exc.detail else "error"
        headers = dict(exc.headers or {})
        if status == 404:
            message = f"nothing at {request.url.path}"
        elif status == 405:
            allowed = _allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            message = f"{request.method} is not allowed on {request.url.path}: use {' or '.join(allowed)}"
        elif status == 400:
            # FastAPI's answer to a body it cannot decode (not UTF-8, not a form): an invalid body, like bad JSON.
            status = 422
            message = "the body could not be read: send UTF-8 JSON with `Content-Type: application/json`"
        if _wants_html(request):
            return web.error_page(request, status, message)
        body = {"error": message, "field": "(body)"} if status == 422 else {"error": message}
        return JSONResponse(body, status_code=status, headers=headers or None)

    app.include_router(api.router)
    app.include_router(consents.router, dependencies=api.authed)
    app.include_router(web.router)
    app.include_router(packet.router)
    app.include_router(consents.pages)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(LoginGate, throttle=app.state.login_throttle, failures=app.state.auth_failures,
                       db=app.state.db, hold_seconds=config.login_refusal_seconds)
    app.add_middleware(Guard, max_body_bytes=config.max_body_bytes)  # added last: the outermost
    return app


def settle_memory() -> None:
    """After start-up: move everything loaded so far out of the garbage collector's sight, and collect
    less often. A full collection over SQLAlchemy's and pydantic's start-up objects otherwise stalls a
    request now and then (tens of milliseconds on a busy machine): the p99 latency."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def die_with_parent() -> None:
    """A worker process ends when `clearance serve` does, even on kill -9 of the parent (Linux: PR_SET_PDEATHSIG),
    so a restart finds the port free instead of orphaned workers still serving it."""
    import ctypes
    import os
    import signal
    import sys

    from clearance.server.config import PARENT_ENV

    if not sys.platform.startswith("linux"):
        return
    # The parent as `clearance serve` announced it, not as found now: a worker still loading when its parent
    # was killed has already been handed to another process, and would serve the port on for ever.
    announced = os.environ.get(PARENT_ENV, "")
    parent = int(announced) if announced.isdigit() else os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request above took effect
        os.kill(os.getpid(), signal.SIGTERM)


def app_from_env() -> Any:
    """The uvicorn factory for worker processes: settings come from the parent's environment."""
    die_with_parent()
    app = create_app(ServerConfig.from_env_json())
    settle_memory()
    return app
