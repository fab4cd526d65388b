"""Property tests of the ledger's invariants under random command sequences (hypothesis).

Whatever the sequence of commands, accepted or refused: no fund balance and no debt goes
negative; every allocation adds up to its approved amount; exposure equals the outstanding of
the live loans; a refusal changes nothing; and every aggregate reloaded from the store equals the
one in memory.
"""

from __future__ import annotations

from datetime import date, timedelta

from eventsourcing.application import project_aggregate
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ledger.actors import Actor, Role
from ledger.errors import LedgerError
from ledger.ids import claim_uuid, loan_uuid, scheme_uuid
from ledger.money import Money
from ledger.service import Enrolment, Ledger
from ledger.uscc import make_uscc

S = "prop"
FM = [Actor("fm-1", Role.FUND_MANAGER), Actor("fm-2", Role.FUND_MANAGER)]
BANKS, FUNDS = ["bank-a", "bank-b"], ["fund-x", "fund-y"]
RULES = """
effective_from: 2018-01-01
eligibility: {principal_max: "5000000.00", term_months_max: 36}
default_after_overdue_days: 90
claim_window_days: 365
second_approval_from: "1000000.00"
leverage_multiple: 3
recovery_costs_max_bp: 500
covers:
  direct:
    split:
      fund-x: {tiers: [{principal_max: "1000000.00", bp: 5000}, {principal_max: "5000000.00", bp: 3000}],
               bonuses: [{tag: ip_pledge, bp: 1500}], bp_max: 6000}
      bank: remainder
    caps:
      fund-x: {per_claim_max: "400000.00", annual_max: "2000000.00"}
    overflow: {fund-y: 7000, bank: 3000}
  guaranteed:
    split: {guarantor: 4000, fund-y: 3000, bank: 2000, fund-x: 1000}
    caps:
      guarantor: {fee_multiple_max_bp: 30000}
    overflow: {fund-x: 5000, fund-y: 5000}
  insured:
    split: {bank: 2000, insurer: 8000}
    caps:
      insurer: {premium_multiple_max_bp: 15000}
    overflow: {bank: 2000, fund-y: 8000}
circuit_breakers: {bank_loss_rate_max_bp: 2500, insurer_loss_ratio_max_bp: 30000, fund_drawdown_max_bp: 9000}
"""
amounts = st.integers(min_value=1, max_value=3_000_000_00).map(Money)


def party(party_id: str, role: Role) -> Actor:
    return Actor(f"{party_id}-ops", role, party_id)


