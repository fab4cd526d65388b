"""A compensation claim on a defaulted loan: its review, allocation, settlement and recoveries
(docs/rules.md §5, §6).

States: filed → (awaiting_second_approval →) approved → settled; filed or awaiting → rejected.
Every method checks before it records anything: the events' apply code only changes state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from ledger.actors import Actor, Role
from ledger.calendar import check_not_before
from ledger.domain.events import Fact, FirstFact, RecordsFacts
from ledger.domain.guards import require_reason
from ledger.errors import (
    AlreadyReversed,
    ApprovalExceedsClaim,
    Forbidden,
    InvalidAmount,
    InvalidTransition,
    Irreversible,
    Overpayment,
    RecoveryCostsExceedCap,
    RecoveryExceedsLoss,
    SameChecker,
    UnknownFact,
)
from ledger.ids import claim_fact_id, claim_uuid, parse_fact_id
from ledger.money import format_fen
from ledger.rules import Allocation, RuleVersion, allocate, share_recovery
from ledger.rules.document import BP_FULL

if TYPE_CHECKING:
    from ledger.domain.loan import Loan
    from ledger.domain.scheme import Scheme

OPEN = ("filed", "awaiting_second_approval")
STATUSES = (*OPEN, "approved", "settled", "rejected")
FINALLY_APPROVED = ("approved", "settled")
FACTS_PER_CLAIM_MAX = 1000


def settlement_status(shares: Iterable[tuple[int, int]]) -> str:
    """A finally approved claim is `settled` once every party but its bank has paid its share
    (allocated, paid), and `approved` until then. The claim and its read model both ask this."""
    return "settled" if all(paid >= allocated for allocated, paid in shares) else "approved"


class Claim(RecordsFacts, Aggregate):
    if TYPE_CHECKING:  # its state, built by its events (declared for readers and type checkers:
        # the library would take class annotations for arguments of __init__)
        scheme_id: str
        claim_id: str  # bank:loan:claim:n
        bank_id: str
        loan_ref: str
        claimed_fen: int
        outstanding_at_default_fen: int
        defaulted_on: date
        status: str  # filed, awaiting_second_approval, approved, settled or rejected
        filed_on: date
        first_approval: dict[str, Any] | None  # principal_id, amount_fen, business_date
        approved_fen: int | None
        approved_on: date | None
        rule_version: int | None
        reason: str | None
        rejected_on: date | None
        parts: list[dict[str, Any]]  # the allocation, in the claim's party order
        allocations: dict[str, int]  # party -> allocated fen
        paid: dict[str, int]  # party -> settlement paid to the bank
        recovered: dict[str, int]  # party -> recovery parts given to it
        recovery_paid: dict[str, int]  # party -> recovery parts the bank paid it
        payments: dict[str, dict[str, Any]]  # settlement payments by fact id
        recoveries: dict[str, dict[str, Any]]
        recovery_payments: dict[str, dict[str, Any]]

    @classmethod
    def file(cls, actor: Actor, loan: Loan, claim_id: str, claimed_fen: int, on: date) -> Claim:
        """A new claim on `loan` (Loan.file_claim checks it and records it on the loan)."""
        return cls._create(
            cls.Filed,
            id=claim_uuid(loan.scheme_id, claim_id),
            actor=actor,
            business_date=on,
            scheme_id=loan.scheme_id,
            claim_id=claim_id,
            bank_id=loan.bank_id,
            loan_ref=loan.loan_ref,
            claimed_fen=claimed_fen,
            outstanding_at_default_fen=loan.outstanding_at_default_fen,
            defaulted_on=loan.defaulted_on,
        )

    class Filed(FirstFact):
        scheme_id: str
        claim_id: str
        bank_id: str
        loan_ref: str
        claimed_fen: int
        outstanding_at_default_fen: int
        defaulted_on: date

        def apply(self, claim: Claim) -> None:
            for name in (
                "scheme_id",
                "claim_id",
                "bank_id",
                "loan_ref",
                "claimed_fen",
                "outstanding_at_default_fen",
                "defaulted_on",
            ):
                setattr(claim, name, getattr(self, name))
            claim.status = "filed"
            claim.filed_on = self.business_date
            claim.first_approval = None
            claim.approved_fen = claim.approved_on = claim.rule_version = None
            claim.reason = claim.rejected_on = None
            claim.parts = []
            claim.allocations, claim.paid = {}, {}
            claim.recovered, claim.recovery_paid = {}, {}
            claim.payments, claim.recoveries, claim.recovery_payments = {}, {}, {}

    class FirstApproved(Fact):
        amount_fen: int

        def apply(self, claim: Claim) -> None:
            claim.status = "awaiting_second_approval"
            claim.first_approval = {
                "principal_id": self.actor.principal_id,
                "amount_fen": self.amount_fen,
                "business_date": self.business_date,
            }

    class Approved(Fact):
        """The final approval: the loss is allocated, once, under the loan's rule version."""

        amount_fen: int
        rule_version: int
        parts: list[dict[str, Any]]

        def apply(self, claim: Claim) -> None:
            claim.approved_fen = self.amount_fen
            claim.approved_on = self.business_date
            claim.rule_version = self.rule_version
            claim.parts = self.parts
            claim.allocations = {p["party_id"]: p["allocated_fen"] for p in self.parts}
            claim.paid = dict.fromkeys(claim.allocations, 0)
            claim.recovered = dict.fromkeys(claim.allocations, 0)
            claim.recovery_paid = dict.fromkeys(claim.allocations, 0)
            claim.status = claim.settlement_status()

    class Rejected(Fact):
        reason: str

        def apply(self, claim: Claim) -> None:
            claim.status = "rejected"
            claim.reason = self.reason
            claim.rejected_on = self.business_date

    class SettlementPaid(Fact):
        fact_id: str
        party_id: str
        amount_fen: int

        def apply(self, claim: Claim) -> None:
            claim.payments[self.fact_id] = claim.payment_record(self)
            claim.paid[self.party_id] += self.amount_fen
            claim.status = claim.settlement_status()

    class SettlementReversed(Fact):
        fact_id: str
        reason: str

        def apply(self, claim: Claim) -> None:
            payment = claim.payments[self.fact_id]
            payment["reversed"] = True
            claim.paid[payment["party_id"]] -= payment["amount_fen"]
            claim.status = claim.settlement_status()

    class RecoveryRecorded(Fact):
        fact_id: str
        gross_fen: int
        costs_fen: int
        net_fen: int
        parts: dict[str, int]

        def apply(self, claim: Claim) -> None:
            claim.recoveries[self.fact_id] = {
                "gross_fen": self.gross_fen,
                "costs_fen": self.costs_fen,
                "net_fen": self.net_fen,
                "parts": dict(self.parts),
                "business_date": self.business_date,
                "reversed": False,
            }
            for party_id, fen in self.parts.items():
                claim.recovered[party_id] += fen

    class RecoveryReversed(Fact):
        fact_id: str
        reason: str

        def apply(self, claim: Claim) -> None:
            recovery = claim.recoveries[self.fact_id]
            recovery["reversed"] = True
            for party_id, fen in recovery["parts"].items():
                claim.recovered[party_id] -= fen

    class RecoveryPartPaid(Fact):
        fact_id: str
        party_id: str
        amount_fen: int

        def apply(self, claim: Claim) -> None:
            claim.recovery_payments[self.fact_id] = claim.payment_record(self)
            claim.recovery_paid[self.party_id] += self.amount_fen

    class RecoveryPartPaymentReversed(Fact):
        fact_id: str
        reason: str

        def apply(self, claim: Claim) -> None:
            payment = claim.recovery_payments[self.fact_id]
            payment["reversed"] = True
            claim.recovery_paid[payment["party_id"]] -= payment["amount_fen"]

    def settlement_status(self) -> str:
        return settlement_status(
            (fen, self.paid[p]) for p, fen in self.allocations.items() if p != self.bank_id
        )

    def payment_record(self, event: Any) -> dict[str, Any]:
        return {
            "party_id": event.party_id,
            "amount_fen": event.amount_fen,
            "business_date": event.business_date,
            "reversed": False,
        }

    def owed_to_bank(self, party_id: str) -> int:
        """What `party_id` still owes the bank on this claim (its allocation not yet paid)."""
        if party_id == self.bank_id:
            return 0
        return self.allocations.get(party_id, 0) - self.paid.get(party_id, 0)

    def owed_by_bank(self, party_id: str) -> int:
        """What the bank still owes `party_id` of the recovery parts it was given."""
        if party_id == self.bank_id:
            return 0
        return self.recovered.get(party_id, 0) - self.recovery_paid.get(party_id, 0)

    def party_order(self) -> list[str]:
        return [part["party_id"] for part in self.parts]

    def require_status(self, *statuses: str, action: str) -> None:
        if self.status not in statuses:
            raise InvalidTransition(
                f"claim {self.claim_id} is {self.status}; {action} needs it {' or '.join(statuses)}",
                state=self.status,
            )

    def approve(
        self, actor: Actor, amount_fen: int, loan: Loan, scheme: Scheme, on: date
    ) -> Allocation | None:
        """Approve the claim. At or above the rule version's second-approval threshold the first
        approval waits for a second checker (None); the final one allocates the loss once, under
        the loan's rule version, and the scheme counts it against its caps and breakers."""
        rules = scheme.rules(loan.rule_version)
        if not self._check_approval(actor, amount_fen, rules, on):
            self.record(self.FirstApproved, actor, on, amount_fen=amount_fen)
            return None
        allocation = allocate(rules, loan.terms(), amount_fen, scheme.cap_usage(loan.bank_id, on.year))
        parts = [asdict(part) for part in allocation.parts]
        self.record(
            self.Approved,
            actor,
            on,
            amount_fen=allocation.approved_fen,
            rule_version=loan.rule_version,
            parts=parts,
        )
        scheme.count_allocation(actor, self.claim_id, self.bank_id, allocation.fen_by_party(), on)
        return allocation

    def _check_approval(self, actor: Actor, amount_fen: int, rules: RuleVersion, on: date) -> bool:
        """Validate an approval; True when it is the final one that allocates the loss."""
        self.require_status(*OPEN, action="an approval")
        if self.status == "awaiting_second_approval":
            first = self.first_approval
            self._check_second_checker(actor, "approve")
            check_not_before(on, first["business_date"], field="approval date", what="the first approval")
            if amount_fen != first["amount_fen"]:
                raise InvalidAmount(
                    f"the second checker confirms the first checker's amount "
                    f"{format_fen(first['amount_fen'])} unchanged; got {format_fen(amount_fen)}",
                    expected=format_fen(first["amount_fen"]),
                    amount=format_fen(amount_fen),
                )
            return True
        check_not_before(on, self.filed_on, field="approval date", what="the filing")
        if amount_fen > self.claimed_fen:
            raise ApprovalExceedsClaim(
                f"approved amount {format_fen(amount_fen)} is above the claimed "
                f"{format_fen(self.claimed_fen)} of claim {self.claim_id}",
                amount=format_fen(amount_fen),
                claimed=format_fen(self.claimed_fen),
            )
        return amount_fen < rules.second_approval_from

    def reject(self, actor: Actor, reason: str, on: date) -> None:
        self.require_status(*OPEN, action="a rejection")
        if self.status == "awaiting_second_approval":
            self._check_second_checker(actor, "reject")
        reason = require_reason(reason, what=f"rejecting claim {self.claim_id}")
        floor = self.first_approval["business_date"] if self.first_approval else self.filed_on
        check_not_before(on, floor, field="rejection date", what="the claim's last review")
        self.record(self.Rejected, actor, on, reason=reason)

    def pay_settlement(
        self, actor: Actor, party_id: str, amount_fen: int, on: date, *, fund: Scheme | None
    ) -> str:
        """A party's payment of its share to the bank; a government party's (`fund`: the scheme
        holding its fund) is paid from its fund, which must hold it."""
        self.require_status(*FINALLY_APPROVED, action="a settlement payment")
        owed = self.owed_to_bank(party_id)
        if amount_fen > owed:
            raise Overpayment(
                f"{party_id!r} owes {format_fen(owed)} on claim {self.claim_id}; a payment of "
                f"{format_fen(amount_fen)} is above it",
                owed=format_fen(owed),
                amount=format_fen(amount_fen),
            )
        check_not_before(on, self.approved_on, field="payment date", what="the final approval")
        if fund is not None:
            fund.check_fund(party_id, amount_fen)
        fact_id = self._next_fact_id("payment", self.payments)
        self.record(
            self.SettlementPaid,
            actor,
            on,
            fact_id=fact_id,
            party_id=party_id,
            amount_fen=amount_fen,
        )
        if fund is not None:
            fund.count_fund_payment(actor, fact_id, party_id, amount_fen, on)
        return fact_id

    def record_recovery(self, actor: Actor, gross_fen: int, costs_fen: int, scheme: Scheme, on: date) -> str:
        """A recovery on the finally approved claim, under the rule version it was approved by
        (a claim not yet approved has none: the status is checked first)."""
        self.require_status(*FINALLY_APPROVED, action="a recovery")
        max_bp = scheme.rules(self.rule_version).recovery_costs_max_bp
        if costs_fen * BP_FULL > gross_fen * max_bp:
            raise RecoveryCostsExceedCap(
                f"recovery costs {format_fen(costs_fen)} are above {max_bp} bp of the gross "
                f"{format_fen(gross_fen)} (at most {format_fen(gross_fen * max_bp // BP_FULL)})",
                costs=format_fen(costs_fen),
                limit=format_fen(gross_fen * max_bp // BP_FULL),
            )
        net = gross_fen - costs_fen
        so_far = sum(r["net_fen"] for r in self.recoveries.values() if not r["reversed"])
        if so_far + net > self.approved_fen:
            raise RecoveryExceedsLoss(
                f"net recoveries would reach {format_fen(so_far + net)}, above the approved loss "
                f"{format_fen(self.approved_fen)} of claim {self.claim_id}",
                recovered=format_fen(so_far),
                net=format_fen(net),
                approved=format_fen(self.approved_fen),
            )
        check_not_before(on, self.approved_on, field="recovery date", what="the final approval")
        order = self.party_order()
        unrecovered = [self.allocations[p] - self.recovered[p] for p in order]
        parts = dict(zip(order, share_recovery(net, unrecovered), strict=True))
        fact_id = self._next_fact_id("recovery", self.recoveries)
        self.record(
            self.RecoveryRecorded,
            actor,
            on,
            fact_id=fact_id,
            gross_fen=gross_fen,
            costs_fen=costs_fen,
            net_fen=net,
            parts=parts,
        )
        return fact_id

    def pay_recovery_part(
        self, actor: Actor, party_id: str, amount_fen: int, on: date, *, fund: Scheme | None
    ) -> str:
        """The bank's payment of a party's recovery part; a government party's returns to its fund."""
        self.require_status(*FINALLY_APPROVED, action="a recovery-part payment")
        owed = self.owed_by_bank(party_id)
        if amount_fen > owed:
            raise Overpayment(
                f"the bank owes {party_id!r} {format_fen(owed)} of recoveries on claim "
                f"{self.claim_id}; a payment of {format_fen(amount_fen)} is above it",
                owed=format_fen(owed),
                amount=format_fen(amount_fen),
            )
        recovered_on = [r["business_date"] for r in self.recoveries.values() if not r["reversed"]]
        check_not_before(on, max(recovered_on), field="payment date", what="the last recovery")
        fact_id = self._next_fact_id("recovery-payment", self.recovery_payments)
        self.record(
            self.RecoveryPartPaid,
            actor,
            on,
            fact_id=fact_id,
            party_id=party_id,
            amount_fen=amount_fen,
        )
        if fund is not None:
            fund.count_fund_recovery(actor, fact_id, party_id, amount_fen, on)
        return fact_id

    def reverse_fact(
        self, actor: Actor, fact_id: str, reason: str, scheme: Scheme, loan: Loan | None, on: date
    ) -> None:
        """Reverse a recovery, a settlement payment or a recovery-part payment (docs/rules.md §10);
        a government fund's figures move back in the scheme in the same save."""
        kind = parse_fact_id(fact_id).kind
        if kind == "recovery":
            self.reverse_recovery(actor, fact_id, reason, on)
            return
        facts = self.payments if kind == "payment" else self.recovery_payments
        payment = self.live_fact(facts, fact_id)
        payer, amount_fen = payment["party_id"], payment["amount_fen"]
        if kind == "payment" and actor.role is not Role.FUND_MANAGER and not actor.is_party(payer):
            raise Forbidden(f"a principal of {actor.party_id!r} may not reverse {fact_id!r}")
        government = scheme.role_of(payer) == "government"
        if kind == "payment":
            written_off = (
                f"{loan.reference}:write-off" if loan is not None and loan.state == "written_off" else None
            )
            self.reverse_settlement(actor, fact_id, reason, on, written_off)
            if government:
                scheme.count_fund_payment(actor, fact_id, payer, -amount_fen, on)
            return
        if government:
            scheme.require_fund_for_reversal(payer, amount_fen, fact_id)
        self.reverse_recovery_payment(actor, fact_id, reason, on)
        if government:
            scheme.count_fund_recovery(actor, fact_id, payer, -amount_fen, on)

    def reverse_settlement(
        self, actor: Actor, fact_id: str, reason: str, on: date, written_off: str | None
    ) -> dict[str, Any]:
        payment = self.live_fact(self.payments, fact_id)
        reason = require_reason(reason, what=f"reversing {fact_id!r}")
        if written_off is not None:
            raise Irreversible(
                f"payment {fact_id!r} cannot be reversed: the loan was written off after the "
                "claim it settled",
                later_fact=written_off,
            )
        check_not_before(on, payment["business_date"], field="reversal date", what=fact_id)
        self.record(self.SettlementReversed, actor, on, fact_id=fact_id, reason=reason)
        return payment

    def reverse_recovery(self, actor: Actor, fact_id: str, reason: str, on: date) -> None:
        recovery = self.live_fact(self.recoveries, fact_id)
        reason = require_reason(reason, what=f"reversing {fact_id!r}")
        later = [k for k, r in self.recoveries.items() if not r["reversed"] and _number(k) > _number(fact_id)]
        if later:
            raise Irreversible(
                f"recovery {fact_id!r} cannot be reversed: later recovery {later[0]!r} was shared "
                "by what this one left unrecovered",
                later_fact=later[0],
            )
        for party_id, fen in recovery["parts"].items():
            if party_id != self.bank_id and self.owed_by_bank(party_id) < fen:
                paid = [
                    k
                    for k, p in self.recovery_payments.items()
                    if p["party_id"] == party_id and not p["reversed"]
                ]
                raise Irreversible(
                    f"recovery {fact_id!r} cannot be reversed: its part for {party_id!r} was "
                    f"already paid ({paid[-1]!r})",
                    later_fact=paid[-1],
                )
        check_not_before(on, recovery["business_date"], field="reversal date", what=fact_id)
        self.record(self.RecoveryReversed, actor, on, fact_id=fact_id, reason=reason)

    def reverse_recovery_payment(self, actor: Actor, fact_id: str, reason: str, on: date) -> dict[str, Any]:
        payment = self.live_fact(self.recovery_payments, fact_id)
        reason = require_reason(reason, what=f"reversing {fact_id!r}")
        check_not_before(on, payment["business_date"], field="reversal date", what=fact_id)
        self.record(self.RecoveryPartPaymentReversed, actor, on, fact_id=fact_id, reason=reason)
        return payment

    def _check_second_checker(self, actor: Actor, verb: str) -> None:
        first = self.first_approval["principal_id"]
        if actor.principal_id == first:
            raise SameChecker(
                f"{actor.principal_id!r} made the first approval of claim {self.claim_id}; a "
                f"different fund-manager principal must {verb} it",
                principal_id=actor.principal_id,
            )

    def _next_fact_id(self, kind: str, facts: dict[str, Any]) -> str:
        total = len(self.payments) + len(self.recoveries) + len(self.recovery_payments)
        if total >= FACTS_PER_CLAIM_MAX:
            raise InvalidTransition(f"claim {self.claim_id} already holds {total} facts", state=self.status)
        return claim_fact_id(self.claim_id, kind, len(facts) + 1)

    def live_fact(self, facts: dict[str, dict[str, Any]], fact_id: str) -> dict[str, Any]:
        fact = facts.get(fact_id)
        if fact is None:
            raise UnknownFact(f"no fact {fact_id!r} on claim {self.claim_id}", fact_id=fact_id)
        if fact["reversed"]:
            raise AlreadyReversed(f"fact {fact_id!r} has already been reversed", fact_id=fact_id)
        return fact


def _number(fact_id: str) -> int:
    return int(fact_id.rsplit(":", 1)[1])
