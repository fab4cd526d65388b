"""Loans: enrolment (one, or a whole tape), the facts of their lifecycle, premiums and fees."""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.actors import Actor, Role
from ledger.bulk import collector_paused
from ledger.commands import (
    DeclareDefault,
    Disburse,
    EnrolLoan,
    EnrolTape,
    LoanCommand,
    RecordFee,
    RecordPremium,
    Repay,
    Withdraw,
    WriteOff,
)
from ledger.domain import Loan, Scheme
from ledger.domain.loan import TAPE_ROWS_MAX, Enrolment
from ledger.domain.scheme import TapeAdmission
from ledger.errors import DuplicateLoan, Forbidden, InvalidRequest, LedgerError, LoanTapeRefused
from ledger.ids import loan_uuid
from ledger.money import format_fen
from ledger.service.call import Receipt
from ledger.service.unit_of_work import UnitOfWork, fen


def enrol_loan(uow: UnitOfWork, cmd: EnrolLoan) -> Receipt:
    _require_own_bank(uow.actor, cmd.bank_id, action="enrol a loan")
    facts = Loan.facts_of(cmd.loan, principal_fen=fen(cmd.loan.principal, "principal"))
    day = uow.day(cmd.loan.enrolled_on, "enrolment date")
    scheme = uow.scheme(cmd.scheme_id)
    # A loan's first event cannot be stored twice: the save of a duplicate fails and the command
    # runs again, looking it up (a look-up on every enrolment would be a query each). A refusal
    # looks too, so that an enrolled loan is refused as `duplicate_loan`, whatever else is wrong.
    enrolled = loan_uuid(cmd.scheme_id, cmd.bank_id, cmd.loan.loan_ref)
    if uow.retrying and uow.exists(enrolled):
        raise _duplicate(cmd.bank_id, cmd.loan.loan_ref)
    try:
        number = scheme.admit_loan(cmd.bank_id, cmd.loan, facts["principal_fen"], day)
    except LedgerError:
        if uow.exists(enrolled):
            raise _duplicate(cmd.bank_id, cmd.loan.loan_ref) from None
        raise
    uow.add(Loan.enrol(uow.actor, cmd.scheme_id, cmd.bank_id, facts, number, day))
    scheme.count_enrolment(uow.actor, cmd.loan.loan_ref, cmd.bank_id, facts["principal_fen"], day)
    return Receipt(details={"rule_version": number})


def enrol_tape(uow: UnitOfWork, cmd: EnrolTape) -> Receipt:
    """Every loan of a tape in one save, or none, with every refused row named. The store refuses
    a loan's first event twice, so rows are first reviewed without looking each loan up; a tape
    with a refused row is reviewed again with the look-ups, so that every duplicate is named."""
    _require_own_bank(uow.actor, cmd.bank_id, action="enrol a loan tape")
    if not cmd.rows or len(cmd.rows) > TAPE_ROWS_MAX:
        problem = {"row": 0, "code": "invalid_request", "message": f"a tape has 1 to {TAPE_ROWS_MAX} rows"}
        raise LoanTapeRefused([problem | {"message": f"{problem['message']}, not {len(cmd.rows)}"}], 1)
    with collector_paused():
        scheme = uow.scheme(cmd.scheme_id)
        refused, loans = _review(uow, scheme, cmd, look_up=uow.retrying)
        if refused and not uow.retrying:
            refused, loans = _review(uow, scheme, cmd, look_up=True)
        if refused:
            raise LoanTapeRefused(refused, len(refused))
        uow.add_first_events(loans)
        counted = [[loan.loan_ref, loan.principal_fen] for loan in loans]
        scheme.count_tape(uow.actor, cmd.bank_id, counted, uow.today())
    total = sum(principal for _, principal in counted)
    return Receipt(details={"loans": len(loans), "principal": format_fen(total)})


def _review(
    uow: UnitOfWork, scheme: Scheme, cmd: EnrolTape, *, look_up: bool
) -> tuple[list[dict], list[Loan.Enrolled]]:
    refused: list[dict[str, Any]] = []
    loans: list[Loan.Enrolled] = []
    seen: set[str] = set()
    tape = TapeAdmission()
    days: dict[date, date] = {}  # each enrolment date of the tape, checked once (a tape has few)
    for number, row in cmd.rows:
        try:
            if isinstance(row, LedgerError):
                raise row
            enrolment: Enrolment = row
            facts = Loan.facts_of(enrolment, principal_fen=fen(enrolment.principal, "principal"))
            on = enrolment.enrolled_on
            day = days.get(on) if type(on) is date else None
            if day is None:
                day = uow.day(on, "enrolment date")
                if type(on) is date:
                    days[on] = day
            if enrolment.loan_ref in seen:
                raise DuplicateLoan(
                    f"loan {enrolment.loan_ref!r} appears twice in the tape", loan_ref=enrolment.loan_ref
                )
            seen.add(enrolment.loan_ref)
            if look_up and uow.app.stored(loan_uuid(cmd.scheme_id, cmd.bank_id, enrolment.loan_ref)):
                raise _duplicate(cmd.bank_id, enrolment.loan_ref)
            rule = scheme.admit_loan(cmd.bank_id, enrolment, facts["principal_fen"], day, tape=tape)
        except LedgerError as error:
            refused.append({"row": number, "code": error.code, "message": error.message})
            continue
        tape.pending_fen += facts["principal_fen"]
        loans.append(Loan.enrolled(uow.actor, cmd.scheme_id, cmd.bank_id, facts, rule, day))
    return refused, loans


