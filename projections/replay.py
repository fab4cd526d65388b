"""Replays of the event log into memory: the read models as of a position or a business date,
a fresh rebuild to compare with the live tables, and the rebuild itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import StaticPool

from ledger.service import Ledger
from projections import projector
from projections.rows import Rows
from projections.store import ProjectionStore

PAGE_EVENTS = 5_000


def replay(
    ledger: Ledger,
    *,
    position: int | None = None,
    business_date: date | None = None,
    advance: Callable[[int], None] | None = None,
) -> tuple[Rows, int]:
    """Apply the log from its start up to `position` (inclusive), skipping facts dated after
    `business_date`. Returns the rows and the last position read."""
    rows, start, last = Rows(), 1, 0
    while True:
        page = ledger.recorder.select_notifications(start=start, limit=PAGE_EVENTS, stop=position)
        for notification in page:
            projector.apply_notification(rows, ledger.mapper, notification, business_date=business_date)
            last = notification.id
        if advance and page:
            advance(len(page))
        if len(page) < PAGE_EVENTS:
            return rows, last
        start = page[-1].id + 1


def in_memory(rows: Rows, position: int) -> Engine:
    """A private in-memory SQLite holding the replayed rows, for the same report queries."""
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    store = ProjectionStore(engine)
    store.create()
    store.fill(rows, position)
    return engine


def as_of(ledger: Ledger, *, position: int | None = None, business_date: date | None = None) -> Engine:
    """The read models as they stood at a log position or on a business date (live tables untouched)."""
    rows, last = replay(ledger, position=position, business_date=business_date)
    return in_memory(rows, position if position is not None else last)
