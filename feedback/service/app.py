"""The app factory: settings in, a Litestar application out."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from litestar import HttpMethod, Litestar, route
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Components, SecurityScheme
from litestar.response import Response
from litestar.types import ASGIApp

from feedback.access.service import KeyCache
from feedback.admin.controllers import ROUTES as ADMIN_ROUTES
from feedback.alerts.repository import AlertRules
from feedback.collection.repository import TouchpointCache
from feedback.service import migrations
from feedback.service.apidocs import JsonDocument, YamlDocument, api_docs, home
from feedback.service.database import create_pool
from feedback.service.dependencies import DEPENDENCIES
from feedback.service.invalidation import InvalidationListener
from feedback.service.logs import configure_logging, request_context, security_headers
from feedback.service.negotiation import acceptable_answers
from feedback.service.openapi import (
    DescribedStructs,
    document_answer_headers,
    document_errors,
    omit_head,
)
from feedback.service.pages import template_config
from feedback.service.parameters import STRICT_QUERIES, strict_queries
from feedback.service.problems import EXCEPTION_HANDLERS
from feedback.service.validation import StrictBodiesRequest, json_bodies
from feedback.settings import Settings, load_settings, log_level_number


class Health(msgspec.Struct):
    """Liveness or readiness."""

    status: str
    detail: str = ""


# HEAD too: uptime monitors often probe with it (the server sends the headers only).
@route("/healthz", http_method=[HttpMethod.GET, HttpMethod.HEAD], summary="Alive", tags=["Operations"],
       cache=False)
async def healthz() -> Health:
    return Health(status="ok")


@route("/readyz", http_method=[HttpMethod.GET, HttpMethod.HEAD],
       summary="Database reachable and migrations current", tags=["Operations"], cache=False,
       responses={503: ResponseSpec(data_container=Health, description=(
           "Not ready: the database is unreachable, or migrations are pending; `detail` says which."))})
async def readyz(state: State) -> Response[Health]:
    try:
        async with state.pool.acquire(timeout=2) as conn:
            waiting = await migrations.pending(conn)
    except Exception as exc:
        return Response(Health(status="unavailable", detail=f"database: {type(exc).__name__}"), status_code=503)
    if waiting:
        names = ", ".join(m.name for m in waiting)
        return Response(Health(status="unavailable", detail=f"pending migrations: {names}"), status_code=503)
    return Response(Health(status="ok"))


def _route_groups() -> Sequence[Any]:
    # Imported here so that feature packages can import the app module without cycles.
    from feedback.routes import ROUTES

    return ROUTES


def _lifespans() -> Sequence[Any]:
    # Feature lifespans run inside the pool's: they start after it and stop before it.
    from feedback.alerts.delivery import alerts_lifespan
    from feedback.collection.retention import retention_lifespan
    from feedback.collection.writer import writer_lifespan
    from feedback.insight.catchup import catchup_lifespan
    from feedback.insight.folding import folding_lifespan

    # The alert worker stops after the writer, which may queue deliveries until it is drained;
    # the rollups' folder too, which folds what the writer wrote.
    return [alerts_lifespan, folding_lifespan, writer_lifespan, retention_lifespan, catchup_lifespan]


def create_app(settings: Settings, database_url: str | None = None) -> Litestar:
    """Build the service; `database_url` overrides the settings' (the CLI resolves the embedded one)."""
    url = database_url or settings.database_url
    if url is None:
        raise RuntimeError("create_app needs a database URL: resolve the embedded server first")

    # Per process; a change anywhere drops their entries at once (the listener), 5 s TTL besides.
    key_cache, touchpoints, alert_rules = KeyCache(), TouchpointCache(ttl=5.0), AlertRules(ttl=5.0)
    listener = InvalidationListener(url, {"key": key_cache, "touchpoint": touchpoints, "alert": alert_rules})

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.pool = await create_pool(url, min_size=2, max_size=20)
        listener.start()
        try:
            yield
        finally:
            await listener.close()
            await app.state.pool.close()

    app = Litestar(
        route_handlers=[healthz, readyz, api_docs, home, *ADMIN_ROUTES, *_route_groups()],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan, *_lifespans()],
        state=State({"settings": settings, "key_cache": key_cache, "touchpoints": touchpoints,
                     "alert_rules": alert_rules, "cache_listener": listener}),
        template_config=template_config(),
        middleware=[request_context, strict_queries, acceptable_answers, json_bodies],
        # A JSON body's numbers and booleans are JSON's own, never text ("85", "true").
        request_class=StrictBodiesRequest,
        # Before Litestar's own struct plugin, which leaves docstrings out of the document.
        plugins=[DescribedStructs()],
        before_send=[security_headers],
        request_max_body_size=2 * 1024 * 1024,
        openapi_config=OpenAPIConfig(
            title="Touchpulse",
            version="1",
            description=(
                "Touchpoint-triggered micro-surveys: configure journeys and touchpoints, trigger "
                "invitations, collect answers, and pull scores, pain points and positive moments. "
                "Send API keys as `Authorization: Bearer <key>`. Errors are RFC 9457 problem details. "
                + STRICT_QUERIES + " Every GET also answers HEAD."
            ),
            path="/schema",
            # The document only: Litestar's own viewer pages load scripts from CDNs, which the
            # Content-Security-Policy forbids; /docs is the reference page. Both answer HEAD.
            render_plugins=[JsonDocument(), YamlDocument()],
            components=Components(
                security_schemes={"BearerAuth": SecurityScheme(type="http", scheme="bearer")}
            ),
        ),
        # Logging is set up once by configure_logging: JSON lines, not Litestar's default.
        logging_config=None,
        debug=False,
    )
    document_errors(app.openapi_schema)
    document_answer_headers(app)
    omit_head(app.openapi_schema)
    return app


def served(app: Litestar) -> ASGIApp:
    """What the server runs: the app behind the ingest lane's front door (an ordinary answer
    skips the framework's stack; feedback/collection/lane.py)."""
    from feedback.collection.lane import front_door

    return front_door(app)


def app_from_env() -> ASGIApp:
    """Entry point for uvicorn workers: settings from the environment, the URL the CLI resolved."""
    settings = load_settings()
    configure_logging(log_level_number(settings))
    return served(create_app(settings, os.environ.get("TOUCHPULSE_RESOLVED_DATABASE_URL")))

