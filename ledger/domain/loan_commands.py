"""A loan's commands: validate against the loan's own state, then trigger its events."""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.actors import Actor
from ledger.calendar import check_not_before
from ledger.domain.events import RecordsFacts
from ledger.domain.guards import require_reason
from ledger.errors import (
    AlreadyReversed,
    DisbursementMismatch,
    InvalidAmount,
    InvalidTransition,
    Irreversible,
    NotYetDefaulted,
    Overpayment,
    UnknownFact,
    WrongCover,
)
from ledger.ids import loan_fact_id
from ledger.money import format_fen
from ledger.rules import RuleVersion

FACTS_PER_LOAN_MAX = 1200
INCOME_KINDS = {"premium": "insured", "fee": "guaranteed"}  # the cover each is paid on


class LoanCommands(RecordsFacts):
    """Mixed into `Loan`; every method raises before it triggers anything."""

    @property
    def outstanding_fen(self) -> int:
        return self.principal_fen - self.principal_repaid_fen

    @property
    def reference(self) -> str:
        return f"{self.bank_id}:{self.loan_ref}"

    def last_date(self) -> date:
        """The latest business date on the loan's lifecycle: the next fact may not be earlier."""
        dates = [self.enrolled_on, self.disbursed_on, self.defaulted_on, self.claim_filed_on, self.closed_on]
        dates += [r["business_date"] for r in self.repayments.values() if not r["reversed"]]
        return max(d for d in dates if d is not None)

    def require_state(self, *states: str, action: str) -> None:
        if self.state not in states:
            raise InvalidTransition(
                f"loan {self.reference} is {self.state}; {action} needs it {' or '.join(states)}",
                state=self.state,
            )

    def check_date(self, on: date, *, field: str) -> None:
        check_not_before(on, self.last_date(), field=field, what=f"loan {self.reference}'s last fact")

    def disburse(self, actor: Actor, amount_fen: int, on: date) -> None:
        self.require_state("enrolled", action="a disbursement")
        if amount_fen != self.principal_fen:
            raise DisbursementMismatch(
                f"disbursement {format_fen(amount_fen)} is not the principal "
                f"{format_fen(self.principal_fen)} of loan {self.reference}",
                amount=format_fen(amount_fen),
                principal=format_fen(self.principal_fen),
            )
        self.check_date(on, field="disbursement date")
        self.record(self.Disbursed, actor, on, amount_fen=amount_fen)

    def repay(self, actor: Actor, principal_fen: int, interest_fen: int, on: date) -> str:
        self.require_state("disbursed", action="a repayment")
        if principal_fen == 0 and interest_fen == 0:
            raise InvalidAmount("a repayment needs a positive principal or interest part")
        if principal_fen > self.outstanding_fen:
            raise Overpayment(
                f"principal repaid {format_fen(principal_fen)} is above the outstanding "
                f"{format_fen(self.outstanding_fen)} of loan {self.reference}",
                amount=format_fen(principal_fen),
                outstanding=format_fen(self.outstanding_fen),
            )
        self.check_date(on, field="repayment date")
        self._check_room()
        fact_id = loan_fact_id(self.bank_id, self.loan_ref, "repayment", len(self.repayments) + 1)
        self.record(
            self.Repaid,
            actor,
            on,
            fact_id=fact_id,
            principal_fen=principal_fen,
            interest_fen=interest_fen,
        )
        return fact_id

    def declare_default(self, actor: Actor, overdue_days: int, rules: RuleVersion, on: date) -> int:
        self.require_state("disbursed", action="a default")
        needed = rules.default_after_overdue_days
        if overdue_days < needed:
            raise NotYetDefaulted(
                f"loan {self.reference} is {overdue_days} days overdue; rule version "
                f"{self.rule_version} declares a default from {needed} days",
                overdue_days=overdue_days,
                needed_days=needed,
            )
        self.check_date(on, field="default date")
        outstanding = self.outstanding_fen
        self.record(
            self.Defaulted,
            actor,
            on,
            overdue_days=overdue_days,
            outstanding_fen=outstanding,
        )
        return outstanding

    def withdraw(self, actor: Actor, reason: str, on: date) -> None:
        self.require_state("enrolled", action="a withdrawal")
        self.check_date(on, field="withdrawal date")
        self.record(self.Withdrawn, actor, on, reason=reason)

    def write_off(self, actor: Actor, claim_status: str | None, on: date) -> int:
        self.require_state("defaulted", action="a write-off")
        if claim_status not in ("settled", "rejected"):
            raise InvalidTransition(
                f"loan {self.reference} can be written off only after its claim is settled or "
                f"rejected; its claim is {claim_status or 'not filed'}",
                state=f"defaulted, claim {claim_status or 'not filed'}",
            )
        self.check_date(on, field="write-off date")
        outstanding = self.outstanding_at_default_fen
        self.record(self.WrittenOff, actor, on, outstanding_fen=outstanding)
        return outstanding

    def record_cover_income(self, actor: Actor, kind: str, party_id: str, amount_fen: int, on: date) -> str:
        cover = INCOME_KINDS[kind]
        if self.cover != cover or self.cover_party_id != party_id:
            raise WrongCover(
                f"loan {self.reference} is {self.cover}"
                f"{' by ' + self.cover_party_id if self.cover_party_id else ''}, so "
                f"{party_id!r} records no {kind} on it",
                cover=self.cover,
                party_id=party_id,
            )
        self.require_state("enrolled", "disbursed", "repaid", "defaulted", "written_off", action=f"a {kind}")
        self._check_room()
        number = 1 + sum(1 for fact in self.cover_income.values() if fact["kind"] == kind)
        fact_id = loan_fact_id(self.bank_id, self.loan_ref, kind, number)
        event = self.PremiumRecorded if kind == "premium" else self.GuaranteeFeeRecorded
        self.record(
            event,
            actor,
            on,
            fact_id=fact_id,
            party_id=party_id,
            amount_fen=amount_fen,
        )
        return fact_id

    def reverse_repayment(self, actor: Actor, fact_id: str, reason: str, on: date) -> int:
        repayment = self._fact(self.repayments, fact_id)
        reason = require_reason(reason, what=f"reversing {fact_id!r}")
        if self.state in ("defaulted", "written_off"):
            raise Irreversible(
                f"repayment {fact_id!r} cannot be reversed: loan {self.reference} defaulted on "
                f"{self.defaulted_on} with the outstanding it left",
                later_fact=f"{self.reference}:default",
            )
        check_not_before(on, repayment["business_date"], field="reversal date", what=fact_id)
        self.record(self.RepaymentReversed, actor, on, fact_id=fact_id, reason=reason)
        return repayment["principal_fen"]

    def reverse_cover_income(self, actor: Actor, fact_id: str, reason: str, on: date) -> dict[str, Any]:
        fact = self._fact(self.cover_income, fact_id)
        reason = require_reason(reason, what=f"reversing {fact_id!r}")
        check_not_before(on, fact["business_date"], field="reversal date", what=fact_id)
        event = self.PremiumReversed if fact["kind"] == "premium" else self.GuaranteeFeeReversed
        self.record(event, actor, on, fact_id=fact_id, reason=reason)
        return fact

    def file_claim(self, actor: Actor, claim_id: str, on: date) -> None:
        self.require_state("defaulted", action="a claim")
        self.check_date(on, field="filing date")
        self.record(self.ClaimFiled, actor, on, claim_id=claim_id)

    def _fact(self, facts: dict[str, dict[str, Any]], fact_id: str) -> dict[str, Any]:
        fact = facts.get(fact_id)
        if fact is None:
            raise UnknownFact(f"no fact {fact_id!r} on loan {self.reference}", fact_id=fact_id)
        if fact["reversed"]:
            raise AlreadyReversed(f"fact {fact_id!r} has already been reversed", fact_id=fact_id)
        return fact

    def _check_room(self) -> None:
        if len(self.repayments) + len(self.cover_income) >= FACTS_PER_LOAN_MAX:
            raise InvalidTransition(
                f"loan {self.reference} already holds {FACTS_PER_LOAN_MAX} facts",
                state=self.state,
            )
