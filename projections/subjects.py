"""Who an aggregate is: a scheme's id; a loan's scheme, bank, reference, cover party, principal and
borrower; a claim's scheme, id, bank and loan, and, from its approval on, the parties sharing it.
Later events carry only the aggregate's uuid.

All of it is in events that never change: the aggregate's first event, which comes before every
other of the aggregate, and a claim's approval, made once at a known version. So any model may
ask, whatever position it stands at, and no model needs another's tables for it. The answers are
kept in memory as the runner passes those events; an aggregate this process has not seen (a
runner restarted mid-log, or past the bound below) is read from the event store by its id, which
is one indexed read (a claim's few events for its approval).
"""

from __future__ import annotations

from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper
from eventsourcing.utils import get_topic

from ledger.domain import Claim, Loan, Scheme

SUBJECTS_KEPT_MAX = 500_000  # about 150 bytes each


class SchemeSubject(NamedTuple):
    scheme_id: str


class LoanSubject(NamedTuple):
    scheme_id: str
    bank_id: str
    loan_ref: str
    cover_party_id: str | None
    principal_fen: int
    borrower_uscc: str


class ClaimSubject(NamedTuple):
    scheme_id: str
    claim_id: str
    bank_id: str
    loan_ref: str


Subject = SchemeSubject | LoanSubject | ClaimSubject


def _scheme(e: Any) -> SchemeSubject:
    return SchemeSubject(e.scheme_id)


def _loan(e: Any) -> LoanSubject:
    return LoanSubject(e.scheme_id, e.bank_id, e.loan_ref, e.cover_party_id, e.principal_fen, e.borrower_uscc)


def _claim(e: Any) -> ClaimSubject:
    return ClaimSubject(e.scheme_id, e.claim_id, e.bank_id, e.loan_ref)


FIRST_EVENTS = {Scheme.Created: _scheme, Loan.Enrolled: _loan, Claim.Filed: _claim}
APPROVED = get_topic(Claim.Approved)
NEVER = 1 << 62  # the version of an approval not (yet) made


class Subjects:
    def __init__(self, recorder: ApplicationRecorder | None, mapper: Mapper | None) -> None:
        self.recorder, self.mapper = recorder, mapper
        # Keyed by the uuid's integer: hashing a UUID runs Python code, an int's does not.
        self.known: dict[int, Subject] = {}
        self.allocated: dict[int, tuple[int, tuple[str, ...]]] = {}  # claim: (version approved, parties)

    def learn(self, event: Any) -> None:
        """Note who the aggregate is, if this is its first event, or whom a claim is shared by."""
        describe = FIRST_EVENTS.get(type(event))
        if describe is not None:
            if len(self.known) >= SUBJECTS_KEPT_MAX:
                self.known.clear()  # the ones needed again are read back from the store
            self.known[event.originator_id.int] = describe(event)
        elif type(event) is Claim.Approved:
            if len(self.allocated) >= SUBJECTS_KEPT_MAX:
                self.allocated.clear()
            parties = tuple(part["party_id"] for part in event.parts)
            self.allocated[event.originator_id.int] = (event.originator_version, parties)

    def of(self, originator_id: UUID) -> Subject:
        found = self.known.get(originator_id.int)
        if found is None:
            found = self._read(originator_id)
        return found

    def scheme_id(self, originator_id: UUID) -> str:
        return self.of(originator_id).scheme_id

    def loan(self, originator_id: UUID) -> LoanSubject:
        found = self.of(originator_id)
        assert isinstance(found, LoanSubject), f"{originator_id} is not a loan"
        return found

    def claim(self, originator_id: UUID) -> ClaimSubject:
        found = self.of(originator_id)
        assert isinstance(found, ClaimSubject), f"{originator_id} is not a claim"
        return found

    def claim_parties(self, originator_id: UUID, version: int) -> tuple[str, ...]:
        """The parties allocated a share of the claim, as it stood at `version`: none before its
        approval."""
        found = self.allocated.get(originator_id.int)
        if found is None:
            found = self._read_allocation(originator_id)
        approved_at, parties = found
        return parties if version >= approved_at else ()

    def _read_allocation(self, originator_id: UUID) -> tuple[int, tuple[str, ...]]:
        assert self.recorder is not None and self.mapper is not None, f"no events of {originator_id}"
        self.allocated[originator_id.int] = (NEVER, ())  # until its approval is read, here or later
        for stored in self.recorder.select_events(originator_id):
            if stored.topic == APPROVED:
                self.learn(self.mapper.to_domain_event(stored))
        return self.allocated[originator_id.int]

    def _read(self, originator_id: UUID) -> Subject:
        assert self.recorder is not None and self.mapper is not None, f"no first event of {originator_id}"
        stored = self.recorder.select_events(originator_id, lte=1)
        assert stored, f"the log has no first event of {originator_id}"
        first = self.mapper.to_domain_event(stored[0])
        assert type(first) in FIRST_EVENTS, f"{originator_id} is no scheme, loan or claim"
        self.learn(first)
        return self.known[originator_id.int]
