"""The FastAPI application: routers, the problem+json error switch, bounded bodies, request ids."""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import console
from api import errors, openapi
from api.routes import audit, claims, health, loans, parties, reports, schemes
from ledger.tape import TAPE_BYTES_MAX
from riskpool.bootstrap import System

BODY_BYTES_MAX = 1024 * 1024
# A caller's X-Request-Id is recorded on every event its request causes: one that is not made of these
# characters (no control, bidirectional or invisible characters, nothing a log or a spreadsheet would
# misread) is replaced by a new id, as if none had been sent.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")
log = logging.getLogger("riskpool.access")


def new_request_id() -> str:
    """128 random bits in hex, like a UUID4's: an id to correlate by, not a secret, so drawn from
    `random` rather than the operating system (whose call hands the interpreter to a busy
    thread and waits up to a switch interval to get it back: a third of a millisecond a request
    under load, measured)."""
    return f"{random.getrandbits(128):032x}"


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

* **Authentication**: every route but `/v1/health` and `/v1/audit/public-key` needs
  `Authorization: Bearer rpk_…` (the `bearer` security scheme); keys are created with
  `riskpool keys create --role … [--party …] --name "…"`. A key's role decides what it may do: a
  bank acts on and sees its own loans only, a regulator reads everything and writes nothing, a fund
  manager reviews claims (maker-checker uses the key's principal). A bank, guarantor or insurer sees
  no scheme-wide figure (a scheme's `exposure` and `paid_in` are null); a government key sees loans
  without their borrower (`borrower_name` and `borrower_uscc` are null).
* **Amounts** are yuan strings: at most two decimals in a request (`"1234567.89"`), exactly two in
  an answer (negative where a balance can be). Dates are business dates `YYYY-MM-DD`
  (Asia/Shanghai); instants are ISO 8601 with their offset.
* **Idempotency**: send `Idempotency-Key` on a write; a repeat with the same body gets the original
  answer (header `Idempotent-Replayed: true`) and records nothing; another body is `409`.
* **Concurrency**: send the `ETag` you read as `If-Match` on a write; `409 version_conflict` if it moved.
* **Errors** are `application/problem+json` (RFC 9457, the `Problem` schema) with the rule book's
  `code`, a sentence naming the offending value, the figures involved and, for a malformed body,
  every bad field. Every answer carries `X-Request-Id` (send your own, 1-100 of `A-Z a-z 0-9 . _ : -`,
  to correlate; any other is replaced by a new id).
* **Text** (names, reasons, tape cells) is plain text: no control, line-separator or bidirectional-
  override characters, not only invisible characters, not starting like a spreadsheet formula
  (`=`, `+`, `-`, `@`); anything else is `422 invalid_request` naming the field.
* **Read-your-writes**: every write answers with the log `position` it wrote; pass it to a report as
  `after_position`. Reports take `as_of_date` or `as_of_position` for the past.
"""


TAGS = [
    {"name": "loans", "description": "A bank's loans: enrolment (one, or a monthly tape) and their facts"},
    {"name": "claims", "description": "Compensation claims: filing, review, settlement and recoveries"},
    {"name": "reports", "description": "The read models of the rule book, now or as of a date or position"},
    {"name": "schemes", "description": "Schemes, members, rule versions, contributions, breakers, reversals"},
    {"name": "parties", "description": "The parties: government funds, banks, guarantors, insurers"},
    {"name": "audit", "description": "The complete history, signed tree heads and proofs (regulators)"},
    {"name": "health", "description": "Liveness and how far the read models have read the log"},
]


def operation_id(route: APIRoute) -> str:
    """A route's operationId is its function's name (`file_claim`, `get_owed_report`): short,
    readable, and stable (tests/api/test_openapi_contract.py pins the list)."""
    return route.name


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
        docs_url=None,  # the console serves /docs from its own files (console/pages/docs.py)
        redoc_url=None,
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id,
    )
    app.state.system = system
    errors.install(app)
    # FastAPI tries the routes in order, and an included router's twice (to choose it, then to
    # route within it): the routes the banks' systems call most, filing and reading claims and
    # loans, come first, before the fund manager's and the regulator's. No two paths overlap, so
    # the order changes only how soon a request finds its route (a claim filed after 4 tries
    # rather than 30: a tenth of a millisecond a request; BENCHMARKS.md, 4).
    for module in (health, claims, loans, reports, schemes, parties, audit):
        app.include_router(module.router)

    console.install(app)
    app.add_middleware(BoundedBodies)
    app.add_middleware(RequestIds)
    app.add_middleware(console.ConsoleLayer)
    app.openapi = lambda: openapi.document(app)  # type: ignore[method-assign]
    return app


class RequestIds:
    """Gives every request an id (the caller's `X-Request-Id` when well formed, else a new one),
    answers with it, and logs every refusal. Plain ASGI: no task or stream per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode("latin-1")
        request_id = sent if sent and REQUEST_ID.fullmatch(sent) else new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        status = 0

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
            await send(message)

        await self.app(scope, receive, answer)
        if status >= 400:
            log_refusal(Request(scope), status)


# A loan tape reaches the ledger as the API's body or as the console's upload form (the tape and the
# form's few small fields): both may be as large as the largest tape.
FORM_BYTES_MAX = 64 * 1024  # what a form adds to the file it carries


def body_limit(path: str) -> int:
    if path.endswith("/loan-tapes"):
        return TAPE_BYTES_MAX
    if path.endswith("/tapes"):
        return TAPE_BYTES_MAX + FORM_BYTES_MAX
    return BODY_BYTES_MAX


class BoundedBodies:
    """Refuses a request body above its limit (1 MiB, 64 MiB for a loan tape) with 413
    `payload_too_large`: at once when its Content-Length says so, and otherwise (a chunked body) as
    soon as the chunks read pass the limit. The body is read whole before the app sees the request,
    which then gets it as one message: no route ever starts on a body that turns out too large."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(scope, send, limit)
            return
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away before the body ended
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                await _too_large(scope, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body: Message | None = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        del chunks

        async def buffered() -> Message:
            nonlocal body
            if body is not None:
                message, body = body, None
                return message
            return await receive()  # after the body: the disconnect, when it comes

        await self.app(scope, buffered, send)


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    if not scope["path"].startswith("/v1/"):  # a console page: a page saying so, in the user's language
        page = console.too_large(scope, limit)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(page)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": page})
        return
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
