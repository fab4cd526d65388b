"""A unit of work: the aggregates one command reads and changes.

A handler asks it for the scheme, loan, claim or party it needs; the unit of work finds each in the
batch being committed (an earlier command of the same group commit may have created or changed it),
in the cache, or in the store, answers one the caller may not see as if it did not exist
(ledger/access.py), and remembers the version it read. When the handler is done, `events()` hands
the pipeline the command's new events in the order they are to be recorded (see `changed`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, DomainEvent

from ledger import access
from ledger.actors import Actor, Role
from ledger.calendar import check_not_future, parse_date
from ledger.domain import Claim, Loan, Party, Scheme
from ledger.domain.request import Request
from ledger.errors import (
    InvalidAmount,
    Unauthenticated,
    UnknownClaim,
    UnknownLoan,
    UnknownParty,
    UnknownScheme,
    VersionConflict,
)
from ledger.ids import check_reference, claim_uuid, loan_uuid, parse_claim_id, party_uuid, scheme_uuid
from ledger.money import AMOUNT_FEN_MAX, Money, format_fen
from ledger.service.call import Call

if TYPE_CHECKING:
    from ledger.service.application import LedgerApplication


def project(aggregate: Any | None, events: Iterable[DomainEvent]) -> Any | None:
    """An aggregate with `events` applied: the library's projector without its per-event
    `isinstance` check against a protocol (a tenth of a millisecond on every loan read)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class UnitOfWork:
    def __init__(
        self,
        app: LedgerApplication,
        call: Call | None,
        *,
        trusting: bool,
        retrying: bool = False,
        batch: dict[UUID, Aggregate] | None = None,
        copies: bool = False,
    ) -> None:
        self.app, self.call = app, call or Call(_NOBODY)
        self.actor = self.call.actor
        self.trusting = trusting  # take cached aggregates as current (see Pipeline)
        self.retrying = retrying  # a run after a save that failed on a concurrent write
        self.copies = copies  # a read: copies of the aggregates, taken while no command runs
        # aggregates created or changed by earlier commands of this group commit, or read for it
        self.batch = batch or {}
        self.read: dict[UUID, int] = {}  # the version of each aggregate read, when it was read
        self.touched: dict[UUID, Aggregate] = {}  # read or created, in that order
        self.handed_over: set[UUID] = set()  # the aggregates whose events `events()` handed over
        self.first_events: list[DomainEvent] = []  # new aggregates' first events, made directly

    def confirm_credential(self) -> None:
        """Refuse the command `unauthenticated` unless the API key the caller was recognised by
        (from memory, ledger/service/keys.py) still stands. Trusting the cache, the key is a read
        like any other: the store must have no later fact of it when the batch is saved, or the
        command runs again on fresh state and is judged here."""
        credential = self.call.credential if self.call is not None else None
        if credential is None:
            return
        in_batch = self.touched.get(credential.key_id) or self.batch.get(credential.key_id)
        if in_batch is not None:  # revoked (or not) by an earlier command of this batch
            if not in_batch.standing:
                raise Unauthenticated()
            return
        if self.trusting:
            cached = self.app.cached(credential.key_id)
            if cached is None or cached.version == credential.version:
                self.read.setdefault(credential.key_id, credential.version)
                return
        key = self.find(credential.key_id)
        if key is None or not key.standing:
            raise Unauthenticated()

    # Finding aggregates.

    def find(self, aggregate_id: UUID) -> Any | None:
        found = self.touched.get(aggregate_id) or self.batch.get(aggregate_id)
        if found is None:
            found = self.app.cached(aggregate_id) if self.trusting else None
        if found is None:
            try:
                if self.copies:
                    with self.app.lock:
                        found = self.app.repository.get(aggregate_id, projector_func=project)
                else:
                    found = self.app.repository.get(
                        aggregate_id, projector_func=project, deepcopy_from_cache=False
                    )
            except AggregateNotFoundError:
                return None
        if aggregate_id not in self.touched:
            self.read[aggregate_id] = found.version
            self.touched[aggregate_id] = found
        return found

    def get(self, aggregate_id: UUID, missing: Exception) -> Any:
        found = self.find(aggregate_id)
        if found is None:
            raise missing
        return found

    def exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.touched or aggregate_id in self.batch or self.app.stored(aggregate_id)

    def add(self, aggregate: Aggregate) -> Any:
        """A new aggregate the command created."""
        self.touched[aggregate.id] = aggregate
        return aggregate

    def add_first_events(self, events: list[DomainEvent]) -> None:
        """The first events of new aggregates made without building them (a loan tape's)."""
        self.first_events.extend(events)

    def scheme(self, scheme_id: str) -> Scheme:
        check_reference(scheme_id, field="scheme id")
        return self.get(scheme_uuid(scheme_id), UnknownScheme(f"no scheme {scheme_id!r}"))

    def party(self, party_id: str) -> Party:
        check_reference(party_id, field="party id")
        return self.get(party_uuid(party_id), UnknownParty(f"no party {party_id!r}"))

    def loan(self, scheme_id: str, bank_id: str, loan_ref: str) -> Loan:
        """A loan the actor may see; any other is answered as if it did not exist."""
        missing = UnknownLoan(f"no loan {bank_id}:{loan_ref} in scheme {scheme_id!r}")
        if not access.may_see_bank(self.actor, bank_id):
            raise missing
        check_reference(bank_id, field="bank id")
        check_reference(loan_ref, field="loan reference")
        loan: Loan = self.get(loan_uuid(scheme_id, bank_id, loan_ref), missing)
        if not access.loans(self.actor).admits(loan.bank_id, loan.cover_party_id):
            raise missing
        return loan

    def claim(self, scheme_id: str, claim_id: str) -> Claim:
        """A claim the actor may see; any other is answered as if it did not exist."""
        ref = parse_claim_id(claim_id)
        missing = UnknownClaim(f"no claim {claim_id!r} in scheme {scheme_id!r}")
        if not access.may_see_bank(self.actor, ref.bank_id):
            raise missing
        claim: Claim = self.get(claim_uuid(scheme_id, claim_id), missing)
        if not access.claims(self.actor).admits(claim.bank_id, claim.allocations):
            raise missing
        return claim

    def expect_version(self, aggregate: Aggregate, what: str) -> None:
        """Refuse with `version_conflict` when the caller expected another version (If-Match)."""
        expected = self.call.expected_version
        if expected is not None and aggregate.version != expected:
            raise VersionConflict(
                f"{what} is at version {aggregate.version}, not the expected {expected}",
                expected=expected,
                current=aggregate.version,
            )

    # Checking what was asked.

    def today(self) -> date:
        return self.app.clock()

    def day(self, on: object, field: str) -> date:
        on = parse_date(on, field=field)
        check_not_future(on, self.today(), field=field)
        return on

    # Handing over what changed.

    def changed(self) -> list[Aggregate]:
        """The aggregates with new events, in the order their events are recorded: the facts of
        loans, claims, parties and keys first, in the order touched; then the scheme's counting of
        them; the idempotent request's record last (its position is the answer's on a replay)."""
        changed = [a for a in self.touched.values() if a.pending_events]
        return sorted(
            changed, key=lambda a: 2 if isinstance(a, Request) else 1 if isinstance(a, Scheme) else 0
        )

    def events(self) -> list[DomainEvent]:
        changed = self.changed()
        self.handed_over = {a.id for a in changed}
        return [*self.first_events, *(event for aggregate in changed for event in aggregate.collect_events())]

    def dirty(self) -> bool:
        """Whether an aggregate holds events not handed over (a command that failed midway)."""
        return any(a.pending_events for a in self.touched.values())

    def unchanged_reads(self) -> Iterator[tuple[UUID, int]]:
        """The aggregates read and left as they were, with the version read: the store must still
        have no newer event of them when the batch is saved (the store checks those that change)."""
        return ((i, v) for i, v in self.read.items() if i not in self.handed_over)


# The caller of a read that no principal's scope narrows (a scheme's own figures, for the service).
_NOBODY = Actor("ledger", Role.REGULATOR, request_id="ledger")


def fen(amount: object, field: str, *, allow_zero: bool = False) -> int:
    """An amount of money as fen, positive (or zero where allowed) and at most the maximum."""
    if not isinstance(amount, Money):
        raise InvalidAmount(f"{field} must be an amount of money, not {amount!r}", field=field)
    if amount.fen < 0 or (amount.fen == 0 and not allow_zero) or amount.fen > AMOUNT_FEN_MAX:
        need = "zero or more" if allow_zero else "positive"
        raise InvalidAmount(
            f"{field} {amount} must be {need} and at most {format_fen(AMOUNT_FEN_MAX)}",
            field=field,
            value=str(amount),
        )
    return amount.fen
