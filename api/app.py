"""The FastAPI application: routers, the problem+json error switch, bounded bodies, request ids."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors
from api.routes import audit, claims, health, loans, parties, reports, schemes
from riskpool.bootstrap import System

BODY_BYTES_MAX = 1024 * 1024
TAPE_BYTES_MAX = 64 * 1024 * 1024
log = logging.getLogger("riskpool.access")


def log_refusal(request: Request, status: int) -> None:
    """One structured line per refused request: who tried what, and why it was refused. Refusals
    leave no trace in the ledger; they are here. No secret is logged (never the Authorization)."""
    actor = getattr(request.state, "actor", None)
    log.info(
        "refused",
        extra={
            "fields": {
                "request_id": request.state.request_id,
                "method": request.method,
                "path": request.url.path,
                "status": status,
                "code": getattr(request.state, "code", ""),
                "principal_id": actor.principal_id if actor else None,
                "role": actor.role.value if actor else None,
                "party_id": actor.party_id if actor else None,
                "client": request.client.host if request.client else None,
            }
        },
    )


DESCRIPTION = """
The HTTP API of **riskpool-ledger**, an event-sourced ledger for loan risk-sharing pools.

* **Authentication**: every route but `/v1/health` needs `Authorization: Bearer rpk_…`; keys are
  created with `riskpool keys create --role … [--party …] --name "…"`. A key's role decides what it
  may do (rules.md §2): a bank acts on and sees its own loans only, a regulator reads everything and
  writes nothing, a fund manager reviews claims (maker-checker uses the key's principal).
* **Amounts** are yuan strings with at most two decimals (`"1234567.89"`); dates are business dates
  `YYYY-MM-DD` (Asia/Shanghai).
* **Idempotency**: send `Idempotency-Key` on a write; a repeat with the same body gets the original
  answer (header `Idempotent-Replayed: true`) and records nothing; another body is `409`.
* **Concurrency**: send the `ETag` you read as `If-Match` on a write; `409 version_conflict` if it moved.
* **Errors** are `application/problem+json` (RFC 9457) with the rule book's `code`, a sentence naming
  the offending value, and the figures involved.
* **Read-your-writes**: every write answers with the log `position` it wrote; pass it to a report as
  `after_position`. Reports take `as_of_date` or `as_of_position` for the past.
"""


def create_app(system: System, *, follow: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if follow:
            system.runner.start()
        yield
        if follow:
            system.runner.stop()

    app = FastAPI(
        title="riskpool-ledger",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/v1/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.system = system
    errors.install(app)
    for module in (health, parties, schemes, loans, claims, reports, audit):
        app.include_router(module.router)

    @app.middleware("http")
    async def request_id(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.request_id = request.headers.get("X-Request-Id", "")[:100] or uuid.uuid4().hex
        response = await call_next(request)
        response.headers["X-Request-Id"] = request.state.request_id
        if response.status_code >= 400:
            log_refusal(request, response.status_code)
        return response

    app.add_middleware(BoundedBodies)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict:
    """The generated document, without component schemas that nothing refers to."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = document.get("components", {}).get("schemas", {})
        text = json.dumps({k: v for k, v in document.items() if k != "components"})
        while True:
            used = {name for name in schemas if f'"#/components/schemas/{name}"' in text}
            if used == set(schemas):
                break
            for name in set(schemas) - used:
                del schemas[name]
            text = json.dumps({k: v for k, v in document.items() if k != "components"} | {"s": schemas})
        app.openapi_schema = document
    return app.openapi_schema


class BoundedBodies:
    """Refuses a request body above its limit before reading it all: 1 MiB, 64 MiB for a loan tape."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = TAPE_BYTES_MAX if scope["path"].endswith("/loan-tapes") else BODY_BYTES_MAX
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(scope, send, limit)
            return
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
            return message

        try:
            await self.app(scope, bounded, send)
        except BodyTooLarge:
            await _too_large(scope, send, limit)


class BodyTooLarge(Exception):
    pass


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "type": "https://riskpool-ledger.dev/errors/payload_too_large",
            "title": "payload too large",
            "status": 413,
            "code": "payload_too_large",
            "detail": f"the request body is above {limit} bytes",
            "instance": scope["path"],
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
