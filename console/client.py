"""The console's one way into the ledger: the API itself, called in-process.

A console page asks the API (`/v1/…`) for what it shows and sends it what the user submits, through
the same ASGI application a bank's system reaches over HTTP, as the signed-in principal: the same
routes, validation, roles, party scoping, maker-checker, idempotency and problem answers. Nothing
about access or the rules is decided in the console. The principal travels in the request's ASGI
scope (api/deps.py, CONSOLE_PRINCIPAL), which no HTTP request from outside can set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import CONSOLE_PRINCIPAL
from console.session import Session

TIMEOUT_SECONDS = 60.0


@dataclass
class Refused(Exception):
    """An API answer of 4xx or 5xx: its problem document (code, detail, figures, field errors)."""

    status: int
    problem: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return str(self.problem.get("code", "internal_error"))

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail", ""))

    def field_errors(self) -> dict[str, str]:
        """Each bad field's message, by the field's name in the request body ("body.claimed" →
        "claimed"; a query parameter by its own name)."""
        found: dict[str, str] = {}
        for error in self.problem.get("errors") or []:
            path = str(error.get("field", ""))
            name = path.split(".", 1)[1] if path.startswith(("body.", "query.")) else path
            found.setdefault(name.split(".")[0], str(error.get("message", "")))
        return found


@dataclass
class Answer:
    status: int
    headers: httpx.Headers
    content: bytes

    def json(self) -> Any:
        return orjson.loads(self.content) if self.content else None


class Api:
    """The API, called as one session's principal, within one console request."""

    def __init__(self, app: ASGIApp, session: Session, request_id: str) -> None:
        self._session = session

        async def as_principal(scope: Scope, receive: Receive, send: Send) -> None:
            scope.setdefault("state", {})[CONSOLE_PRINCIPAL] = session.presented
            await app(scope, receive, send)

        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=as_principal),
            base_url="http://console.internal",
            headers={"X-Request-Id": request_id},
            timeout=TIMEOUT_SECONDS,
        )

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        files: dict[str, Any] | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """The API's answer; `Refused` for a 4xx or 5xx."""
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        body = orjson.dumps(json) if json is not None else content
        sent = dict(headers or {})
        if json is not None:
            sent["Content-Type"] = "application/json"
        answer = await self._client.request(
            method, path, params=clean, content=body, files=files, headers=sent
        )
        if answer.status_code >= 400:
            try:
                problem = answer.json()
            except ValueError:
                problem = {"code": "internal_error", "detail": answer.text[:200]}
            raise Refused(answer.status_code, problem if isinstance(problem, dict) else {})
        return Answer(answer.status_code, answer.headers, answer.content)

    async def get(self, path: str, **params: Any) -> Any:
        return (await self.call("GET", path, params=params)).json()

    async def post(self, path: str, body: Any, *, idempotency_key: str | None = None) -> Any:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return (await self.call("POST", path, json=body, headers=headers)).json()

    async def put(self, path: str, body: Any, *, idempotency_key: str | None = None) -> Any:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return (await self.call("PUT", path, json=body, headers=headers)).json()

    async def pages(self, path: str, *, limit: int = 500, most: int = 100_000, **params: Any) -> list[Any]:
        """Every item of a paged list (following `next_cursor`), up to `most` items."""
        items: list[Any] = []
        cursor = None
        while True:
            page = await self.get(path, limit=limit, cursor=cursor, **params)
            items.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor or len(items) >= most:
                return items[:most]
