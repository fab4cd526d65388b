"""Corrections (rule book §10): a reversal fact names the fact it reverses and why.

Reversible: repayments, premiums, fees, contributions, settlement payments, recoveries and
recovery-part payments. A reversal is recorded by whoever may record the original, or by the
fund manager, and it moves the pool's figures back in the same atomic save.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.actors import Actor, Role, require_role
from ledger.domain import Claim, Scheme
from ledger.errors import Forbidden, Irreversible
from ledger.ids import FactRef, parse_fact_id
from ledger.money import format_fen
from ledger.service.base import LedgerBase, Receipt

RECORDERS = {
    "contribution": (Role.GOVERNMENT,),
    "repayment": (Role.BANK,),
    "premium": (Role.INSURER,),
    "fee": (Role.GUARANTOR,),
    "payment": (Role.GUARANTOR, Role.INSURER, Role.GOVERNMENT),
    "recovery": (Role.BANK,),
    "recovery-payment": (Role.BANK,),
}


class ReversalService(LedgerBase):
    def reverse(
        self, actor: Actor, scheme_id: str, fact_id: str, reason: str, *, reversed_on: date
    ) -> Receipt:
        ref = parse_fact_id(fact_id)
        require_role(actor, Role.FUND_MANAGER, *RECORDERS[ref.kind], action=f"reverse a {ref.kind}")
        day = self._day(reversed_on, "reversal date")

        def command() -> Any:
            scheme = self._scheme(scheme_id)
            if ref.kind == "contribution":
                return self._reverse_contribution(actor, scheme, ref, fact_id, reason, day)
            if ref.claim_id is None:
                return self._reverse_loan_fact(actor, scheme, ref, fact_id, reason, day)
            return self._reverse_claim_fact(actor, scheme, ref, fact_id, reason, day)

        return self._execute(command)

    def _reverse_contribution(
        self, actor: Actor, scheme: Scheme, ref: FactRef, fact_id: str, reason: str, day: date
    ) -> Any:
        if actor.role is Role.GOVERNMENT and not actor.is_party(ref.party_id or ""):
            raise Forbidden(f"a principal of {actor.party_id!r} may not reverse {fact_id!r}")
        self._check_version(scheme, f"scheme {scheme.scheme_id}")
        scheme.reverse_contribution(actor, fact_id, reason, day)
        return [scheme], Receipt(fact_id=fact_id)

    def _reverse_loan_fact(
        self, actor: Actor, scheme: Scheme, ref: FactRef, fact_id: str, reason: str, day: date
    ) -> Any:
        loan = self._loan(actor, scheme.scheme_id, ref.bank_id, ref.loan_ref)  # type: ignore[arg-type]
        self._check_version(loan, f"loan {loan.reference}")
        if ref.kind == "repayment":
            principal_fen = loan.reverse_repayment(actor, fact_id, reason, day)
            scheme.release_exposure(
                actor, loan.loan_ref, loan.bank_id, -principal_fen, f"reversal of {fact_id}", day
            )
        else:
            fact = loan.reverse_cover_income(actor, fact_id, reason, day)
            scheme.count_cover_income(
                actor,
                fact_id,
                fact["kind"],
                fact["party_id"],
                fact["business_date"].year,
                -fact["amount_fen"],
                day,
            )
        return [loan, scheme], Receipt(fact_id=fact_id, status=loan.state)

    def _reverse_claim_fact(
        self, actor: Actor, scheme: Scheme, ref: FactRef, fact_id: str, reason: str, day: date
    ) -> Any:
        claim: Claim = self._claim(actor, scheme.scheme_id, ref.claim_id)  # type: ignore[arg-type]
        self._check_version(claim, f"claim {claim.claim_id}")
        if ref.kind == "recovery":
            claim.reverse_recovery(actor, fact_id, reason, day)
            return [claim], Receipt(fact_id=fact_id, claim_id=claim.claim_id, status=claim.status)
        facts = claim.payments if ref.kind == "payment" else claim.recovery_payments
        payment = claim.live_fact(facts, fact_id)
        payer, amount_fen = payment["party_id"], payment["amount_fen"]
        if ref.kind == "payment" and actor.role is not Role.FUND_MANAGER and not actor.is_party(payer):
            raise Forbidden(f"a principal of {actor.party_id!r} may not reverse {fact_id!r}")
        government = scheme.role_of(payer) == "government"
        if ref.kind == "payment":
            loan = self._loan(actor, scheme.scheme_id, claim.bank_id, claim.loan_ref)
            written_off = f"{loan.reference}:write-off" if loan.state == "written_off" else None
            claim.reverse_settlement(actor, fact_id, reason, day, written_off)
            if government:
                scheme.count_fund_payment(actor, fact_id, payer, -amount_fen, day)
        else:
            if government and scheme.fund_balance(payer) < amount_fen:
                raise Irreversible(
                    f"reversing {fact_id!r} ({format_fen(amount_fen)}) would make the fund balance "
                    f"of {payer!r} negative ({format_fen(scheme.fund_balance(payer))})",
                    balance=format_fen(scheme.fund_balance(payer)),
                )
            claim.reverse_recovery_payment(actor, fact_id, reason, day)
            if government:
                scheme.count_fund_recovery(actor, fact_id, payer, -amount_fen, day)
        saved = [claim, scheme] if government else [claim]
        return saved, Receipt(fact_id=fact_id, claim_id=claim.claim_id, status=claim.status)
