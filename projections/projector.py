"""Applies the log to a group of read models: each notification decoded once, the aggregates it
names noted (projections/subjects.py), then every model's handlers of its class, and each model's
batch handler with the whole batch."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from eventsourcing.persistence import Mapper, Notification

from projections.model import BatchHandler, Handler, ReadModel, Recorded
from projections.rows import Rows
from projections.subjects import Subjects


def decode(mapper: Mapper, subjects: Subjects, notifications: Iterable[Notification]) -> list[Recorded]:
    to_event, learn = mapper.to_domain_event, subjects.learn
    recorded = []
    for notification in notifications:
        event = to_event(notification)
        learn(event)
        recorded.append(Recorded(notification.id, event, notification))
    return recorded


class Projector:
    """Models advanced together over the same events. With `business_date` (an as-of replay),
    facts dated after it are skipped, and the models of the whole log are left out."""

    def __init__(
        self, models: Sequence[ReadModel], rows: dict[str, Rows], *, business_date: date | None = None
    ) -> None:
        if business_date is not None:
            models = [model for model in models if not model.whole_log]
        self.models, self.business_date = list(models), business_date
        self.dispatch: dict[type, list[tuple[Handler, Rows]]] = {}
        self.batches: list[tuple[BatchHandler, Rows]] = []
        for model in self.models:
            for event_class, handler in model.handlers.items():
                self.dispatch.setdefault(event_class, []).append((handler, rows[model.name]))
            if model.batch_handler is not None:
                self.batches.append((model.batch_handler, rows[model.name]))

    def apply(self, recorded: Sequence[Recorded]) -> None:
        day = self.business_date
        if day is not None:
            recorded = [r for r in recorded if r.event.business_date <= day]
        dispatch = self.dispatch
        for position, event, _ in recorded:
            for handler, rows in dispatch.get(type(event), ()):
                handler(rows, event, position)
        for batch_handler, rows in self.batches:
            batch_handler(rows, recorded)
