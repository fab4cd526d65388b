"""Claims: filing, the fund manager's review, settlement payments and recoveries (§5, §6)."""

from __future__ import annotations

from ledger.actors import Role
from ledger.commands import (
    ApproveClaim,
    FileClaim,
    PayRecoveryPart,
    PaySettlement,
    RecordRecovery,
    RejectClaim,
)
from ledger.errors import Forbidden
from ledger.money import format_fen
from ledger.service.call import Receipt
from ledger.service.unit_of_work import UnitOfWork, fen


def file_claim(uow: UnitOfWork, cmd: FileClaim) -> Receipt:
    claimed_fen, day = fen(cmd.claimed, "claimed amount"), uow.day(cmd.filed_on, "filing date")
    scheme, loan = uow.scheme(cmd.scheme_id), uow.loan(cmd.scheme_id, cmd.bank_id, cmd.loan_ref)
    uow.expect_version(loan, f"loan {cmd.bank_id}:{cmd.loan_ref}")
    current = uow.claim(cmd.scheme_id, loan.current_claim_id) if loan.current_claim_id else None
    claim = uow.add(loan.file_claim(uow.actor, current, claimed_fen, scheme.rules(loan.rule_version), day))
    return Receipt(claim_id=claim.claim_id, status=claim.status)


def approve_claim(uow: UnitOfWork, cmd: ApproveClaim) -> Receipt:
    amount_fen, day = fen(cmd.amount, "approved amount"), uow.day(cmd.approved_on, "approval date")
    scheme, claim = uow.scheme(cmd.scheme_id), uow.claim(cmd.scheme_id, cmd.claim_id)
    uow.expect_version(claim, f"claim {cmd.claim_id}")
    loan = uow.loan(cmd.scheme_id, claim.bank_id, claim.loan_ref)
    allocation = claim.approve(uow.actor, amount_fen, loan, scheme, day)
    if allocation is None:  # the first of two approvals
        return Receipt(claim_id=claim.claim_id, status=claim.status)
    allocations = {p.party_id: format_fen(p.allocated_fen) for p in allocation.parts}
    return Receipt(claim_id=claim.claim_id, status=claim.status, details={"allocations": allocations})


def reject_claim(uow: UnitOfWork, cmd: RejectClaim) -> Receipt:
    day = uow.day(cmd.rejected_on, "rejection date")
    uow.scheme(cmd.scheme_id)
    claim = uow.claim(cmd.scheme_id, cmd.claim_id)
    uow.expect_version(claim, f"claim {cmd.claim_id}")
    claim.reject(uow.actor, cmd.reason, day)
    return Receipt(claim_id=claim.claim_id, status=claim.status)


def pay_settlement(uow: UnitOfWork, cmd: PaySettlement) -> Receipt:
    actor = uow.actor
    if actor.role is not Role.FUND_MANAGER and not actor.is_party(cmd.party_id):
        raise Forbidden(
            f"a principal of {actor.party_id!r} records its own payments, not those of {cmd.party_id!r}",
            party_id=cmd.party_id,
        )
    amount_fen, day = fen(cmd.amount, "payment"), uow.day(cmd.paid_on, "payment date")
    scheme, claim = uow.scheme(cmd.scheme_id), uow.claim(cmd.scheme_id, cmd.claim_id)
    uow.expect_version(claim, f"claim {cmd.claim_id}")
    government = scheme.role_of(cmd.party_id) == "government"
    if actor.role is Role.FUND_MANAGER and not government:
        raise Forbidden(
            f"a fund manager records government fund payments; {cmd.party_id!r} pays its own",
            party_id=cmd.party_id,
        )
    fact_id = claim.pay_settlement(actor, cmd.party_id, amount_fen, day, fund=scheme if government else None)
    return Receipt(fact_id=fact_id, claim_id=claim.claim_id, status=claim.status)


def record_recovery(uow: UnitOfWork, cmd: RecordRecovery) -> Receipt:
    gross_fen = fen(cmd.gross, "gross recovery")
    costs_fen = fen(cmd.costs, "recovery costs", allow_zero=True)
    day = uow.day(cmd.recovered_on, "recovery date")
    scheme, claim = uow.scheme(cmd.scheme_id), uow.claim(cmd.scheme_id, cmd.claim_id)
    uow.expect_version(claim, f"claim {cmd.claim_id}")
    fact_id = claim.record_recovery(uow.actor, gross_fen, costs_fen, scheme, day)
    parts = {p: format_fen(f) for p, f in claim.recoveries[fact_id]["parts"].items()}
    return Receipt(fact_id=fact_id, claim_id=claim.claim_id, details={"parts": parts})


def pay_recovery_part(uow: UnitOfWork, cmd: PayRecoveryPart) -> Receipt:
    amount_fen, day = fen(cmd.amount, "payment"), uow.day(cmd.paid_on, "payment date")
    scheme, claim = uow.scheme(cmd.scheme_id), uow.claim(cmd.scheme_id, cmd.claim_id)
    uow.expect_version(claim, f"claim {cmd.claim_id}")
    fund = scheme if scheme.role_of(cmd.party_id) == "government" else None
    fact_id = claim.pay_recovery_part(uow.actor, cmd.party_id, amount_fen, day, fund=fund)
    return Receipt(fact_id=fact_id, claim_id=claim.claim_id)
