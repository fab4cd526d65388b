"""Replays of the event log into memory: the read models as of a position or a business date, and
a fresh rebuild to compare with the live tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import StaticPool

from ledger.service import Ledger
from projections.model import ReadModel
from projections.projector import Projector, decode
from projections.registry import MODELS
from projections.rows import Rows
from projections.store import ProjectionStore
from projections.subjects import Subjects

PAGE_EVENTS = 5_000


def replay(
    ledger: Ledger,
    *,
    position: int | None = None,
    business_date: date | None = None,
    models: Sequence[ReadModel] = MODELS,
    advance: Callable[[int], None] | None = None,
) -> tuple[dict[str, Rows], int]:
    """Apply the log from its start up to `position` (inclusive) to fresh rows of these models,
    skipping facts dated after `business_date` (and then the models of the whole log). Returns
    each model's rows and the last position read."""
    subjects = Subjects(ledger.recorder, ledger.mapper)
    if business_date is not None:
        models = [model for model in models if not model.whole_log]
    rows = {model.name: Rows(model, subjects) for model in models}
    projector = Projector(models, rows, business_date=business_date)
    start, last = 1, 0
    while True:
        page = ledger.recorder.select_notifications(start=start, limit=PAGE_EVENTS, stop=position)
        if page:
            projector.apply(decode(ledger.mapper, subjects, page))
            last = page[-1].id
            if advance:
                advance(len(page))
        if len(page) < PAGE_EVENTS:
            return rows, last
        start = last + 1


def in_memory(rows: dict[str, Rows], position: int, models: Sequence[ReadModel] = MODELS) -> Engine:
    """A private in-memory SQLite holding the replayed rows, for the same report queries."""
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    store = ProjectionStore(engine, models)
    store.create()
    store.fill(rows, position)
    return engine


def as_of(ledger: Ledger, *, position: int | None = None, business_date: date | None = None) -> Engine:
    """The read models as they stood at a log position or on a business date (live tables untouched)."""
    rows, last = replay(ledger, position=position, business_date=business_date)
    return in_memory(rows, position if position is not None else last)
