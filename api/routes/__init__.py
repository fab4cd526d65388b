"""One router per resource; every route documents the problems and headers it can answer with."""

from __future__ import annotations

from typing import Any

from api.schemas.common import Problem

_PROBLEMS = {
    401: "unauthenticated: a missing, unknown or revoked API key",
    403: "forbidden: the key's role may never do this",
    404: "unknown_scheme, unknown_loan, unknown_claim …: nothing by that id that this key may see",
    409: "version_conflict, idempotency_conflict, duplicate_loan, invalid_transition …",
    422: "a refusal of the rule book (invalid_amount, leverage_exceeded …), every bad field listed",
    503: "projections_behind: after_position not reached within 10 s",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Problem answers (the document serves them as application/problem+json: api/openapi.py)."""
    return {status: {"model": Problem, "description": _PROBLEMS[status]} for status in statuses}


def _header(description: str, example: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string", "examples": [example]}}


WRITTEN_HEADERS = {
    "Location": _header(
        "the path of what the write created or changed", "/v1/schemes/hebi/claims/b:L1:claim:1"
    ),
    "Idempotent-Replayed": _header(
        "`true` when this is the stored answer to an earlier request with the same Idempotency-Key",
        "true",
    ),
}
ETAG = {
    "ETag": _header("the version read, quoted: send it back as If-Match on a write to this resource", '"7"')
}

WRITE = problems(401, 403, 404, 409, 422) | {201: {"headers": WRITTEN_HEADERS}}
READ = problems(401, 403, 404, 422, 503)
READ_ONE = READ | {200: {"headers": ETAG}}
