"""Applies the log to a group of read models: each notification decoded once, the aggregates it
names noted (projections/subjects.py), then every model's handlers of its class, and each model's
batch handler with the whole batch."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from eventsourcing.persistence import Mapper, Notification, find_id_convertor
from eventsourcing.utils import resolve_topic

from projections.model import BatchHandler, Handler, ReadModel, Recorded
from projections.rows import Rows
from projections.subjects import Subjects


def decode(mapper: Mapper, subjects: Subjects, notifications: Iterable[Notification]) -> list[Recorded]:
    """Each notification as its domain event, made as the library's mapper makes it. For the
    library's own mapper without a cipher or a compressor (the ledger's), and a class at its first
    version, the mapper's steps are done here with each topic's class and id convertor looked up
    once a batch rather than once an event; anything else goes through the mapper itself."""
    to_event, learn = mapper.to_domain_event, subjects.learn
    recorded = []
    own = type(mapper).to_domain_event is Mapper.to_domain_event
    if not own or mapper.cipher is not None or mapper.compressor is not None:
        for notification in notifications:
            event = to_event(notification)
            learn(event)
            recorded.append(Recorded(notification.id, event, notification))
        return recorded
    transcode, new, set_attribute = mapper.transcoder.decode, object.__new__, object.__setattr__
    kinds: dict[tuple[str, type], tuple[type, Callable[[Any], Any]] | None] = {}
    for notification in notifications:
        originator_id = notification.originator_id
        kind = (notification.topic, type(originator_id))
        found = kinds.get(kind, _UNKNOWN)
        if found is _UNKNOWN:
            found = kinds[kind] = _kind(*kind)
        state = None
        if found is not None:
            try:
                state = transcode(notification.state)
            except Exception:
                state = None  # the mapper says what is wrong with it, below
        if state is None or "class_version" in state:
            event = to_event(notification)
        else:
            cls, convert = found
            state["originator_id"] = convert(originator_id)
            state["originator_version"] = notification.originator_version
            event = new(cls)
            set_attribute(event, "__dict__", state)
        learn(event)
        recorded.append(Recorded(notification.id, event, notification))
    return recorded


_UNKNOWN: Any = object()


def _kind(topic: str, id_type: type) -> tuple[type, Callable[[Any], Any]] | None:
    """A topic's class and the convertor of its ids, as the mapper finds them; None for a class
    past its first version, whose events the mapper upcasts."""
    cls = resolve_topic(topic)
    if getattr(cls, "class_version", 1) != 1:
        return None
    return cls, find_id_convertor(cls, id_type)


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
