"""The FastAPI application: routers, error handling, metrics, the dashboard.

:func:`create_app` builds an app; its lifespan makes the :class:`Service` (ledger,
chain refresher, pre-serialised proofs) from :func:`get_settings` — or from whatever
``app.dependency_overrides[get_settings]`` says, so tests set everything there. Every
error a client sees is ``{"detail": "<plain sentence>"}``; an unexpected exception is a
500 with no trace (the trace goes to the log).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from livepool.api.routes import epochs, health, ingest, miners, pool
from livepool.api.service import Service
from livepool.config import Settings, get_settings
from livepool.errors import LedgerError, LivepoolError
from livepool.ledger import Ledger

__all__ = ["create_app"]

log = structlog.get_logger("livepool.api")

NOT_BUILT = (
    "<!doctype html><html><head><title>Livepool</title></head><body>"
    "<h1>Livepool</h1><p>dashboard not built: run make setup</p>"
    '<p>The API is up: see <a href="/docs">/docs</a>.</p></body></html>'
)


class GuardMiddleware:
    """Refuses oversized or non-JSON write bodies up front (413, 415) and times every
    request for ``/metrics`` (a plain ASGI middleware: cheaper than ``BaseHTTPMiddleware``)."""

    def __init__(self, app: ASGIApp, service_app: FastAPI) -> None:
        self.app = app
        self.service_app = service_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        service: Service | None = getattr(self.service_app.state, "service", None)
        if scope["method"] in ("POST", "PUT", "PATCH") and service is not None:
            problem = _check_body(scope, service.settings.max_body_bytes)
            if problem is not None:
                await problem(scope, receive, send)
                return
        start = time.perf_counter()
        status = [500]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if service is not None:
                route = scope.get("route")
                path = getattr(route, "path", None) or "other"
                service.metrics.latency.labels(path, f"{status[0] // 100}xx").observe(
                    time.perf_counter() - start
                )


def _check_body(scope: Scope, limit: int) -> Response | None:
    headers = dict(scope["headers"])
    media = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
    if media != b"application/json":
        shown = media.decode("latin-1") or "none"
        return JSONResponse(
            {"detail": f"content type must be application/json, not {shown!r}"}, 415
        )
    length = headers.get(b"content-length", b"")
    if length.isdigit() and int(length) > limit:
        return JSONResponse({"detail": f"body over {limit} bytes"}, 413)
    return None


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "path", "query"))
        parts.append(f"{where or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def create_app(ledger: Ledger | None = None) -> FastAPI:
    """A new app; ``ledger`` (tests) replaces the one the settings describe."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings: Settings = app.dependency_overrides.get(get_settings, get_settings)()
        service = Service(settings, ledger)
        app.state.service = service
        if not service.chain.enabled:  # off-chain: the ledger alone names the epoch, now
            service.chain.refresh_once()
        service.start()  # then every chain_refresh_seconds (new roots, new closed epochs)
        try:  # so that no request of a busy worker waits for the first pool view
            pool.pool_bytes(service, int(time.time()))
        except LivepoolError as exc:
            log.warning("pool view not warmed", error=str(exc))
        web = settings.web_dir
        if web.is_dir():
            app.mount("/", StaticFiles(directory=web, html=True), name="dashboard")
        try:
            yield
        finally:
            service.chain.stop()
            if ledger is None:
                service.ledger.close()

    app = FastAPI(
        title="Livepool",
        version="1",
        summary="Proofs, statements, stats and authenticated ingest of a Livepeer pool.",
        lifespan=lifespan,
    )
    # The proof route is matched first: routing tries routes in order.
    for router in (miners.router, health.router, pool.router, epochs.router, ingest.router):
        app.include_router(router)

    @app.get(
        "/metrics",
        response_class=Response,
        tags=["health"],
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    def metrics(request: Request) -> Response:
        """Prometheus metrics of this process."""
        service: Service = request.app.state.service
        state = service.state
        if state.updated_at is not None:
            service.metrics.chain_age.set(time.time() - state.updated_at)
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def dashboard(request: Request) -> Response:
        """The dashboard's page, or a note saying it was not built."""
        index = request.app.state.service.settings.web_dir / "index.html"
        if index.is_file():
            return FileResponse(index)
        return HTMLResponse(NOT_BUILT)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 304:
            return Response(status_code=304, headers=exc.headers)
        if exc.status_code == 400:  # FastAPI's "error parsing the body": malformed input
            return JSONResponse({"detail": "body: not valid JSON"}, 422)
        return JSONResponse({"detail": str(exc.detail)}, exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse({"detail": _validation_detail(exc)}, 422)

    @app.exception_handler(LedgerError)
    async def ledger_error(request: Request, exc: LedgerError) -> Response:
        log.warning("ledger error", path=request.url.path, error=str(exc))
        return JSONResponse({"detail": "the ledger cannot be read right now"}, 503)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        log.error("unexpected error", path=request.url.path, exc_info=exc)
        return JSONResponse({"detail": "internal error"}, 500)

    app.add_middleware(GuardMiddleware, service_app=app)
    return app


def _factory() -> Any:
    """``uvicorn --factory livepool.api.app:_factory`` (what ``livepool serve`` runs)."""
    return create_app()
