"""The console's one way into the ledger: the API itself, called in-process.

A console page asks the API (`/v1/…`) for what it shows and sends it what the user submits, through
the same ASGI application a bank's system reaches over HTTP, as the signed-in principal: the same
routes, validation, roles, party scoping, maker-checker, idempotency and problem answers. Nothing
about access or the rules is decided in the console. The principal travels in the request's ASGI
scope (api/deps.py, CONSOLE_PRINCIPAL), which no HTTP request from outside can set.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import CONSOLE_PRINCIPAL
from console.session import Session
from projections.model import PAGE_ITEMS_MAX

TIMEOUT_SECONDS = 60.0
ROWS_MAX = 100_000  # the most rows a list gathered for one page or download holds
STREAM_CHUNKS_QUEUED = 8  # how far a streamed answer may run ahead of its reader


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


class TooMany(Exception):
    """More rows than a page or a download holds: the user is asked to narrow the filter."""

    def __init__(self, most: int) -> None:
        super().__init__(f"more than {most:,} rows")
        self.most = most


@dataclass
class Answer:
    status: int
    headers: httpx.Headers
    content: bytes

    def json(self) -> Any:
        return orjson.loads(self.content) if self.content else None


@dataclass
class Streamed:
    status: int
    headers: httpx.Headers
    body: AsyncIterator[bytes]


def _path_only(path: str) -> None:
    """A path of the API as the console builds it, ids from the page's own URL in it: one that
    would carry a query or a fragment (an id with `?` or `#` in it) names nothing."""
    if "?" in path or "#" in path:
        raise Refused(404, {"code": "not_found", "detail": "no such page"})


class Api:
    """The API, called as one session's principal, within one console request."""

    def __init__(self, app: ASGIApp, session: Session, request_id: str) -> None:
        self._session = session
        self._app = app
        self._request_id = request_id

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
        _path_only(path)
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

    async def stream(self, path: str, *, params: dict[str, Any] | None = None) -> Streamed:
        """A GET whose body is passed on as it comes (an export: never whole in memory): the API
        application called directly, its body chunks handed over through a small queue, so a slow
        reader holds the API back rather than the body piling up. `Refused` for a 4xx or 5xx."""
        _path_only(path)
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": urlencode(clean).encode(),
            "root_path": "",
            "headers": [(b"host", b"console.internal"), (b"x-request-id", self._request_id.encode())],
            "client": ("127.0.0.1", 0),
            "server": ("console.internal", 80),
            "state": {CONSOLE_PRINCIPAL: self._session.presented},
        }
        messages: asyncio.Queue[Message] = asyncio.Queue(maxsize=STREAM_CHUNKS_QUEUED)
        asked = False

        async def receive() -> Message:
            nonlocal asked
            if not asked:
                asked = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.Event().wait()  # the console's own client never goes away mid-request
            raise AssertionError("unreachable")

        running = asyncio.create_task(self._app(scope, receive, messages.put))
        start = await messages.get()
        status = start["status"]
        headers = httpx.Headers([(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]])

        async def body() -> AsyncIterator[bytes]:
            try:
                while True:
                    message = await messages.get()
                    yield message.get("body", b"")
                    if not message.get("more_body", False):
                        break
                await running
            finally:
                running.cancel()

        if status >= 400:
            content = b"".join([chunk async for chunk in body()])
            try:
                problem = orjson.loads(content)
            except orjson.JSONDecodeError:
                problem = {"code": "internal_error", "detail": content[:200].decode("utf-8", "replace")}
            raise Refused(status, problem if isinstance(problem, dict) else {})
        return Streamed(status, headers, body())

    async def get(self, path: str, **params: Any) -> Any:
        return (await self.call("GET", path, params=params)).json()

    async def post(self, path: str, body: Any, *, idempotency_key: str | None = None) -> Any:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return (await self.call("POST", path, json=body, headers=headers)).json()

    async def put(self, path: str, body: Any, *, idempotency_key: str | None = None) -> Any:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return (await self.call("PUT", path, json=body, headers=headers)).json()

    async def pages(
        self, path: str, *, limit: int = PAGE_ITEMS_MAX, most: int = ROWS_MAX, **params: Any
    ) -> list[Any]:
        """Every item of a paged list (following `next_cursor`); `TooMany` rather than a list cut
        short when there are more than `most`."""
        items: list[Any] = []
        cursor = None
        while True:
            page = await self.get(path, limit=limit, cursor=cursor, **params)
            items.extend(page["items"])
            if len(items) > most:
                raise TooMany(most)
            cursor = page.get("next_cursor")
            if not cursor:
                return items
