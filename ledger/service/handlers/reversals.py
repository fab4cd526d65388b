"""Corrections (rule book §10): a reversal fact names the fact it reverses and why.

Reversible: repayments, premiums, fees, contributions, settlement payments, recoveries and
recovery-part payments. A reversal is recorded by whoever may record the original, or by the
fund manager, and it moves the pool's figures back in the same atomic save.
"""

from __future__ import annotations

from ledger.actors import Role, require_role
from ledger.commands import Reverse
from ledger.errors import Forbidden
from ledger.ids import parse_fact_id
from ledger.service.call import Receipt
from ledger.service.unit_of_work import UnitOfWork

RECORDERS = {
    "contribution": (Role.GOVERNMENT,),
    "repayment": (Role.BANK,),
    "premium": (Role.INSURER,),
    "fee": (Role.GUARANTOR,),
    "payment": (Role.GUARANTOR, Role.INSURER, Role.GOVERNMENT),
    "recovery": (Role.BANK,),
    "recovery-payment": (Role.BANK,),
}


def reverse(uow: UnitOfWork, cmd: Reverse) -> Receipt:
    ref, actor = parse_fact_id(cmd.fact_id), uow.actor
    require_role(actor, Role.FUND_MANAGER, *RECORDERS[ref.kind], action=f"reverse a {ref.kind}")
    day = uow.day(cmd.reversed_on, "reversal date")
    scheme = uow.scheme(cmd.scheme_id)
    if ref.kind == "contribution":
        if actor.role is Role.GOVERNMENT and not actor.is_party(ref.party_id or ""):
            raise Forbidden(f"a principal of {actor.party_id!r} may not reverse {cmd.fact_id!r}")
        uow.expect_version(scheme, f"scheme {scheme.scheme_id}")
        scheme.reverse_contribution(actor, cmd.fact_id, cmd.reason, day)
        return Receipt(fact_id=cmd.fact_id)
    if ref.claim_id is None:
        loan = uow.loan(cmd.scheme_id, ref.bank_id or "", ref.loan_ref or "")
        uow.expect_version(loan, f"loan {loan.reference}")
        loan.reverse_fact(actor, cmd.fact_id, cmd.reason, scheme, day)
        return Receipt(fact_id=cmd.fact_id, status=loan.state)
    claim = uow.claim(cmd.scheme_id, ref.claim_id)
    uow.expect_version(claim, f"claim {claim.claim_id}")
    loan = uow.loan(cmd.scheme_id, claim.bank_id, claim.loan_ref) if ref.kind == "payment" else None
    claim.reverse_fact(actor, cmd.fact_id, cmd.reason, scheme, loan, day)
    return Receipt(fact_id=cmd.fact_id, claim_id=claim.claim_id, status=claim.status)