class LedgerMachine(RuleBasedStateMachine):
    @initialize()
    def found(self) -> None:
        self.app = Ledger(clock=lambda: date(2026, 1, 1))
        self.day = date(2018, 1, 1)
        self.loans: list[tuple[str, str]] = []
        self.claims: list[str] = []
        self.facts: list[str] = []
        fm = FM[0]
        self.app.create_scheme(fm, S, "property pool", created_on=self.day)
        members = [(b, "bank") for b in BANKS] + [(f, "government") for f in FUNDS]
        members += [("guar", "guarantor"), ("ins", "insurer")]
        for party_id, role in members:
            self.app.register_party(fm, party_id, role, party_id, registered_on=self.day)
            self.app.admit_member(fm, S, party_id, admitted_on=self.day)
        self.app.publish_rules(fm, S, RULES, published_on=self.day)
        for fund in FUNDS:
            self.app.record_contribution(fm, S, fund, Money.yuan("5000000"), contributed_on=self.day)

    def attempt(self, command) -> object | None:
        """Run a command; a refusal must leave the store exactly as it was."""
        self.day += timedelta(days=1)
        before = self.app.recorder.max_notification_id()
        try:
            return command()
        except LedgerError:
            assert self.app.recorder.max_notification_id() == before
            return None

    def pick(self, data, items):
        return data.draw(st.sampled_from(items))

    def approved_claims(self) -> list[str]:
        return [c for c in self.claims if self.app.claim(FM[0], S, c).approved_fen is not None]

    @rule(
        data=st.data(),
        principal=amounts,
        cover=st.sampled_from(["direct", "guaranteed", "insured"]),
        ip=st.booleans(),
    )
    def enrol_and_disburse(self, data, principal: Money, cover: str, ip: bool) -> None:
        bank = self.pick(data, BANKS)
        ref = f"L{len(self.loans) + 1}"
        enrolment = Enrolment(
            ref,
            "Fictional firm",
            make_uscc(f"9141060000{len(self.loans):07d}"),
            "tech_loan",
            principal,
            450,
            24,
            self.day,
            cover,
            {"direct": None, "guaranteed": "guar", "insured": "ins"}[cover],
            ("ip_pledge",) if ip else (),
        )
        if self.attempt(lambda: self.app.enrol_loan(party(bank, Role.BANK), S, bank, enrolment)):
            self.loans.append((bank, ref))
            self.attempt(
                lambda: self.app.disburse(
                    party(bank, Role.BANK), S, bank, ref, principal, disbursed_on=self.day
                )
            )

    @precondition(lambda self: self.loans)
    @rule(data=st.data(), principal=amounts)
    def repay(self, data, principal: Money) -> None:
        bank, ref = self.pick(data, self.loans)
        receipt = self.attempt(
            lambda: self.app.repay(
                party(bank, Role.BANK),
                S,
                bank,
                ref,
                principal=principal,
                interest=Money(100),
                repaid_on=self.day,
            )
        )
        if receipt:
            self.facts.append(receipt.fact_id)

    @precondition(lambda self: self.loans)
    @rule(data=st.data(), amount=amounts)
    def premium_or_fee(self, data, amount: Money) -> None:
        bank, ref = self.pick(data, self.loans)
        receipt = self.attempt(
            lambda: self.app.record_premium(
                party("ins", Role.INSURER), S, bank, ref, amount, paid_on=self.day
            )
        )
        receipt = receipt or self.attempt(
            lambda: self.app.record_fee(party("guar", Role.GUARANTOR), S, bank, ref, amount, paid_on=self.day)
        )
        if receipt:
            self.facts.append(receipt.fact_id)

    @precondition(lambda self: self.loans)
    @rule(data=st.data(), overdue=st.integers(min_value=80, max_value=200), fraction=st.integers(1, 100))
    def default_and_file(self, data, overdue: int, fraction: int) -> None:
        bank, ref = self.pick(data, self.loans)
        actor = party(bank, Role.BANK)
        self.attempt(
            lambda: self.app.declare_default(actor, S, bank, ref, overdue_days=overdue, defaulted_on=self.day)
        )
        loan = self.app.loan(actor, S, bank, ref)
        if loan.state == "defaulted":
            claimed = Money(max(1, loan.outstanding_at_default_fen * fraction // 100))
            receipt = self.attempt(
                lambda: self.app.file_claim(actor, S, bank, ref, claimed, filed_on=self.day)
            )
            if receipt:
                self.claims.append(receipt.claim_id)

    @precondition(lambda self: self.claims)
    @rule(data=st.data(), fraction=st.integers(1, 110), checker=st.sampled_from(FM), reject=st.integers(0, 5))
    def review(self, data, fraction: int, checker: Actor, reject: int) -> None:
        open_claims = [c for c in self.claims if self.app.claim(checker, S, c).status != "rejected"]
        claim_id = self.pick(data, open_claims or self.claims)
        claim = self.app.claim(checker, S, claim_id)
        if reject == 0:
            self.attempt(lambda: self.app.reject_claim(checker, S, claim_id, "no", rejected_on=self.day))
            return
        amount = Money(max(1, claim.claimed_fen * fraction // 100))
        if claim.first_approval:
            amount = Money(claim.first_approval["amount_fen"])
        receipt = self.attempt(
            lambda: self.app.approve_claim(checker, S, claim_id, amount, approved_on=self.day)
        )
        if receipt and receipt.status == "awaiting_second_approval":
            other = FM[1] if checker is FM[0] else FM[0]
            self.attempt(lambda: self.app.approve_claim(other, S, claim_id, amount, approved_on=self.day))

    @precondition(lambda self: self.approved_claims())
    @rule(data=st.data(), fraction=st.integers(1, 120))
    def pay(self, data, fraction: int) -> None:
        claim_id = self.pick(data, self.approved_claims())
        claim = self.app.claim(FM[0], S, claim_id)
        payer = self.pick(data, claim.party_order())
        role = {"guar": Role.GUARANTOR, "ins": Role.INSURER}.get(payer, Role.GOVERNMENT)
        actor = FM[0] if payer in FUNDS else party(payer, role)
        amount = Money(max(1, claim.owed_to_bank(payer) * fraction // 100))
        receipt = self.attempt(
            lambda: self.app.pay_settlement(actor, S, claim_id, payer, amount, paid_on=self.day)
        )
        if receipt:
            self.facts.append(receipt.fact_id)

    @precondition(lambda self: self.approved_claims())
    @rule(data=st.data(), fraction=st.integers(1, 80), costs_bp=st.integers(0, 600))
    def recover_and_share(self, data, fraction: int, costs_bp: int) -> None:
        claim_id = self.pick(data, self.approved_claims())
        claim = self.app.claim(FM[0], S, claim_id)
        bank = party(claim.bank_id, Role.BANK)
        gross = Money(max(1, claim.approved_fen * fraction // 100))
        costs = Money(gross.fen * costs_bp // 10_000)
        receipt = self.attempt(
            lambda: self.app.record_recovery(
                bank, S, claim_id, gross=gross, costs=costs, recovered_on=self.day
            )
        )
        if receipt:
            self.facts.append(receipt.fact_id)
            claim = self.app.claim(FM[0], S, claim_id)
            target = self.pick(data, claim.party_order())
            owed = Money(claim.owed_by_bank(target) or 1)
            paid = self.attempt(
                lambda: self.app.pay_recovery_part(bank, S, claim_id, target, owed, paid_on=self.day)
            )
            if paid:
                self.facts.append(paid.fact_id)

    @precondition(lambda self: self.facts)
    @rule(data=st.data())
    def reverse(self, data) -> None:
        fact_id = self.pick(data, self.facts)
        self.attempt(lambda: self.app.reverse(FM[0], S, fact_id, "a mistake", reversed_on=self.day))

    @rule(fund=st.sampled_from(FUNDS), amount=amounts)
    def contribute(self, fund: str, amount: Money) -> None:
        receipt = self.attempt(
            lambda: self.app.record_contribution(FM[0], S, fund, amount, contributed_on=self.day)
        )
        if receipt:
            self.facts.append(receipt.fact_id)

    @invariant()
    def balances_and_debts_never_go_negative(self) -> None:
        scheme = self.app.scheme(S)
        assert all(scheme.fund_balance(f) >= 0 for f in FUNDS)
        for claim_id in self.claims:
            claim = self.app.claim(FM[0], S, claim_id)
            for party_id in claim.party_order():
                assert claim.owed_to_bank(party_id) >= 0 and claim.owed_by_bank(party_id) >= 0

    @invariant()
    def allocations_add_up_to_the_approved_amount(self) -> None:
        for claim_id in self.claims:
            claim = self.app.claim(FM[0], S, claim_id)
            if claim.approved_fen is not None:
                assert sum(claim.allocations.values()) == claim.approved_fen
                assert sum(claim.recovered.values()) <= claim.approved_fen

    @invariant()
    def exposure_is_the_outstanding_of_live_loans(self) -> None:
        outstanding = 0
        for bank, ref in self.loans:
            loan = self.app.loan(FM[0], S, bank, ref)
            if loan.state in ("enrolled", "disbursed", "defaulted"):
                outstanding += (
                    loan.outstanding_at_default_fen if loan.state == "defaulted" else loan.outstanding_fen
                )
        assert self.app.scheme(S).exposure_fen == outstanding

    def teardown(self) -> None:
        """Every aggregate rebuilt from its stored events equals the one the ledger holds."""
        if not hasattr(self, "app"):
            return
        ids = [scheme_uuid(S)] + [loan_uuid(S, b, r) for b, r in self.loans]
        ids += [claim_uuid(S, c) for c in self.claims]
        for aggregate_id in ids:
            live = self.app.repository.get(aggregate_id)
            replayed = project_aggregate(None, self.app.events.get(aggregate_id))
            from_snapshot = self.app.repository.get(aggregate_id, version=live.version)
            assert replayed == live == from_snapshot


TestLedgerInvariants = LedgerMachine.TestCase
TestLedgerInvariants.settings = settings(
    max_examples=30,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
