"""Reads the domain answers itself: one aggregate's current state, and the what-if allocation.

Reports across many loans and claims come from the projections, never from here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from ledger import access
from ledger.actors import Actor, Role, require_role
from ledger.domain import Claim, Loan, Scheme
from ledger.errors import Forbidden, IneligibleLoan, InvalidRequest
from ledger.money import Money
from ledger.rules import Allocation, LoanTerms, allocate
from ledger.rules.engine import eligibility_problems
from ledger.service.application import LedgerApplication
from ledger.service.unit_of_work import fen


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded fact of an aggregate, with who recorded it and when (rule book §10)."""

    version: int
    fact: str
    business_date: date
    recorded_at: datetime
    actor: Actor
    data: dict[str, Any]
    figures: dict[str, Any]  # the aggregate's figures right after this fact: how each came to be


class Queries(LedgerApplication):
    """Reads the domain answers itself, from copies of the aggregates (a caller may keep them)."""

    def scheme(self, scheme_id: str) -> Scheme:
        return self.reading().scheme(scheme_id)

    def loan(self, actor: Actor, scheme_id: str, bank_id: str, loan_ref: str) -> Loan:
        uow = self.reading(actor)
        uow.scheme(scheme_id)
        return uow.loan(scheme_id, bank_id, loan_ref)

    def claim(self, actor: Actor, scheme_id: str, claim_id: str) -> Claim:
        uow = self.reading(actor)
        uow.scheme(scheme_id)
        return uow.claim(scheme_id, claim_id)

    def loan_history(self, actor: Actor, scheme_id: str, bank_id: str, loan_ref: str) -> list[HistoryEntry]:
        """Every fact of a loan in the order it was recorded, corrections included."""
        loan = self.loan(actor, scheme_id, bank_id, loan_ref)
        entries = _explained(self.events.get(loan.id), _loan_figures)
        if access.sees_borrowers(actor):
            return entries
        return [
            replace(e, data={k: None if k in BORROWER_FIELDS else v for k, v in e.data.items()})
            for e in entries
        ]

    def claim_history(self, actor: Actor, scheme_id: str, claim_id: str) -> list[HistoryEntry]:
        claim = self.claim(actor, scheme_id, claim_id)
        return _explained(self.events.get(claim.id), _claim_figures)

    def what_if(
        self,
        actor: Actor,
        scheme_id: str,
        terms: LoanTerms,
        amount: Money,
        *,
        approved_on: date,
        rule_version: int | None = None,
    ) -> tuple[int, Allocation]:
        """The allocation a claim on such a loan would get if finally approved on that date, as
        the ledger stands now, under `rule_version` (default: the one in force that day).
        Records nothing. Returns (rule version number, allocation)."""
        require_role(actor, Role.FUND_MANAGER, Role.REGULATOR, Role.BANK, action="preview an allocation")
        if actor.role is Role.BANK and not actor.is_party(terms.bank_id):
            raise Forbidden(f"a principal of {actor.party_id!r} previews its own loans only")
        uow = self.reading(actor)
        amount_fen, day = fen(amount, "approved amount"), uow.day(approved_on, "approval date")
        scheme = uow.scheme(scheme_id)
        number = rule_version or scheme.rule_number_for_enrolment(day)
        if not 1 <= number <= len(scheme.rule_documents):
            raise InvalidRequest(f"scheme {scheme_id!r} has no rule version {number}", field="rule_version")
        rules = scheme.rules(number)
        problems = eligibility_problems(rules, terms.cover, terms.principal_fen, None)
        if problems:
            raise IneligibleLoan(
                f"the loan is ineligible under rule version {number}: " + "; ".join(problems),
                problems=problems,
            )
        for key in rules.covers[terms.cover].split:
            if terms.party_for(key) is None:
                raise InvalidRequest(f"a {terms.cover} loan needs a cover party", field="cover_party_id")
        return number, allocate(rules, terms, amount_fen, scheme.cap_usage(terms.bank_id, day.year))

    def what_if_loan(
        self, actor: Actor, scheme_id: str, bank_id: str, loan_ref: str, amount: Money, *, approved_on: date
    ) -> tuple[int, Allocation]:
        """What-if for an enrolled loan, under the loan's own rule version."""
        require_role(actor, Role.FUND_MANAGER, Role.REGULATOR, Role.BANK, action="preview an allocation")
        loan = self.loan(actor, scheme_id, bank_id, loan_ref)
        return self.what_if(
            actor, scheme_id, loan.terms(), amount, approved_on=approved_on, rule_version=loan.rule_version
        )


BORROWER_FIELDS = ("borrower_name", "borrower_uscc")
_ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic", "actor", "business_date"}


def _explained(events: Any, figures_of: Any) -> list[HistoryEntry]:
    """Each fact with the figures it left behind, folding the events one at a time."""
    entries, aggregate = [], None
    for event in events:
        aggregate = event.mutate(aggregate)
        data = {k: v for k, v in vars(event).items() if k not in _ENVELOPE}
        entries.append(
            HistoryEntry(
                event.originator_version,
                type(event).__name__,
                event.business_date,
                event.timestamp,
                event.actor,
                data,
                figures_of(aggregate),
            )
        )
    return entries


def _loan_figures(loan: Loan) -> dict[str, Any]:
    return {
        "state": loan.state,
        "principal_fen": loan.principal_fen,
        "principal_repaid_fen": loan.principal_repaid_fen,
        "interest_repaid_fen": loan.interest_repaid_fen,
        "outstanding_fen": loan.outstanding_fen,
        "outstanding_at_default_fen": loan.outstanding_at_default_fen,
        "current_claim_id": loan.current_claim_id,
    }


def _claim_figures(claim: Claim) -> dict[str, Any]:
    return {
        "status": claim.status,
        "claimed_fen": claim.claimed_fen,
        "approved_fen": claim.approved_fen,
        "allocated_fen": dict(claim.allocations),
        "paid_fen": dict(claim.paid),
        "recovered_fen": dict(claim.recovered),
        "recovery_paid_fen": dict(claim.recovery_paid),
    }
