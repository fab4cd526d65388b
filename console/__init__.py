"""The web console: the fund manager's, the regulator's and a bank's pages, served by the API's own
process at `/`, in Chinese (default) and English, working offline (every script and style sheet is
served from `console/static/`).

Pages are rendered on the server (Jinja2), read without JavaScript, and use htmx for partial
updates and ECharts for charts (drawn from the tables they replace). Every page asks the API for
what it shows, in-process and as the signed-in principal (console/client.py): access, the rules and
the refusals are the API's.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console import i18n
from console.client import Refused, TooMany
from console.errors import explain
from console.i18n import _
from console.session import LANGUAGE_COOKIE, SESSION_COOKIE, Sessions
from console.web import CsrfRefused, SignInNeeded, here, page, sessions

STATIC = Path(__file__).parent / "static"
# Every page and answer of the process: scripts, styles, images and fonts only from this origin, no
# inline script or style, no plugin, no framing, forms only to this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


def install(app: FastAPI) -> None:
    """Adds the console's pages, its static files and its error pages to the API's application."""
    from console.pages import routers

    app.state.console_sessions = Sessions(idle_seconds=app.state.system.settings.console_idle_seconds)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in routers():
        app.include_router(router)

    api_http = app.exception_handlers[HTTPException]
    api_crashed = app.exception_handlers[Exception]

    @app.exception_handler(Exception)
    async def crashed(request: Request, error: Exception) -> Response:
        answer = await api_crashed(request, error)  # logs it
        return answer if request.url.path.startswith("/v1/") else crashed_page(request)

    @app.exception_handler(HTTPException)
    async def http(request: Request, error: HTTPException) -> Response:
        """Outside the API (`/v1/…`), a page the browser asked for that is not there is a page
        saying so, in the user's language; the API's answers stay problem documents."""
        if request.url.path.startswith("/v1/") or error.status_code not in (404, 405):
            return await api_http(request, error)
        return page(
            request,
            "error.html",
            session=sessions(request).find(request.cookies.get(SESSION_COOKIE)),
            title=_("Not found"),
            message=explain("not_found", ""),
            status=error.status_code,
        )

    @app.exception_handler(SignInNeeded)
    async def sign_in_needed(request: Request, error: SignInNeeded) -> Response:
        from console.web import redirect

        if request.method == "GET":
            response: Response = redirect(f"/sign-in?next={_quoted(here(request))}")
        else:
            response = page(
                request,
                "error.html",
                session=None,
                title=_("Signed out"),
                message=_("Your session has ended: sign in again."),
                status=401,
            )
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.exception_handler(TooMany)
    async def too_many(request: Request, error: TooMany) -> Response:
        return page(
            request,
            "error.html",
            session=sessions(request).find(request.cookies.get(SESSION_COOKIE)),
            title=_("Refused"),
            message=_("More than %(most)s rows: narrow the filter and try again.")
            % {"most": f"{error.most:,}"},
            code="too_many_rows",
            status=422,
        )

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, error: CsrfRefused) -> Response:
        return page(
            request,
            "error.html",
            session=sessions(request).find(request.cookies.get(SESSION_COOKIE)),
            title=_("Refused"),
            message=_("This form did not come from this console (its security token is missing or wrong)."),
            status=403,
        )

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> Response:
        """A read the API refused: its code and sentence on a page in the user's language (a key
        revoked since sign-in ends the session)."""
        session = sessions(request).find(request.cookies.get(SESSION_COOKIE))
        if error.status == 401:
            sessions(request).close(request.cookies.get(SESSION_COOKIE))
            return await sign_in_needed(request, SignInNeeded())
        return page(
            request,
            "error.html",
            session=session,
            title=_("Refused") if error.status < 500 else _("Error"),
            message=explain(error.code, error.detail),
            code=error.code,
            status=error.status,
        )


def crashed_page(request: Request) -> Response:
    """An unexpected error on a console page: a page saying so in the user's language (it has been
    logged by the API's handler), never the API's JSON."""
    return page(
        request,
        "error.html",
        session=sessions(request).find(request.cookies.get(SESSION_COOKIE)),
        title=_("Error"),
        message=explain("internal_error", ""),
        code="internal_error",
        status=500,
    )


def too_large(scope: Scope, limit: int) -> bytes:
    """The page answering a form whose body is above its limit (api/app.py, BoundedBodies)."""
    request = Request(scope)
    return page(
        request,
        "error.html",
        session=sessions(request).find(request.cookies.get(SESSION_COOKIE)),
        title=_("Refused"),
        message=explain("payload_too_large", f"above {limit:,} bytes"),
        code="payload_too_large",
        status=413,
    ).body


def _quoted(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


class ConsoleLayer:
    """The outermost layer of the process: sets the console's language for the request (from its
    cookie) and adds the security headers to every answer, the API's included; every answer but a
    static file is `no-store` (a shared office computer keeps no borrower or figure in its cache,
    and Back after sign-out shows nothing)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = i18n.language.set(i18n.chosen(_cookie(scope, LANGUAGE_COOKIE)))

        static = scope["path"].startswith("/static/")

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), *SECURITY_HEADERS]
                if not static:  # a page, a download or an answer of the API: never kept by a browser
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, secured)
        finally:
            i18n.language.reset(token)


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _sep, v = part.strip().partition("=")
                if k == name:
                    return v
    return None
