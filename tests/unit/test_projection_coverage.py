"""Every event the ledger can record is read by the read models, each model owns its tables, and
every posting balances."""

from __future__ import annotations

import inspect

from eventsourcing.domain import AggregateEvent

from ledger.domain import Claim, Loan, Party, Scheme
from ledger.domain.key import ApiKey
from ledger.domain.request import Request
from projections.audit.tables import model as audit
from projections.models import postings
from projections.registry import MODELS

# Events that move no reported figure: the scheme's own copies of figures whose facts the loan
# and claim events carry, the record of an idempotent request, an API key's issue or revocation.
# The audit model alone reads them, as it reads every event.
FIGURELESS = {
    Scheme.CoverIncomeCounted,
    Scheme.AllocationCounted,
    Scheme.FundPaymentCounted,
    Scheme.FundRecoveryCounted,
    Request.Recorded,
    ApiKey.Issued,
    ApiKey.Revoked,
}


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


def test_every_event_class_but_the_figureless_ones_has_a_handler_and_the_audit_model_reads_them_all() -> None:
    classes = event_classes()
    assert len(classes) == 43  # party 1, scheme 18, loan 11, claim 10, request 1, API key 2
    handled = set().union(*(model.handlers for model in MODELS))
    assert handled - classes == set()  # no handler of a class the ledger never records
    assert classes - handled == FIGURELESS
    assert [model.name for model in MODELS if model.batch_handler is not None] == [audit.name]
    assert audit.whole_log and not audit.handlers


def test_each_read_model_has_a_name_and_tables_of_its_own() -> None:
    names = [model.name for model in MODELS]
    tables = [table.name for model in MODELS for table in model.tables]
    assert len(set(names)) == len(names) and "riskpool" not in names  # the former single position
    assert len(set(tables)) == len(tables)
    assert all(model.tables for model in MODELS)


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
