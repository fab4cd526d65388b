"""Checks shared by several aggregates' commands."""

from __future__ import annotations

from ledger.errors import ReasonRequired

REASON_CHARS_MAX = 2000


def require_reason(reason: object, *, what: str) -> str:
    """A rejection, breaker reset or reversal must say why (`reason_required`)."""
    if not isinstance(reason, str) or not reason.strip():
        raise ReasonRequired(f"{what} needs a written reason", reason=repr(reason))
    if len(reason) > REASON_CHARS_MAX:
        raise ReasonRequired(
            f"{what}: the reason is {len(reason)} characters, above {REASON_CHARS_MAX}",
            limit=REASON_CHARS_MAX,
        )
    return reason.strip()
