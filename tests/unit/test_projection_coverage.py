"""Every event the ledger can record has a projection handler, and every posting balances."""

from __future__ import annotations

import inspect

from eventsourcing.domain import AggregateEvent

from ledger.domain import Claim, Loan, Party, Scheme
from ledger.domain.key import ApiKey
from ledger.domain.request import Request
from projections import postings
from projections.projector import HANDLERS


def event_classes() -> set[type]:
    found = set()
    for aggregate in (Party, Scheme, Loan, Claim, Request, ApiKey):
        for _, member in inspect.getmembers(aggregate, inspect.isclass):
            # The library adds a `Created` class to aggregates whose creation event has another
            # name (Loan.Enrolled …); it is never triggered, and has no apply of ours.
            apply = getattr(member, "apply", None)
            generated = apply is None or not apply.__module__.startswith("ledger.")
            ours = member.__module__.startswith("ledger.") and not generated
            if issubclass(member, AggregateEvent) and ours:
                found.add(member)
    return found


def test_every_event_class_of_every_aggregate_has_a_projection_handler() -> None:
    classes = event_classes()
    assert len(classes) == 43  # party 1, scheme 18, loan 11, claim 10, request 1, API key 2
    assert classes - set(HANDLERS) == set()
    assert set(HANDLERS) - classes == set()


def test_every_kind_of_posting_sums_to_zero() -> None:
    entries = [
        postings.contribution("fund", 1_000),
        postings.cover_income("ins", "premium", 77),
        postings.cover_income("guar", "fee", 78),
        postings.allocation("c1", "bank", 1_000, {"bank": 200, "guar": 500, "fund": 300}),
        postings.payment("c1", "guar", "bank", 499),
        postings.recovery("c1", "bank", 90, {"bank": 18, "guar": 45, "fund": 27}),
        postings.payment("c1", "bank", "fund", 27),
    ]
    for entry in entries:
        assert sum(line.amount_fen for line in entry) == 0, entry
