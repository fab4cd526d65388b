"""The demo pilot as a small discrete-event simulation over 2018–2020.

Each fact is scheduled on its business date and recorded through the application service in
date order, exactly as banks, the insurer, the guarantor and the fund manager would record them.
Refusals (a tripped breaker, the leverage limit) are counted, never worked around.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from importlib import resources
from typing import Any

from ledger.allot import split
from ledger.errors import LedgerError
from ledger.money import Money
from ledger.service import Ledger
from riskpool.demo.cast import (
    CONTRIBUTIONS,
    END,
    FM_CHECKER,
    FM_MAKER,
    SCHEME_NAME,
    START,
    TARGETS,
    Cast,
    all_parties,
)
from riskpool.demo.loans import PlannedLoan, plan_loans

RULE_FILES = [("v1-2018.yaml", date(2018, 9, 30)), ("v2-2020.yaml", date(2019, 12, 15))]


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, 28))


class Pilot:
    def __init__(self, app: Ledger, scheme_id: str, seed: int) -> None:
        self.app, self.scheme_id = app, scheme_id
        self.rng = random.Random(seed + 1)
        self.loans = plan_loans(seed)
        self.claims: list[str] = []
        self.refused: Counter[str] = Counter()
        self._heap: list[tuple[date, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = 0

    def at(self, day: date, action: Callable[..., None], *args: Any) -> None:
        if day <= END:
            heapq.heappush(self._heap, (day, self._seq, action, args))
            self._seq += 1

    def later(self, day: date, low: int, high: int) -> date:
        return day + timedelta(days=self.rng.randint(low, high))

    def run(self, advance: Callable[[int], None]) -> None:
        self._found_scheme()
        for day, party, yuan in CONTRIBUTIONS:
            self.at(day, self._contribute, party, yuan)
        for loan in self.loans:
            self.at(loan.enrolment.enrolled_on, self._enrol, loan)
        done = START
        while self._heap:
            day, _, action, args = heapq.heappop(self._heap)
            action(day, *args)
            advance((day - done).days)
            done = day
        advance((END - done).days)

    def _found_scheme(self) -> None:
        app, s = self.app, self.scheme_id
        app.create_scheme(FM_MAKER, s, SCHEME_NAME, created_on=START, demo=True)
        for party_id, role, name in all_parties():
            try:
                app.register_party(FM_MAKER, party_id, role, name, registered_on=START)
            except LedgerError as error:
                if error.code != "already_exists":
                    raise
            app.admit_member(FM_MAKER, s, party_id, admitted_on=START)
        for name, published_on in RULE_FILES:
            text = resources.files("riskpool.demo").joinpath("rules", name).read_text(encoding="utf-8")
            app.publish_rules(FM_MAKER, s, text, published_on=published_on)
        app.set_targets(FM_MAKER, s, TARGETS, set_on=START)

    def _contribute(self, day: date, party: str, yuan: str) -> None:
        self.app.record_contribution(FM_MAKER, self.scheme_id, party, Money.yuan(yuan), contributed_on=day)

    def _enrol(self, day: date, loan: PlannedLoan) -> None:
        try:
            self.app.enrol_loan(Cast.bank(loan.bank_id), self.scheme_id, loan.bank_id, loan.enrolment)
        except LedgerError as error:
            self.refused[error.code] += 1
            return
        self.at(self.later(day, 1, 5), self._disburse, loan)

    def _disburse(self, day: date, loan: PlannedLoan) -> None:
        e = loan.enrolment
        self.app.disburse(
            Cast.bank(loan.bank_id), self.scheme_id, loan.bank_id, e.loan_ref, e.principal, disbursed_on=day
        )
        instalments = e.term_months // 3
        parts = split(e.principal.fen, [1] * instalments)
        outstanding = e.principal.fen
        for k, part in enumerate(parts, start=1):
            due = add_months(day, 3 * k)
            if loan.defaults_at == k:
                self.at(self.later(due, 90, 110), self._default, loan, due)
                break
            interest = outstanding * e.rate_bp * 3 // 120_000
            self.at(due, self._repay, loan, part, interest)
            outstanding -= part
        last = add_months(day, 3 * (loan.defaults_at or instalments))
        for year in range(e.term_months // 12 + 1):
            anniversary = add_months(day, 12 * year)
            if e.cover != "direct" and anniversary < last:
                self.at(anniversary, self._cover_income, loan)

    def _cover_income(self, day: date, loan: PlannedLoan) -> None:
        """A yearly premium (2.5% of principal) or guarantee fee (2%), paid on each anniversary."""
        e = loan.enrolment
        if e.cover == "insured":
            self.app.record_premium(
                Cast.insurer(),
                self.scheme_id,
                loan.bank_id,
                e.loan_ref,
                Money(e.principal.fen * 250 // 10_000),
                paid_on=day,
            )
        else:
            self.app.record_fee(
                Cast.guarantor(),
                self.scheme_id,
                loan.bank_id,
                e.loan_ref,
                Money(e.principal.fen * 200 // 10_000),
                paid_on=day,
            )

    def _repay(self, day: date, loan: PlannedLoan, principal_fen: int, interest_fen: int) -> None:
        self.app.repay(
            Cast.bank(loan.bank_id),
            self.scheme_id,
            loan.bank_id,
            loan.loan_ref,
            principal=Money(principal_fen),
            interest=Money(interest_fen),
            repaid_on=day,
        )

    def _default(self, day: date, loan: PlannedLoan, missed_due: date) -> None:
        self.app.declare_default(
            Cast.bank(loan.bank_id),
            self.scheme_id,
            loan.bank_id,
            loan.loan_ref,
            overdue_days=(day - missed_due).days,
            defaulted_on=day,
        )
        self.at(self.later(day, 7, 30), self._file, loan)

    def _file(self, day: date, loan: PlannedLoan) -> None:
        bank = Cast.bank(loan.bank_id)
        outstanding = self.app.loan(
            bank, self.scheme_id, loan.bank_id, loan.loan_ref
        ).outstanding_at_default_fen
        receipt = self.app.file_claim(
            bank, self.scheme_id, loan.bank_id, loan.loan_ref, Money(outstanding), filed_on=day
        )
        self.claims.append(receipt.claim_id)
        self.at(self.later(day, 10, 25), self._review, loan, receipt.claim_id)

    def _review(self, day: date, loan: PlannedLoan, claim_id: str) -> None:
        claim = self.app.claim(FM_MAKER, self.scheme_id, claim_id)
        if claim_id.endswith(":1") and self.rng.random() < 0.15:
            self.app.reject_claim(
                FM_MAKER,
                self.scheme_id,
                claim_id,
                "抵押物处置材料不全 (collateral disposal papers incomplete)",
                rejected_on=day,
            )
            self.at(self.later(day, 10, 30), self._file, loan)
            return
        amount = claim.claimed_fen if self.rng.random() < 0.75 else claim.claimed_fen * 97 // 10_000 * 100
        receipt = self.app.approve_claim(FM_MAKER, self.scheme_id, claim_id, Money(amount), approved_on=day)
        if receipt.status == "awaiting_second_approval":
            self.at(self.later(day, 1, 6), self._second_approval, loan, claim_id, amount)
        else:
            self._after_final_approval(day, loan, claim_id)

    def _second_approval(self, day: date, loan: PlannedLoan, claim_id: str, amount_fen: int) -> None:
        self.app.approve_claim(FM_CHECKER, self.scheme_id, claim_id, Money(amount_fen), approved_on=day)
        self._after_final_approval(day, loan, claim_id)

    def _after_final_approval(self, day: date, loan: PlannedLoan, claim_id: str) -> None:
        claim = self.app.claim(FM_MAKER, self.scheme_id, claim_id)
        for party_id in claim.party_order():
            if claim.owed_to_bank(party_id) > 0:
                self.at(self.later(day, 10, 50), self._pay, claim_id, party_id)
        if self.rng.random() < 0.45:
            self.at(self.later(day, 60, 240), self._recover, loan, claim_id)
        if self.rng.random() < 0.6:
            self.at(self.later(day, 150, 200), self._write_off, loan, claim_id)

    def _pay(self, day: date, claim_id: str, party_id: str) -> None:
        claim = self.app.claim(FM_MAKER, self.scheme_id, claim_id)
        amount = claim.owed_to_bank(party_id)
        scheme = self.app.scheme(self.scheme_id)
        if scheme.role_of(party_id) == "government":
            amount = min(amount, scheme.fund_balance(party_id))
        if amount > 0:
            self.app.pay_settlement(
                Cast.payer(party_id), self.scheme_id, claim_id, party_id, Money(amount), paid_on=day
            )
        if claim.owed_to_bank(party_id) > amount:
            self.at(self.later(day, 30, 30), self._pay, claim_id, party_id)

    def _recover(self, day: date, loan: PlannedLoan, claim_id: str) -> None:
        claim = self.app.claim(FM_MAKER, self.scheme_id, claim_id)
        gross = claim.approved_fen * self.rng.randint(15, 60) // 100 // 100 * 100
        costs = gross * self.rng.randint(0, 500) // 10_000
        bank = Cast.bank(loan.bank_id)
        self.app.record_recovery(
            bank, self.scheme_id, claim_id, gross=Money(gross), costs=Money(costs), recovered_on=day
        )
        claim = self.app.claim(FM_MAKER, self.scheme_id, claim_id)
        for party_id in claim.party_order():
            owed = claim.owed_by_bank(party_id)
            if owed > 0:
                self.at(self.later(day, 10, 40), self._pay_recovery, loan, claim_id, party_id, owed)

    def _pay_recovery(self, day: date, loan: PlannedLoan, claim_id: str, party_id: str, owed: int) -> None:
        self.app.pay_recovery_part(
            Cast.bank(loan.bank_id), self.scheme_id, claim_id, party_id, Money(owed), paid_on=day
        )

    def _write_off(self, day: date, loan: PlannedLoan, claim_id: str) -> None:
        if self.app.claim(FM_MAKER, self.scheme_id, claim_id).status != "settled":
            self.at(self.later(day, 60, 60), self._write_off, loan, claim_id)
            return
        self.app.write_off(
            Cast.bank(loan.bank_id), self.scheme_id, loan.bank_id, loan.loan_ref, written_off_on=day
        )
