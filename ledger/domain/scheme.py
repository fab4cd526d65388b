"""A scheme (pool): its members, rule versions, targets, and the pool-wide running figures.

The scheme is the consistency boundary for everything that is checked across loans: leverage
(exposure against contributions), fund balances, cap usage and circuit breakers. Each command
that moves one of those figures records a small event here in the same atomic save as its fact
on the loan or claim, so no check ever needs to read other loans, and a command's cost does not
grow with the number of loans in the pool.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate

from ledger.domain import figures
from ledger.domain.events import Fact, FirstFact
from ledger.domain.scheme_commands import SchemeCommands
from ledger.domain.scheme_view import SchemeView


class Scheme(SchemeCommands, SchemeView, Aggregate):
    class Created(FirstFact):
        scheme_id: str
        name: str
        demo: bool

        def apply(self, scheme: Scheme) -> None:
            scheme.scheme_id, scheme.name, scheme.demo = self.scheme_id, self.name, self.demo
            scheme.founded_on = self.business_date.isoformat()
            scheme.members = {}
            scheme.rule_effective = []
            scheme.rule_documents = []
            scheme.targets = []
            scheme.contribution_facts = {}
            scheme.contributed, scheme.fund_paid, scheme.fund_recovered = {}, {}, {}
            scheme.exposure_fen = 0
            scheme.bank_disbursed, scheme.bank_defaulted = {}, {}
            scheme.cover_income = {"premium": {}, "fee": {}}
            scheme.allocated, scheme.allocated_by_bank = {}, {}
            scheme.breakers = {}

    class PartyAdmitted(Fact):
        party_id: str
        role: str
        name: str

        def apply(self, scheme: Scheme) -> None:
            scheme.members[self.party_id] = {"role": self.role, "name": self.name}

    class RuleVersionPublished(Fact):
        number: int
        effective_from: date
        document: dict[str, Any]

        def apply(self, scheme: Scheme) -> None:
            scheme.rule_effective.append(self.effective_from.isoformat())
            scheme.rule_documents.append(figures.document_json(self.document))

    class TargetsSet(Fact):
        targets: list[dict[str, Any]]

        def apply(self, scheme: Scheme) -> None:
            scheme.targets = self.targets

    class ContributionRecorded(Fact):
        fact_id: str
        party_id: str
        amount_fen: int

        def apply(self, scheme: Scheme) -> None:
            scheme.contribution_facts[self.fact_id] = {
                "party_id": self.party_id,
                "amount_fen": self.amount_fen,
                "business_date": self.business_date.isoformat(),
                "reversed": False,
            }
            figures.add(scheme.contributed, self.party_id, self.amount_fen)

    class ContributionReversed(Fact):
        fact_id: str
        reason: str

        def apply(self, scheme: Scheme) -> None:
            fact = scheme.contribution_facts[self.fact_id]
            fact["reversed"] = True
            figures.add(scheme.contributed, fact["party_id"], -fact["amount_fen"])

    class LoanEnrolled(Fact):
        loan_ref: str
        bank_id: str
        principal_fen: int

        def apply(self, scheme: Scheme) -> None:
            scheme.exposure_fen += self.principal_fen

    class TapeEnrolled(Fact):
        """A bank's loan tape enrolled in one go: [[loan_ref, principal_fen], ...]."""

        bank_id: str
        loans: list[list[Any]]
        total_fen: int

        def apply(self, scheme: Scheme) -> None:
            scheme.exposure_fen += self.total_fen

    class ExposureReleased(Fact):
        """Exposure falls by `amount_fen` (negative when a reversed repayment restores it)."""

        loan_ref: str
        bank_id: str
        amount_fen: int
        cause: str

        def apply(self, scheme: Scheme) -> None:
            scheme.exposure_fen -= self.amount_fen

    class DisbursementCounted(Fact):
        loan_ref: str
        bank_id: str
        amount_fen: int

        def apply(self, scheme: Scheme) -> None:
            figures.add(scheme.bank_disbursed, self.bank_id, self.amount_fen)

    class DefaultCounted(Fact):
        loan_ref: str
        bank_id: str
        outstanding_fen: int

        def apply(self, scheme: Scheme) -> None:
            figures.add(scheme.bank_defaulted, self.bank_id, self.outstanding_fen)

    class CoverIncomeCounted(Fact):
        """A premium or guarantee fee (negative when reversed), counted in the year it was paid."""

        fact_id: str
        kind: str
        party_id: str
        year: int
        amount_fen: int

        def apply(self, scheme: Scheme) -> None:
            figures.add(scheme.cover_income[self.kind], self.party_id, str(self.year), self.amount_fen)

    class AllocationCounted(Fact):
        claim_id: str
        bank_id: str
        allocations: dict[str, int]

        def apply(self, scheme: Scheme) -> None:
            year = str(self.business_date.year)
            for party_id, fen in self.allocations.items():
                figures.add(scheme.allocated, party_id, year, fen)
                figures.add(scheme.allocated_by_bank, party_id, self.bank_id, year, fen)

    class FundPaymentCounted(Fact):
        """A government fund's settlement payment (negative when reversed)."""

        fact_id: str
        party_id: str
        amount_fen: int

        def apply(self, scheme: Scheme) -> None:
            figures.add(scheme.fund_paid, self.party_id, self.amount_fen)

    class FundRecoveryCounted(Fact):
        """A recovery part paid back into a government fund (negative when reversed)."""

        fact_id: str
        party_id: str
        amount_fen: int

        def apply(self, scheme: Scheme) -> None:
            figures.add(scheme.fund_recovered, self.party_id, self.amount_fen)

    class BreakerTripped(Fact):
        breaker: str
        party_id: str
        figure_fen: int
        base_fen: int
        threshold_bp: int
        trigger: str

        def apply(self, scheme: Scheme) -> None:
            scheme.breakers[f"{self.breaker}:{self.party_id}"] = {
                "tripped": True,
                "figure_fen": self.figure_fen,
                "base_fen": self.base_fen,
                "threshold_bp": self.threshold_bp,
                "trigger": self.trigger,
                "tripped_on": self.business_date.isoformat(),
            }

    class BreakerReset(Fact):
        breaker: str
        party_id: str
        reason: str

        def apply(self, scheme: Scheme) -> None:
            state = scheme.breakers[f"{self.breaker}:{self.party_id}"]
            state["tripped"] = False
            state["reset_on"] = self.business_date.isoformat()
