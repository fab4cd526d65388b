"""Signing in and out, the language, and the first page: the schemes the principal may see."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from console import i18n
from console.i18n import _
from console.session import SESSION_COOKIE, SIGN_IN_COOKIE
from console.web import (
    CsrfRefused,
    SessionDep,
    api,
    local_path,
    page,
    redirect,
    secure,
    sessions,
    set_language,
)
from ledger.errors import LedgerError

router = APIRouter(include_in_schema=False)
SIGN_IN_SECONDS = 15 * 60  # how long a sign-in form's token stands


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request, next: str = "/") -> Response:
    return _sign_in_page(request, local_path(next), error=None)


def _sign_in_page(request: Request, next_path: str, *, error: str | None, status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = page(
        request,
        "entry/sign_in.html",
        session=None,
        title=_("Sign in"),
        next_path=next_path,
        sign_in_token=token,
        error=error,
        status=status,
    )
    response.set_cookie(
        SIGN_IN_COOKIE,
        token,
        max_age=SIGN_IN_SECONDS,
        httponly=True,
        samesite="strict",
        secure=secure(request),
        path="/sign-in",
    )
    return response


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    key: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not csrf or not hmac.compare_digest(expected.encode(), csrf.encode()):
        return _sign_in_page(
            request, local_path(next), error=_("The form had expired: please sign in again."), status=403
        )
    ledger = request.app.state.system.ledger
    try:
        presented = await run_in_threadpool(ledger.present, key.strip(), request_id=request.state.request_id)
    except LedgerError:
        return _sign_in_page(
            request, local_path(next), error=_("This key is not valid: check it and try again."), status=401
        )
    sessions(request).close(request.cookies.get(SESSION_COOKIE))
    session = sessions(request).open(presented)
    response = redirect(local_path(next))
    response.set_cookie(
        SESSION_COOKIE,
        session.id,
        httponly=True,
        samesite="strict",
        secure=secure(request),
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/sign-in")
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    """Ends the session. It needs the session's CSRF token, so no other site can sign a user out
    (refused like any forged form); without a session there is nothing to end."""
    session = sessions(request).find(request.cookies.get(SESSION_COOKIE))
    if session is not None:
        form = await request.form()
        sent = form.get("csrf")
        if not isinstance(sent, str) or not session.csrf_matches(sent):
            raise CsrfRefused()
        sessions(request).close(session.id)
    response = redirect("/sign-in")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/language/{lang}")
async def language(request: Request, lang: str, next: str = "/") -> Response:
    """Switches the console's language (a preference, kept in a cookie) and goes back."""
    response = redirect(local_path(next))
    set_language(response, request, i18n.chosen(lang))
    return response


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, session: SessionDep) -> Response:
    async with api(request, session) as a:
        schemes = await a.pages("/v1/schemes", most=1000)
    return page(request, "entry/home.html", session=session, title=_("Schemes"), schemes=schemes)
