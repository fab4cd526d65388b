"""Commands on loans: enrolment and the facts of their lifecycle, premiums and fees (§4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.actors import Actor, Role, require_role
from ledger.domain import Loan, Scheme
from ledger.errors import DuplicateLoan, Forbidden, IneligibleLoan, InvalidRequest, LedgerError
from ledger.ids import check_reference, loan_uuid
from ledger.money import Money, format_fen
from ledger.rules import RuleVersion
from ledger.rules.engine import eligibility_problems
from ledger.service.base import LedgerBase, Receipt
from ledger.service.schemes import check_name
from ledger.text import REASON_CHARS_MAX, check_text
from ledger.uscc import validate_uscc

TAGS_MAX = 16
RATE_BP_MAX = 100_000
TERM_MONTHS_MAX = 1200
OVERDUE_DAYS_MAX = 36_500
COVER_ROLES = {"direct": None, "guaranteed": "guarantor", "insured": "insurer"}


@dataclass(frozen=True)
class Enrolment:
    """The facts of a loan at enrolment (备案)."""

    loan_ref: str
    borrower_name: str
    borrower_uscc: str
    product: str
    principal: Money
    rate_bp: int
    term_months: int
    enrolled_on: date
    cover: str = "direct"
    cover_party_id: str | None = None
    tags: tuple[str, ...] = ()


def _duplicate(bank_id: str, loan_ref: str) -> DuplicateLoan:
    return DuplicateLoan(f"bank {bank_id!r} has already enrolled loan {loan_ref!r}", loan_ref=loan_ref)


class LoanService(LedgerBase):
    def enrol_loan(self, actor: Actor, scheme_id: str, bank_id: str, enrolment: Enrolment) -> Receipt:
        _require_own_bank(actor, bank_id, action="enrol a loan")
        facts = self._check_enrolment(bank_id, enrolment)

        def command() -> Any:
            scheme = self._scheme(scheme_id)
            number, rules = self._admissible(
                scheme, bank_id, enrolment, facts, look_for_duplicate=self._retrying()
            )
            scheme.enrol(
                actor,
                enrolment.loan_ref,
                bank_id,
                facts["principal_fen"],
                rules,
                enrolment.cover,
                enrolment.cover_party_id,
                facts["business_date"],
            )
            loan = self._new_loan(actor, scheme_id, bank_id, facts, number)
            return [loan, scheme], Receipt(details={"rule_version": number})

        return self._execute(command)

    def _admissible(
        self,
        scheme: Scheme,
        bank_id: str,
        e: Enrolment,
        facts: dict[str, Any],
        *,
        pending_fen: int = 0,
        look_for_duplicate: bool = True,
        unblocked: set[tuple[Any, ...]] | None = None,
    ) -> tuple[int, RuleVersion]:
        """Every check of an enrolment against the scheme; returns its rule version.

        Without `look_for_duplicate` the caller relies on the store: a loan's first event cannot be
        recorded twice (its id and version are unique), so the save of a duplicate fails whole and
        the command runs again, looking. A refusal is checked for a duplicate either way, so that a
        loan enrolled already is always refused as `duplicate_loan`, whatever else is wrong."""
        if look_for_duplicate and self._exists(loan_uuid(scheme.scheme_id, bank_id, e.loan_ref)):
            raise _duplicate(bank_id, e.loan_ref)
        try:
            scheme.require_member(bank_id, "bank", as_what="bank")
            if e.cover_party_id is not None:
                role = COVER_ROLES[e.cover]
                scheme.require_member(e.cover_party_id, role, as_what=role)
            number = scheme.rule_number_for_enrolment(facts["business_date"])
            rules = scheme.rules(number)
            check_eligible(
                rules, number, e.cover, facts["principal_fen"], e.term_months, f"loan {e.loan_ref!r}"
            )
            clear = (bank_id, number, e.cover, e.cover_party_id)
            if unblocked is None or clear not in unblocked:
                scheme.refuse_if_blocked(bank_id, rules, e.cover, e.cover_party_id)
                if unblocked is not None:
                    unblocked.add(clear)
            scheme.check_leverage(facts["principal_fen"], rules, pending_fen=pending_fen)
        except LedgerError:
            if not look_for_duplicate and self._exists(loan_uuid(scheme.scheme_id, bank_id, e.loan_ref)):
                raise _duplicate(bank_id, e.loan_ref) from None
            raise
        return number, rules

    @staticmethod
    def _new_loan(actor: Actor, scheme_id: str, bank_id: str, facts: dict[str, Any], number: int) -> Loan:
        return Loan._create(
            Loan.Enrolled,
            id=loan_uuid(scheme_id, bank_id, facts["loan_ref"]),
            actor=actor,
            scheme_id=scheme_id,
            bank_id=bank_id,
            rule_version=number,
            **facts,
        )

    def _check_enrolment(self, bank_id: str, e: Enrolment) -> dict[str, Any]:
        check_reference(bank_id, field="bank id")
        check_reference(e.loan_ref, field="loan reference")
        check_reference(e.product, field="product")
        if not isinstance(e.tags, (tuple, list)) or len(e.tags) > TAGS_MAX:
            raise InvalidRequest(f"tags must be a list of at most {TAGS_MAX} tags", field="tags")
        for tag in e.tags:
            check_reference(tag, field="tag")
        if e.cover not in COVER_ROLES:
            raise InvalidRequest(f"cover {e.cover!r} is not direct, guaranteed or insured", field="cover")
        if (e.cover == "direct") != (e.cover_party_id is None):
            raise InvalidRequest(
                f"a {e.cover} loan {'has no' if e.cover == 'direct' else 'needs a'} cover party",
                field="cover_party_id",
            )
        for name, value, top in (
            ("rate_bp", e.rate_bp, RATE_BP_MAX),
            ("term_months", e.term_months, TERM_MONTHS_MAX),
        ):
            if type(value) is not int or not 0 < value <= top:
                raise InvalidRequest(f"{name} {value!r} must be a whole number from 1 to {top}", field=name)
        return {
            "loan_ref": e.loan_ref,
            "borrower_name": check_name(e.borrower_name, field="borrower name"),
            "borrower_uscc": validate_uscc(e.borrower_uscc),
            "product": e.product,
            "tags": list(dict.fromkeys(e.tags)),
            "principal_fen": self._fen(e.principal, "principal"),
            "rate_bp": e.rate_bp,
            "term_months": e.term_months,
            "cover": e.cover,
            "cover_party_id": e.cover_party_id,
            "business_date": self._day(e.enrolled_on, "enrolment date"),
        }

    def disburse(
        self, actor: Actor, scheme_id: str, bank_id: str, loan_ref: str, amount: Money, *, disbursed_on: date
    ) -> Receipt:
        require_role(actor, Role.BANK, action="record a disbursement")
        amount_fen, day = self._fen(amount, "disbursement"), self._day(disbursed_on, "disbursement date")

        def command() -> Any:
            scheme, loan = self._scheme(scheme_id), self._loan(actor, scheme_id, bank_id, loan_ref)
            self._check_version(loan, f"loan {bank_id}:{loan_ref}")
            loan.disburse(actor, amount_fen, day)
            scheme.count_disbursement(actor, loan_ref, bank_id, amount_fen, day)
            return [loan, scheme], Receipt()

        return self._execute(command)

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
        require_role(actor, Role.BANK, action="record a repayment")
        principal_fen = self._fen(principal, "principal part", allow_zero=True)
        interest_fen = self._fen(interest, "interest part", allow_zero=True)
        day = self._day(repaid_on, "repayment date")

        def command() -> Any:
            scheme, loan = self._scheme(scheme_id), self._loan(actor, scheme_id, bank_id, loan_ref)
            self._check_version(loan, f"loan {bank_id}:{loan_ref}")
            fact_id = loan.repay(actor, principal_fen, interest_fen, day)
            scheme.release_exposure(actor, loan_ref, bank_id, principal_fen, fact_id, day)
            return [loan, scheme], Receipt(fact_id=fact_id, status=loan.state)

        return self._execute(command)

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
        require_role(actor, Role.BANK, action="declare a default")
        if type(overdue_days) is not int or not 0 <= overdue_days <= OVERDUE_DAYS_MAX:
            raise InvalidRequest(
                f"overdue_days {overdue_days!r} must be a whole number of days", field="overdue_days"
            )
        day = self._day(defaulted_on, "default date")

        def command() -> Any:
            scheme, loan = self._scheme(scheme_id), self._loan(actor, scheme_id, bank_id, loan_ref)
            self._check_version(loan, f"loan {bank_id}:{loan_ref}")
            outstanding = loan.declare_default(actor, overdue_days, scheme.rules(loan.rule_version), day)
            trigger = f"{bank_id}:{loan_ref}:default"
            scheme.count_default(actor, loan_ref, bank_id, outstanding, day, trigger)
            return [loan, scheme], Receipt(details={"outstanding": format_fen(outstanding)})

        return self._execute(command)

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
        require_role(actor, Role.BANK, action="withdraw a loan")
        reason = check_text(reason or "", field="reason", max_chars=REASON_CHARS_MAX, required=False)
        day = self._day(withdrawn_on, "withdrawal date")

        def command() -> Any:
            scheme, loan = self._scheme(scheme_id), self._loan(actor, scheme_id, bank_id, loan_ref)
            self._check_version(loan, f"loan {bank_id}:{loan_ref}")
            loan.withdraw(actor, reason, day)
            scheme.release_exposure(actor, loan_ref, bank_id, loan.principal_fen, "withdrawal", day)
            return [loan, scheme], Receipt()

        return self._execute(command)

    def write_off(
        self, actor: Actor, scheme_id: str, bank_id: str, loan_ref: str, *, written_off_on: date
    ) -> Receipt:
        require_role(actor, Role.BANK, Role.FUND_MANAGER, action="write off a loan")
        day = self._day(written_off_on, "write-off date")

        def command() -> Any:
            scheme, loan = self._scheme(scheme_id), self._loan(actor, scheme_id, bank_id, loan_ref)
            self._check_version(loan, f"loan {bank_id}:{loan_ref}")
            status = None
            if loan.current_claim_id is not None:
                status = self._claim(actor, scheme_id, loan.current_claim_id).status
            outstanding = loan.write_off(actor, status, day)
            scheme.release_exposure(actor, loan_ref, bank_id, outstanding, "write_off", day)
            return [loan, scheme], Receipt()

        return self._execute(command)

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
        return self._cover_income(actor, "premium", scheme_id, bank_id, loan_ref, amount, paid_on, insurer_id)

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
        return self._cover_income(actor, "fee", scheme_id, bank_id, loan_ref, amount, paid_on, guarantor_id)

    def _cover_income(
        self,
        actor: Actor,
        kind: str,
        scheme_id: str,
        bank_id: str,
        loan_ref: str,
        amount: Money,
        on: date,
        party_id: str | None,
    ) -> Receipt:
        role = Role.INSURER if kind == "premium" else Role.GUARANTOR
        require_role(actor, role, Role.FUND_MANAGER, action=f"record a {kind}")
        if actor.role is role:
            party_id = actor.party_id
        elif party_id is None:
            raise InvalidRequest(f"a fund manager recording a {kind} names the {role}", field="party_id")
        amount_fen, day = self._fen(amount, kind), self._day(on, f"{kind} date")

        def command() -> Any:
            scheme, loan = self._scheme(scheme_id), self._loan(actor, scheme_id, bank_id, loan_ref)
            self._check_version(loan, f"loan {bank_id}:{loan_ref}")
            fact_id = loan.record_cover_income(actor, kind, party_id, amount_fen, day)
            scheme.count_cover_income(actor, fact_id, kind, party_id, day.year, amount_fen, day)
            return [loan, scheme], Receipt(fact_id=fact_id)

        return self._execute(command)


def _require_own_bank(actor: Actor, bank_id: str, *, action: str) -> None:
    """Banks enrol their own loans only. (On existing loans, `_loan` answers another bank's
    loan as unknown instead, so nobody learns of other banks' loans.)"""
    require_role(actor, Role.BANK, action=action)
    if actor.role is Role.BANK and not actor.is_party(bank_id):
        raise Forbidden(
            f"a principal of bank {actor.party_id!r} may not {action} for bank {bank_id!r}",
            bank_id=bank_id,
        )


def check_eligible(
    rules: RuleVersion, number: int, cover: str, principal_fen: int, term_months: int | None, what: str
) -> None:
    problems = eligibility_problems(rules, cover, principal_fen, term_months)
    if problems:
        raise IneligibleLoan(
            f"{what} is ineligible under rule version {number}: " + "; ".join(problems),
            problems=problems,
        )