def _loan(uow: UnitOfWork, cmd: LoanCommand) -> tuple[Scheme, Loan]:
    scheme, loan = uow.scheme(cmd.scheme_id), uow.loan(cmd.scheme_id, cmd.bank_id, cmd.loan_ref)
    uow.expect_version(loan, f"loan {cmd.bank_id}:{cmd.loan_ref}")
    return scheme, loan


def disburse(uow: UnitOfWork, cmd: Disburse) -> Receipt:
    amount_fen, day = fen(cmd.amount, "disbursement"), uow.day(cmd.disbursed_on, "disbursement date")
    scheme, loan = _loan(uow, cmd)
    loan.disburse(uow.actor, amount_fen, day)
    scheme.count_disbursement(uow.actor, loan.loan_ref, loan.bank_id, amount_fen, day)
    return Receipt()


def repay(uow: UnitOfWork, cmd: Repay) -> Receipt:
    principal_fen = fen(cmd.principal, "principal part", allow_zero=True)
    interest_fen = fen(cmd.interest, "interest part", allow_zero=True)
    day = uow.day(cmd.repaid_on, "repayment date")
    scheme, loan = _loan(uow, cmd)
    fact_id = loan.repay(uow.actor, principal_fen, interest_fen, day)
    scheme.release_exposure(uow.actor, loan.loan_ref, loan.bank_id, principal_fen, fact_id, day)
    return Receipt(fact_id=fact_id, status=loan.state)


def declare_default(uow: UnitOfWork, cmd: DeclareDefault) -> Receipt:
    Loan.check_overdue_days(cmd.overdue_days)
    day = uow.day(cmd.defaulted_on, "default date")
    scheme, loan = _loan(uow, cmd)
    outstanding = loan.declare_default(uow.actor, cmd.overdue_days, scheme.rules(loan.rule_version), day)
    scheme.count_default(
        uow.actor, loan.loan_ref, loan.bank_id, outstanding, day, f"{loan.reference}:default"
    )
    return Receipt(details={"outstanding": format_fen(outstanding)})


def withdraw(uow: UnitOfWork, cmd: Withdraw) -> Receipt:
    day = uow.day(cmd.withdrawn_on, "withdrawal date")
    scheme, loan = _loan(uow, cmd)
    loan.withdraw(uow.actor, cmd.reason, day)
    scheme.release_exposure(uow.actor, loan.loan_ref, loan.bank_id, loan.principal_fen, "withdrawal", day)
    return Receipt()


def write_off(uow: UnitOfWork, cmd: WriteOff) -> Receipt:
    day = uow.day(cmd.written_off_on, "write-off date")
    scheme, loan = _loan(uow, cmd)
    claim = uow.claim(cmd.scheme_id, loan.current_claim_id) if loan.current_claim_id else None
    outstanding = loan.write_off(uow.actor, claim.status if claim else None, day)
    scheme.release_exposure(uow.actor, loan.loan_ref, loan.bank_id, outstanding, "write_off", day)
    return Receipt()


def record_premium(uow: UnitOfWork, cmd: RecordPremium) -> Receipt:
    return _cover_income(uow, cmd, "premium", Role.INSURER, cmd.insurer_id)


def record_fee(uow: UnitOfWork, cmd: RecordFee) -> Receipt:
    return _cover_income(uow, cmd, "fee", Role.GUARANTOR, cmd.guarantor_id)


def _cover_income(
    uow: UnitOfWork, cmd: RecordPremium | RecordFee, kind: str, role: Role, named: str | None
) -> Receipt:
    """A premium (by the loan's insurer) or a fee (by its guarantor); a fund manager names the party."""
    party_id = uow.actor.party_id if uow.actor.role is role else named
    if party_id is None:
        raise InvalidRequest(f"a fund manager recording a {kind} names the {role}", field="party_id")
    amount_fen, day = fen(cmd.amount, kind), uow.day(cmd.paid_on, f"{kind} date")
    scheme, loan = _loan(uow, cmd)
    fact_id = loan.record_cover_income(uow.actor, kind, party_id, amount_fen, day)
    scheme.count_cover_income(uow.actor, fact_id, kind, party_id, day.year, amount_fen, day)
    return Receipt(fact_id=fact_id)


def _duplicate(bank_id: str, loan_ref: str) -> DuplicateLoan:
    return DuplicateLoan(f"bank {bank_id!r} has already enrolled loan {loan_ref!r}", loan_ref=loan_ref)


def _require_own_bank(actor: Actor, bank_id: str, *, action: str) -> None:
    """Banks enrol their own loans only. (On existing loans, another bank's loan is answered as
    unknown instead, so nobody learns of other banks' loans.)"""
    if actor.role is Role.BANK and not actor.is_party(bank_id):
        raise Forbidden(
            f"a principal of bank {actor.party_id!r} may not {action} for bank {bank_id!r}",
            bank_id=bank_id,
        )
