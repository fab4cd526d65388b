"""Applies decoded events to the read models' rows: one handler per event class."""

from __future__ import annotations

from typing import Any

from projections import on_claims, on_loans, on_schemes
from projections.rows import Rows

HANDLERS = on_schemes.HANDLERS | on_loans.HANDLERS | on_claims.HANDLERS


def apply(rows: Rows, event: Any, position: int) -> None:
    """Apply one event, recorded at `position` of the notification log, to the rows."""
    handler = HANDLERS.get(type(event))
    assert handler is not None, f"no projection handles {type(event).__qualname__}"
    handler(rows, event, position)
