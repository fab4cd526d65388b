"""The ledger's commands as Python methods, for scripts, the demo and tests.

Each method builds its command (ledger/commands.py) and runs it for `actor` with no idempotency
key or expected version; a caller who needs those builds the `Call` and uses `handle` directly,
as the HTTP API does.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger import commands as c
from ledger.actors import Actor
from ledger.money import Money
from ledger.service.application import LedgerApplication
from ledger.service.call import Call, Receipt


class Facade(LedgerApplication):
    def run(self, actor: Actor, command: c.Command) -> Receipt:
        return self.handle(command, Call(actor))

    def create_scheme(
        self, actor: Actor, scheme_id: str, name: str, *, created_on: date, demo: bool = False
    ) -> Receipt:
        return self.run(actor, c.CreateScheme(scheme_id, name, created_on, demo))

    def register_party(
        self, actor: Actor, party_id: str, role: str, name: str, *, registered_on: date
    ) -> Receipt:
        return self.run(actor, c.RegisterParty(party_id, role, name, registered_on))

    def admit_member(self, actor: Actor, scheme_id: str, party_id: str, *, admitted_on: date) -> Receipt:
        return self.run(actor, c.AdmitMember(scheme_id, party_id, admitted_on))

    def publish_rules(self, actor: Actor, scheme_id: str, document: Any, *, published_on: date) -> Receipt:
        return self.run(actor, c.PublishRules(scheme_id, document, published_on))

    def set_targets(
        self, actor: Actor, scheme_id: str, targets: list[dict[str, Any]], *, set_on: date
    ) -> Receipt:
        return self.run(actor, c.SetTargets(scheme_id, targets, set_on))

    def record_contribution(
        self, actor: Actor, scheme_id: str, party_id: str, amount: Money, *, contributed_on: date
    ) -> Receipt:
        return self.run(actor, c.RecordContribution(scheme_id, party_id, amount, contributed_on))

    def reset_breaker(
        self, actor: Actor, scheme_id: str, breaker: str, reason: str, *, reset_on: date
    ) -> Receipt:
        return self.run(actor, c.ResetBreaker(scheme_id, breaker, reason, reset_on))

    def reverse(
        self, actor: Actor, scheme_id: str, fact_id: str, reason: str, *, reversed_on: date
    ) -> Receipt:
        return self.run(actor, c.Reverse(scheme_id, fact_id, reason, reversed_on))

    def enrol_loan(self, actor: Actor, scheme_id: str, bank_id: str, enrolment: c.Enrolment) -> Receipt:
        return self.run(actor, c.EnrolLoan(scheme_id, bank_id, enrolment))

    def enrol_tape(self, actor: Actor, scheme_id: str, bank_id: str, rows: list[tuple[int, Any]]) -> Receipt:
        return self.run(actor, c.EnrolTape(scheme_id, bank_id, rows))

    def disburse(
        self, actor: Actor, scheme_id: str, bank_id: str, loan_ref: str, amount: Money, *, disbursed_on: date
    ) -> Receipt:
        return self.run(actor, c.Disburse(scheme_id, bank_id, loan_ref, amount, disbursed_on))

    def repay(
        self,
        actor: Actor,
        scheme_id: str,
        bank_id: str,
        loan_ref: str,
        *,
        principal: Money,
        interest: Money,
        repaid_on: date,
    ) -> Receipt:
        return self.run(actor, c.Repay(scheme_id, bank_id, loan_ref, principal, interest, repaid_on))

    def declare_default(
        self,
        actor: Actor,
        scheme_id: str,
        bank_id: str,
        loan_ref: str,
        *,
        overdue_days: int,
        defaulted_on: date,
    ) -> Receipt:
        return self.run(actor, c.DeclareDefault(scheme_id, bank_id, loan_ref, overdue_days, defaulted_on))

    def withdraw(
        self,
        actor: Actor,
        scheme_id: str,
        bank_id: str,
        loan_ref: str,
        *,
        reason: str = "",
        withdrawn_on: date,
    ) -> Receipt:
        return self.run(actor, c.Withdraw(scheme_id, bank_id, loan_ref, withdrawn_on, reason))

    def write_off(
        self, actor: Actor, scheme_id: str, bank_id: str, loan_ref: str, *, written_off_on: date
    ) -> Receipt:
        return self.run(actor, c.WriteOff(scheme_id, bank_id, loan_ref, written_off_on))

    def record_premium(
        self,
        actor: Actor,
        scheme_id: str,
        bank_id: str,
        loan_ref: str,
        amount: Money,
        *,
        paid_on: date,
        insurer_id: str | None = None,
    ) -> Receipt:
        return self.run(actor, c.RecordPremium(scheme_id, bank_id, loan_ref, amount, paid_on, insurer_id))

    def record_fee(
        self,
        actor: Actor,
        scheme_id: str,
        bank_id: str,
        loan_ref: str,
        amount: Money,
        *,
        paid_on: date,
        guarantor_id: str | None = None,
    ) -> Receipt:
        return self.run(actor, c.RecordFee(scheme_id, bank_id, loan_ref, amount, paid_on, guarantor_id))

    def file_claim(
        self, actor: Actor, scheme_id: str, bank_id: str, loan_ref: str, claimed: Money, *, filed_on: date
    ) -> Receipt:
        return self.run(actor, c.FileClaim(scheme_id, bank_id, loan_ref, claimed, filed_on))

    def approve_claim(
        self, actor: Actor, scheme_id: str, claim_id: str, amount: Money, *, approved_on: date
    ) -> Receipt:
        return self.run(actor, c.ApproveClaim(scheme_id, claim_id, amount, approved_on))

    def reject_claim(
        self, actor: Actor, scheme_id: str, claim_id: str, reason: str, *, rejected_on: date
    ) -> Receipt:
        return self.run(actor, c.RejectClaim(scheme_id, claim_id, reason, rejected_on))

    def pay_settlement(
        self, actor: Actor, scheme_id: str, claim_id: str, party_id: str, amount: Money, *, paid_on: date
    ) -> Receipt:
        return self.run(actor, c.PaySettlement(scheme_id, claim_id, party_id, amount, paid_on))

    def record_recovery(
        self, actor: Actor, scheme_id: str, claim_id: str, *, gross: Money, costs: Money, recovered_on: date
    ) -> Receipt:
        return self.run(actor, c.RecordRecovery(scheme_id, claim_id, gross, costs, recovered_on))

    def pay_recovery_part(
        self, actor: Actor, scheme_id: str, claim_id: str, party_id: str, amount: Money, *, paid_on: date
    ) -> Receipt:
        return self.run(actor, c.PayRecoveryPart(scheme_id, claim_id, party_id, amount, paid_on))
