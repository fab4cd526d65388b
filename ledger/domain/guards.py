"""Checks shared by several aggregates' commands."""

from __future__ import annotations

from ledger.errors import ReasonRequired
from ledger.text import REASON_CHARS_MAX, check_text, invisible


def require_reason(reason: object, *, what: str) -> str:
    """A rejection, breaker reset or reversal must say why (`reason_required`), in free text
    (ledger/text.py: `invalid_request` naming the reason when it breaks the rule)."""
    if not isinstance(reason, str) or all(invisible(char) for char in reason):
        raise ReasonRequired(f"{what} needs a written reason", reason=repr(reason))
    if len(reason) > REASON_CHARS_MAX:
        raise ReasonRequired(
            f"{what}: the reason is {len(reason)} characters, above {REASON_CHARS_MAX}",
            limit=REASON_CHARS_MAX,
        )
    return check_text(reason, field="reason", max_chars=REASON_CHARS_MAX)
