"""What every recorded fact carries: who caused it and the business date it happened on.

The recorded time is the event's `timestamp`, set by the ledger in UTC; the attribution is set
by the application service from the authenticated principal, never from a request body.
"""

from __future__ import annotations

from datetime import date

from eventsourcing.domain import Aggregate

from ledger.actors import Actor


class Fact(Aggregate.Event):
    actor: Actor
    business_date: date


class FirstFact(Aggregate.Created):
    actor: Actor
    business_date: date


class RecordsFacts:
    """Mixed into aggregates: trigger a fact with its attribution and business date."""

    def record(self, event_class: type[Fact], actor: Actor, on: date, **fields: object) -> None:
        self.trigger_event(event_class, actor=actor, business_date=on, **fields)  # type: ignore[attr-defined]
