"""The audit index: every event with what it concerns (scheme, loan, claim, parties) and who
caused it, so a regulator can filter the history without replaying it."""

from __future__ import annotations

from typing import Any

from projections.audit.tables import audit_events
from projections.subjects import ClaimSubject, LoanSubject, Subjects
from tools.verify_export import NO_SCHEME

PARTY_FIELDS = ("party_id", "bank_id", "cover_party_id")
# The index row is built as its values in column order (it is appended, never read back).
COLUMNS = (
    "position",
    "leaf_index",
    "originator_id",
    "version",
    "aggregate",
    "fact",
    "scheme_id",
    "bank_id",
    "loan_ref",
    "claim_id",
    "fact_id",
    "reverses",
    "principal_id",
    "role",
    "actor_party_id",
    "request_id",
    "business_date",
    "recorded_at",
)
assert tuple(audit_events.columns.keys()) == COLUMNS, "the audit index's columns moved"
_NAMES: dict[type, tuple[str, str, bool]] = {}  # event class: (aggregate, fact, reverses a fact)


def names(event_class: type) -> tuple[str, str, bool]:
    found = _NAMES.get(event_class)
    if found is None:
        aggregate, fact = event_class.__qualname__.split(".")[0], event_class.__name__
        found = _NAMES[event_class] = (aggregate, fact, fact.endswith("Reversed"))
    return found


def index(
    event: Any, position: int, leaf_index: int, subjects: Subjects
) -> tuple[tuple[Any, ...], set[str], str]:
    """The event's row of the index (its values, in COLUMNS order), the parties it concerns, and
    its scheme ("" for none)."""
    aggregate, fact, reverses = names(type(event))
    get = event.__dict__.get
    parties = {get("party_id"), get("bank_id"), get("cover_party_id")}  # PARTY_FIELDS, written out
    scheme_id = bank_id = loan_ref = claim_id = None
    if aggregate in ("Scheme", "Loan", "Claim"):
        subject = subjects.of(event.originator_id)
        scheme_id = subject.scheme_id
        if isinstance(subject, LoanSubject):
            bank_id, loan_ref = subject.bank_id, subject.loan_ref
            parties.update((bank_id, subject.cover_party_id))
        elif isinstance(subject, ClaimSubject):
            bank_id, loan_ref, claim_id = subject.bank_id, subject.loan_ref, subject.claim_id
            parties.add(bank_id)
            parties.update(subjects.claim_parties(event.originator_id, event.originator_version))
    fact_id = get("fact_id")
    actor = event.actor
    row = (
        position,
        leaf_index,
        event.originator_id.hex,
        event.originator_version,
        aggregate,
        fact,
        scheme_id,
        bank_id,
        loan_ref,
        claim_id,
        fact_id,
        fact_id if reverses else None,
        actor.principal_id,
        str(actor.role),  # a StrEnum's value (`.value` goes through the enum's slower descriptor)
        actor.party_id,
        actor.request_id,
        event.business_date,
        event.timestamp.isoformat(),
    )
    parties.discard(None)
    parties.discard("")
    return row, parties, scheme_id or NO_SCHEME
