"""Dependencies of the routes, as `Annotated` aliases: the system, the principal, and the
options of a write (idempotency, expected version) or a read (as of, after a position)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from api.schemas.common import CURSOR_CHARS_MAX, PAGE_ITEMS_MAX, POSITION_MAX, Day, Written
from ledger.actors import Actor
from ledger.calendar import today_in_china
from ledger.commands import Command
from ledger.errors import InvalidRequest
from ledger.service import Call, Ledger, Receipt
from ledger.service.keys import Presented
from projections.replay import as_of
from riskpool.bootstrap import System

WAIT_SECONDS_MAX = 10.0
JSON = "application/json"
# The key of the ASGI scope's state under which a console page's in-process call to the API carries
# its session's principal (console/client.py). Only code in this process can put an object in a
# request's scope: an HTTP request from outside sets headers and a body, never this.
CONSOLE_PRINCIPAL = "riskpool.console_principal"


async def system(request: Request) -> System:
    return request.app.state.system


SystemDep = Annotated[System, Depends(system)]


# The `bearer` security scheme of the document. It never refuses by itself (auto_error=False): the
# ledger decides, so that every refusal is the same 401 problem.
bearer = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="rpk_…",
    description="an API key made by `riskpool keys create`, sent as `Authorization: Bearer rpk_…`",
    auto_error=False,
)


async def presented(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Presented:
    """The principal of the bearer token, recognised from memory on the event loop when its key
    matched before (its credential is then confirmed by the read or the command, off the loop);
    otherwise authenticated against the store in a worker thread."""
    request_id = request.state.request_id
    session = request.scope["state"].get(CONSOLE_PRINCIPAL)
    if session is not None:  # a console page's in-process call (console/client.py); never from outside
        request.state.actor = session.actor
        return Presented(replace(session.actor, request_id=request_id), session.credential)
    token = credentials.credentials if credentials is not None else None
    ledger = request.app.state.system.ledger  # not a dependency: each costs a write a few µs
    found = ledger.recognise(token, request_id=request_id)
    if found is None:
        found = Presented(await run_in_threadpool(ledger.authenticate, token, request_id=request_id), None)
    request.state.actor = found.actor  # for the access log
    return found


PresentedKey = Annotated[Presented, Depends(presented)]


def principal(system: SystemDep, presented: PresentedKey) -> Actor:
    """The principal of the bearer token, its key confirmed against the store."""
    return system.ledger.confirm(presented)


Principal = Annotated[Actor, Depends(principal)]


@dataclass
class Write:
    """A write request: the ledger, and the `Call` its command runs with (the principal, the
    idempotency key and what it stands for, the version the caller read)."""

    ledger: Ledger
    call: Call

    @property
    def actor(self) -> Actor:
        return self.call.actor

    def confirm(self) -> None:
        """Refuse now (`unauthenticated`) if the caller's key no longer stands: one indexed read,
        for a request whose work before its command is large (a tape is read first)."""
        self.ledger.confirm(Presented(self.call.actor, self.call.credential))

    async def handle(self, command: Command) -> Receipt:
        """Run the command (ledger/service/pipeline.py), waiting for its answer without holding
        a thread."""
        return await self.ledger.submit(command, self.call)

    def answer(self, receipt: Receipt, links: dict[str, str], *, status: int = 201) -> Response:
        body = Written(
            position=receipt.position,
            fact_id=receipt.fact_id,
            claim_id=receipt.claim_id,
            status=receipt.status,
            tripped=list(receipt.tripped),
            details=dict(receipt.details),
            links=links,
        )
        headers = {"Location": next(iter(links.values()))} if links else {}
        if receipt.replayed:
            headers["Idempotent-Replayed"] = "true"
        # Printed by pydantic in compiled code: the same compact UTF-8 JSON a JSONResponse prints.
        return Response(body.model_dump_json(), status_code=status, headers=headers, media_type=JSON)


async def write(
    request: Request,
    presented: PresentedKey,
    idempotency_key: Annotated[
        str | None,
        Header(
            description="repeat a write safely: same key, same body "
            "→ the original answer; different body → 409"
        ),
    ] = None,
    if_match: Annotated[
        str | None, Header(description="the version you read (ETag); 409 if it moved")
    ] = None,
) -> Write:
    body = await request.body()
    call = Call(
        presented.actor,
        idempotency_key,
        fingerprint(request, body),
        _version(if_match),
        credential=presented.credential,  # confirmed by the command, before its facts are saved
    )
    return Write(request.app.state.system.ledger, call)


def fingerprint(request: Request, content: bytes) -> str:
    """What an Idempotency-Key stands for: the method, the path and the content sent."""
    return hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + content).hexdigest()


WriteCall = Annotated[Write, Depends(write)]


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not (tag.isascii() and tag.isdigit()) or len(tag) > 12:
        raise InvalidRequest(
            f'If-Match {if_match!r} is not a version this API gave out (an ETag such as "7")'
        )
    return int(tag)


@dataclass
class Read:
    """A read: the principal, and the read models to ask — live, or as of a date or position."""

    actor: Actor
    engine: Engine
    today: date
    historical: bool


AfterPosition = Annotated[
    int | None,
    Query(
        ge=0,
        le=POSITION_MAX,
        description="wait (up to 10 s) until the read models have applied this position",
    ),
]


def read(
    system: SystemDep,
    presented: PresentedKey,
    as_of_date: Annotated[Day | None, Query(description="as the ledger stood on this business date")] = None,
    as_of_position: Annotated[
        int | None, Query(ge=0, le=POSITION_MAX, description="as the ledger stood at this log position")
    ] = None,
    after_position: AfterPosition = None,
) -> Iterator[Read]:
    actor = system.ledger.confirm(presented)
    if as_of_date is not None or as_of_position is not None:
        engine = as_of(system.ledger, position=as_of_position, business_date=as_of_date)
        try:
            yield Read(actor, engine, as_of_date or today_in_china(), True)
        finally:
            engine.dispose()
        return
    _wait_for(system, after_position)
    system.runner.require_current()
    yield Read(actor, system.store.engine, today_in_china(), False)


ReadCall = Annotated[Read, Depends(read)]

Limit = Annotated[
    int, Query(ge=1, le=PAGE_ITEMS_MAX, description=f"at most this many items (≤ {PAGE_ITEMS_MAX})")
]
Cursor = Annotated[
    str | None, Query(max_length=CURSOR_CHARS_MAX, description="the next_cursor of the previous page")
]


def caught_up(
    system: SystemDep,
    after_position: AfterPosition = None,
) -> None:
    _wait_for(system, after_position)
    system.runner.require_current()


def _wait_for(system: System, position: int | None) -> None:
    """Read-your-writes: wait until the read models have applied a position the log has."""
    if position is None:
        return
    end = system.ledger.recorder.max_notification_id() or 0
    if position > end:
        raise InvalidRequest(
            f"after_position {position} is beyond the end of the log ({end})", field="after_position"
        )
    system.runner.wait_for(position, timeout=WAIT_SECONDS_MAX)


CaughtUp = Annotated[None, Depends(caught_up)]
