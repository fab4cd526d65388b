"""The one place where refusals become HTTP: RFC 9457 problem details with the rule book's code."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ledger.errors import LedgerError
from projections.audit.heads import SealRefused
from projections.reports import TrialBalanceBroken
from projections.runner import ProjectionTimeout

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"
CONFLICTS = {
    "version_conflict",
    "idempotency_conflict",
    "duplicate_loan",
    "already_exists",
    "claim_already_open",
    "already_reversed",
    "invalid_transition",
    "irreversible",
    "same_checker",
}
LEDGER_CODES = {"invalid_amount", "invalid_date", "invalid_uscc", "reason_required"}


def status_of(code: str) -> int:
    if code == "unauthenticated":
        return 401
    if code == "forbidden":
        return 403
    if code.startswith("unknown_"):
        return 404
    if code in CONFLICTS:
        return 409
    return 422


def problem(request: Request, status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    request.state.code = code  # for the access log
    body = {
        "type": f"https://riskpool-ledger.dev/errors/{code}",
        "title": code.replace("_", " "),
        "status": status,
        "code": code,
        "detail": detail,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", ""),
    } | extra
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(LedgerError)
    async def refused(request: Request, error: LedgerError) -> JSONResponse:
        return problem(
            request, status_of(error.code), error.code, error.message, figures=_plain(error.figures)
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "code": _code(e["type"]), "message": e["msg"]}
            for e in error.errors()
        ]
        codes = {e["code"] for e in errors}
        code = codes.pop() if len(codes) == 1 else "invalid_request"
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:10])
        return problem(request, 422, code, detail, errors=errors)

    @app.exception_handler(HTTPException)
    async def http(request: Request, error: HTTPException) -> JSONResponse:
        if error.status_code == 400:  # a body that is not JSON at all: malformed input like any other
            return problem(
                request, 422, "invalid_request", f"the request body is not valid JSON ({error.detail})"
            )
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            error.status_code, "invalid_request"
        )
        return problem(request, error.status_code, code, str(error.detail))

    @app.exception_handler(SealRefused)
    async def seal_refused(request: Request, error: SealRefused) -> JSONResponse:
        log.error("refused to seal a tree head: %s", error)
        return problem(request, 409, "seal_refused", str(error))

    @app.exception_handler(ProjectionTimeout)
    async def behind(request: Request, error: ProjectionTimeout) -> JSONResponse:
        return problem(request, 503, "projections_behind", str(error))

    @app.exception_handler(TrialBalanceBroken)
    async def corrupt(request: Request, error: TrialBalanceBroken) -> JSONResponse:
        log.error("read models failed their trial balance: %s", error)
        return problem(request, 500, "read_models_corrupt", "the read models failed their trial balance")

    @app.exception_handler(Exception)
    async def crashed(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(request, 500, "internal_error", "an unexpected error; it has been logged")


def _code(pydantic_type: str) -> str:
    return pydantic_type if pydantic_type in LEDGER_CODES else "invalid_request"


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
