"""Applies decoded events to the read models' rows: one handler per event class."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.persistence import Mapper, Notification

from projections import on_claims, on_loans, on_schemes
from projections.audit import merkle
from projections.audit.index import index
from projections.rows import Rows

HANDLERS = on_schemes.HANDLERS | on_loans.HANDLERS | on_claims.HANDLERS


def apply(rows: Rows, event: Any, position: int) -> None:
    """Apply one event, recorded at `position` of the notification log, to the rows."""
    handler = HANDLERS.get(type(event))
    assert handler is not None, f"no projection handles {type(event).__qualname__}"
    handler(rows, event, position)


def apply_notification(
    rows: Rows, mapper: Mapper, notification: Notification, *, business_date: date | None = None
) -> None:
    """Apply a stored event to the read models, grow the Merkle tree by its leaf and index it.

    With `business_date` (an as-of replay), facts dated after it are skipped, and the tree and
    the audit index, which are of the whole log, are left out.
    """
    event = mapper.to_domain_event(notification)
    if business_date is not None:
        if event.business_date <= business_date:
            apply(rows, event, notification.id)
        return
    apply(rows, event, notification.id)
    leaf = merkle.event_leaf(notification)
    scheme_id = index(rows, event, notification.id, merkle.append(rows, notification.id, leaf))
    merkle.append_to_scheme(rows, scheme_id, leaf)
