"""One router per resource; every route documents the problems it can answer with."""

from __future__ import annotations

from typing import Any

from api.schemas.common import Problem

_PROBLEMS = {
    401: "unauthenticated: a missing, unknown or revoked API key",
    403: "forbidden: the key's role may never do this",
    404: "unknown_scheme, unknown_loan, unknown_claim …: nothing by that id that this key may see",
    409: "version_conflict, idempotency_conflict, duplicate_loan, invalid_transition …",
    422: "a refusal of the rule book (invalid_amount, leverage_exceeded …), every bad field listed",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "model": Problem,
            "description": _PROBLEMS[status],
            "content": {"application/problem+json": {}},
        }
        for status in statuses
    }


WRITE = problems(401, 403, 404, 409, 422)
READ = problems(401, 403, 404, 422) | {
    503: {
        "model": Problem,
        "description": "projections_behind: after_position not reached within 10 s",
        "content": {"application/problem+json": {}},
    },
}
