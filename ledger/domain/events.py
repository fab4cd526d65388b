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
