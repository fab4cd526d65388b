"""A compensation claim on a defaulted loan, its allocation, settlement and recoveries (§5, §6).

States: filed → (awaiting_second_approval →) approved → settled; filed or awaiting → rejected.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate

from ledger.domain.claim_commands import ClaimCommands, settlement_status
from ledger.domain.events import Fact, FirstFact

__all__ = ["Claim", "settlement_status"]


class Claim(ClaimCommands, Aggregate):
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
