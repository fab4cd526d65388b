"""Commands on claims: filing, review, settlement payments and recoveries (§5, §6)."""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.actors import Actor, Role, require_role
from ledger.domain import Claim, Loan
from ledger.errors import ClaimAlreadyOpen, ClaimExceedsOutstanding, ClaimWindowClosed, Forbidden
from ledger.ids import claim_id as make_claim_id, claim_uuid
from ledger.money import Money, format_fen
from ledger.rules import LoanTerms, allocate
from ledger.service.base import LedgerBase, Receipt


def loan_terms(loan: Loan) -> LoanTerms:
    return LoanTerms(loan.bank_id, loan.principal_fen, tuple(loan.tags), loan.cover, loan.cover_party_id)


class ClaimService(LedgerBase):
    def file_claim(
        self, actor: Actor, scheme_id: str, bank_id: str, loan_ref: str, claimed: Money, *, filed_on: date
    ) -> Receipt:
        require_role(actor, Role.BANK, action="file a claim")
        claimed_fen, day = self._fen(claimed, "claimed amount"), self._day(filed_on, "filing date")

        def command() -> Any:
            scheme, loan = self._scheme(scheme_id), self._loan(actor, scheme_id, bank_id, loan_ref)
            self._check_version(loan, f"loan {bank_id}:{loan_ref}")
            loan.require_state("defaulted", action="a claim")
            if loan.current_claim_id is not None:
                current = self._claim(actor, scheme_id, loan.current_claim_id)
                if current.status != "rejected":
                    raise ClaimAlreadyOpen(
                        f"loan {loan.reference} already has claim {current.claim_id} ({current.status})",
                        claim_id=current.claim_id,
                    )
            if claimed_fen > loan.outstanding_at_default_fen:
                raise ClaimExceedsOutstanding(
                    f"claimed {format_fen(claimed_fen)} is above the outstanding principal at default "
                    f"{format_fen(loan.outstanding_at_default_fen)}",
                    claimed=format_fen(claimed_fen),
                    outstanding=format_fen(loan.outstanding_at_default_fen),
                )
            window = scheme.rules(loan.rule_version).claim_window_days
            days = (day - loan.defaulted_on).days
            if days > window:
                raise ClaimWindowClosed(
                    f"filed {days} days after the default of {loan.defaulted_on}; the window is "
                    f"{window} days",
                    days=days,
                    window_days=window,
                )
            claim_id = make_claim_id(bank_id, loan_ref, loan.claims_filed + 1)
            loan.file_claim(actor, claim_id, day)
            claim = Claim._create(
                Claim.Filed,
                id=claim_uuid(scheme_id, claim_id),
                actor=actor,
                business_date=day,
                scheme_id=scheme_id,
                claim_id=claim_id,
                bank_id=bank_id,
                loan_ref=loan_ref,
                claimed_fen=claimed_fen,
                outstanding_at_default_fen=loan.outstanding_at_default_fen,
                defaulted_on=loan.defaulted_on,
            )
            return [loan, claim], Receipt(claim_id=claim_id, status=claim.status)

        return self._execute(command)

    def approve_claim(
        self, actor: Actor, scheme_id: str, claim_id: str, amount: Money, *, approved_on: date
    ) -> Receipt:
        require_role(actor, Role.FUND_MANAGER, action="approve a claim")
        amount_fen, day = self._fen(amount, "approved amount"), self._day(approved_on, "approval date")

        def command() -> Any:
            scheme, claim = self._scheme(scheme_id), self._claim(actor, scheme_id, claim_id)
            self._check_version(claim, f"claim {claim_id}")
            loan = self._loan(actor, scheme_id, claim.bank_id, claim.loan_ref)
            rules = scheme.rules(loan.rule_version)
            if not claim.check_approval(actor, amount_fen, rules, day):
                claim.approve_first(actor, amount_fen, day)
                return [claim], Receipt(claim_id=claim_id, status=claim.status)
            usage = scheme.cap_usage(loan.bank_id, day.year)
            allocation = allocate(rules, loan_terms(loan), amount_fen, usage)
            claim.approve_final(actor, allocation, loan.rule_version, day)
            scheme.count_allocation(actor, claim_id, loan.bank_id, allocation.fen_by_party(), day)
            allocations = {p.party_id: format_fen(p.allocated_fen) for p in allocation.parts}
            return [claim, scheme], Receipt(
                claim_id=claim_id, status=claim.status, details={"allocations": allocations}
            )

        return self._execute(command)

    def reject_claim(
        self, actor: Actor, scheme_id: str, claim_id: str, reason: str, *, rejected_on: date
    ) -> Receipt:
        require_role(actor, Role.FUND_MANAGER, action="reject a claim")
        day = self._day(rejected_on, "rejection date")

        def command() -> Any:
            self._scheme(scheme_id)
            claim = self._claim(actor, scheme_id, claim_id)
            self._check_version(claim, f"claim {claim_id}")
            claim.reject(actor, reason, day)
            return [claim], Receipt(claim_id=claim_id, status=claim.status)

        return self._execute(command)

    def pay_settlement(
        self, actor: Actor, scheme_id: str, claim_id: str, party_id: str, amount: Money, *, paid_on: date
    ) -> Receipt:
        _require_payer(actor, party_id)
        amount_fen, day = self._fen(amount, "payment"), self._day(paid_on, "payment date")

        def command() -> Any:
            scheme, claim = self._scheme(scheme_id), self._claim(actor, scheme_id, claim_id)
            self._check_version(claim, f"claim {claim_id}")
            government = scheme.role_of(party_id) == "government"
            if actor.role is Role.FUND_MANAGER and not government:
                raise Forbidden(
                    f"a fund manager records government fund payments; {party_id!r} pays its own",
                    party_id=party_id,
                )
            claim.check_settlement(party_id, amount_fen, day)
            if government:
                scheme.check_fund(party_id, amount_fen)
            fact_id = claim.pay_settlement(actor, party_id, amount_fen, day)
            if not government:
                return [claim], Receipt(fact_id=fact_id, claim_id=claim_id, status=claim.status)
            scheme.count_fund_payment(actor, fact_id, party_id, amount_fen, day)
            return [claim, scheme], Receipt(fact_id=fact_id, claim_id=claim_id, status=claim.status)

        return self._execute(command)

    def record_recovery(
        self, actor: Actor, scheme_id: str, claim_id: str, *, gross: Money, costs: Money, recovered_on: date
    ) -> Receipt:
        require_role(actor, Role.BANK, action="record a recovery")
        gross_fen = self._fen(gross, "gross recovery")
        costs_fen = self._fen(costs, "recovery costs", allow_zero=True)
        day = self._day(recovered_on, "recovery date")

        def command() -> Any:
            scheme, claim = self._scheme(scheme_id), self._claim(actor, scheme_id, claim_id)
            self._check_version(claim, f"claim {claim_id}")
            claim.require_status("approved", "settled", action="a recovery")
            rules = scheme.rules(claim.rule_version)
            fact_id = claim.record_recovery(actor, gross_fen, costs_fen, rules, day)
            parts = {p: format_fen(f) for p, f in claim.recoveries[fact_id]["parts"].items()}
            return [claim], Receipt(fact_id=fact_id, claim_id=claim_id, details={"parts": parts})

        return self._execute(command)

    def pay_recovery_part(
        self, actor: Actor, scheme_id: str, claim_id: str, party_id: str, amount: Money, *, paid_on: date
    ) -> Receipt:
        require_role(actor, Role.BANK, action="pay a recovery part")
        amount_fen, day = self._fen(amount, "payment"), self._day(paid_on, "payment date")

        def command() -> Any:
            scheme, claim = self._scheme(scheme_id), self._claim(actor, scheme_id, claim_id)
            self._check_version(claim, f"claim {claim_id}")
            fact_id = claim.pay_recovery_part(actor, party_id, amount_fen, day)
            if scheme.role_of(party_id) != "government":
                return [claim], Receipt(fact_id=fact_id, claim_id=claim_id)
            scheme.count_fund_recovery(actor, fact_id, party_id, amount_fen, day)
            return [claim, scheme], Receipt(fact_id=fact_id, claim_id=claim_id)

        return self._execute(command)


def _require_payer(actor: Actor, party_id: str) -> None:
    """Each party pays its own shares; a fund manager may record a government fund's payment."""
    require_role(
        actor,
        Role.GUARANTOR,
        Role.INSURER,
        Role.GOVERNMENT,
        Role.FUND_MANAGER,
        action="record a settlement payment",
    )
    if actor.role is not Role.FUND_MANAGER and not actor.is_party(party_id):
        raise Forbidden(
            f"a principal of {actor.party_id!r} records its own payments, not those of {party_id!r}",
            party_id=party_id,
        )
