"""A scheme's commands: validate against the scheme's own state, then trigger its events."""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.actors import Actor
from ledger.calendar import check_not_before
from ledger.domain.events import Fact, RecordsFacts
from ledger.domain.guards import require_reason
from ledger.errors import (
    AlreadyExists,
    AlreadyReversed,
    FundInsufficient,
    InvalidTransition,
    Irreversible,
    LeverageExceeded,
    UnknownFact,
)
from ledger.ids import contribution_fact_id
from ledger.money import format_fen
from ledger.rules import Publication, RuleVersion, breakers as br, canonical, check_rule_version


class SchemeCommands(RecordsFacts):
    """Mixed into `Scheme`; every method raises before it triggers anything."""

    def record(self, event_class: type[Fact], actor: Actor, on: date, **fields: object) -> None:
        """No fact of a scheme is dated before the scheme was created."""
        check_not_before(
            on,
            date.fromisoformat(self.founded_on),
            field="business date",
            what=f"the creation of scheme {self.scheme_id!r}",
        )
        super().record(event_class, actor, on, **fields)

    def admit(self, actor: Actor, party_id: str, role: str, name: str, on: date) -> None:
        if party_id in self.members:
            raise AlreadyExists(f"party {party_id!r} is already a member of {self.scheme_id!r}")
        self.record(self.PartyAdmitted, actor, on, party_id=party_id, role=role, name=name)

    def publish(self, actor: Actor, document: object, on: date) -> int:
        previous = date.fromisoformat(self.rule_effective[-1]) if self.rule_effective else None
        members = {party: member["role"] for party, member in self.members.items()}
        rules = check_rule_version(document, Publication(members, previous, on))
        number = len(self.rule_documents) + 1
        self.record(
            self.RuleVersionPublished,
            actor,
            on,
            number=number,
            effective_from=rules.effective_from,
            document=canonical(rules),
        )
        return number

    def set_targets(self, actor: Actor, targets: list[dict[str, Any]], on: date) -> None:
        self.record(self.TargetsSet, actor, on, targets=targets)

    def record_contribution(self, actor: Actor, party_id: str, amount_fen: int, on: date) -> str:
        self.require_member(party_id, "government", as_what="contributor")
        prefix = f"{party_id}:contribution:"
        number = 1 + sum(1 for fact_id in self.contribution_facts if fact_id.startswith(prefix))
        fact_id = contribution_fact_id(party_id, number)
        self.record(
            self.ContributionRecorded,
            actor,
            on,
            fact_id=fact_id,
            party_id=party_id,
            amount_fen=amount_fen,
        )
        return fact_id

    def contribution(self, fact_id: str) -> dict[str, Any]:
        fact = self.contribution_facts.get(fact_id)
        if fact is None:
            raise UnknownFact(f"no contribution {fact_id!r} in scheme {self.scheme_id!r}")
        return fact

    def reverse_contribution(self, actor: Actor, fact_id: str, reason: str, on: date) -> None:
        fact = self.contribution(fact_id)
        if fact["reversed"]:
            raise AlreadyReversed(f"contribution {fact_id!r} has already been reversed")
        reason = require_reason(reason, what=f"reversing {fact_id!r}")
        check_not_before(
            on,
            date.fromisoformat(fact["business_date"]),
            field="reversal date",
            what=f"the contribution {fact_id}",
        )
        balance = self.fund_balance(fact["party_id"])
        if balance < fact["amount_fen"]:
            raise Irreversible(
                f"reversing {fact_id!r} ({format_fen(fact['amount_fen'])}) would make the fund "
                f"balance of {fact['party_id']!r} negative (balance {format_fen(balance)})",
                balance=format_fen(balance),
                amount=format_fen(fact["amount_fen"]),
            )
        self.record(self.ContributionReversed, actor, on, fact_id=fact_id, reason=reason)

    def check_enrolment(
        self,
        bank_id: str,
        principal_fen: int,
        rules: RuleVersion,
        cover: str,
        cover_party_id: str | None,
        *,
        pending_fen: int = 0,
    ) -> None:
        """Refuse a new loan that a tripped breaker blocks or that would break the leverage limit.

        `pending_fen` is exposure being enrolled in the same command (the rows before it on a tape).
        """
        self.refuse_if_blocked(bank_id, rules, cover, cover_party_id)
        self.check_leverage(principal_fen, rules, pending_fen=pending_fen)

    def refuse_if_blocked(
        self, bank_id: str, rules: RuleVersion, cover: str, cover_party_id: str | None
    ) -> None:
        """Refuse an enrolment that a tripped breaker blocks (rule book §8)."""
        self.refuse_if_open(br.BANK_LOSS_RATE, bank_id, what=f"enrolments of {bank_id!r}")
        if cover == "insured" and cover_party_id is not None:
            self.refuse_if_open(
                br.INSURER_LOSS_RATIO, cover_party_id, what=f"insured enrolments with {cover_party_id!r}"
            )
        for key in rules.covers[cover].split:
            if self.role_of(key) == "government":
                self.refuse_if_open(br.FUND_DRAWDOWN, key, what=f"enrolments whose split names {key!r}")

    def check_leverage(self, principal_fen: int, rules: RuleVersion, *, pending_fen: int = 0) -> None:
        limit, exposure = self.leverage_room(rules)
        exposure += pending_fen
        if exposure + principal_fen > limit:
            raise LeverageExceeded(
                f"enrolling {format_fen(principal_fen)} would take exposure from "
                f"{format_fen(exposure)} to {format_fen(exposure + principal_fen)}, above the "
                f"limit {format_fen(limit)} ({rules.leverage_multiple} x contributions paid in)",
                exposure=format_fen(exposure),
                principal=format_fen(principal_fen),
                limit=format_fen(limit),
            )

    def enrol(
        self,
        actor: Actor,
        loan_ref: str,
        bank_id: str,
        principal_fen: int,
        rules: RuleVersion,
        cover: str,
        cover_party_id: str | None,
        on: date,
    ) -> None:
        """Count a new loan's exposure, unless a breaker blocks it or leverage would be exceeded."""
        self.check_enrolment(bank_id, principal_fen, rules, cover, cover_party_id)
        self.record(
            self.LoanEnrolled, actor, on, loan_ref=loan_ref, bank_id=bank_id, principal_fen=principal_fen
        )

    def enrol_tape(self, actor: Actor, bank_id: str, loans: list[list[Any]], on: date) -> None:
        """Count a whole loan tape's exposure at once: [[loan_ref, principal_fen], ...], each
        already checked with `check_enrolment` and the rows before it as pending."""
        total = sum(principal for _, principal in loans)
        self.record(self.TapeEnrolled, actor, on, bank_id=bank_id, loans=loans, total_fen=total)

    def release_exposure(
        self, actor: Actor, loan_ref: str, bank_id: str, amount_fen: int, cause: str, on: date
    ) -> None:
        if amount_fen:
            self.record(
                self.ExposureReleased,
                actor,
                on,
                loan_ref=loan_ref,
                bank_id=bank_id,
                amount_fen=amount_fen,
                cause=cause,
            )

    def count_disbursement(
        self, actor: Actor, loan_ref: str, bank_id: str, amount_fen: int, on: date
    ) -> None:
        self.record(
            self.DisbursementCounted,
            actor,
            on,
            loan_ref=loan_ref,
            bank_id=bank_id,
            amount_fen=amount_fen,
        )

    def count_default(
        self, actor: Actor, loan_ref: str, bank_id: str, outstanding_fen: int, on: date, trigger: str
    ) -> None:
        self.record(
            self.DefaultCounted,
            actor,
            on,
            loan_ref=loan_ref,
            bank_id=bank_id,
            outstanding_fen=outstanding_fen,
        )
        figure, base = self.bank_defaulted.get(bank_id, 0), self.bank_disbursed.get(bank_id, 0)
        self._evaluate_breaker(actor, br.BANK_LOSS_RATE, bank_id, figure, base, on, trigger)

    def count_cover_income(
        self, actor: Actor, fact_id: str, kind: str, party_id: str, year: int, amount_fen: int, on: date
    ) -> None:
        self.record(
            self.CoverIncomeCounted,
            actor,
            on,
            fact_id=fact_id,
            kind=kind,
            party_id=party_id,
            year=year,
            amount_fen=amount_fen,
        )

    def count_allocation(
        self, actor: Actor, claim_id: str, bank_id: str, allocations: dict[str, int], on: date
    ) -> None:
        self.record(
            self.AllocationCounted,
            actor,
            on,
            claim_id=claim_id,
            bank_id=bank_id,
            allocations=allocations,
        )
        year = str(on.year)
        for party_id in allocations:
            if self.role_of(party_id) == "insurer":
                figure = self.allocated.get(party_id, {}).get(year, 0)
                base = self.cover_income["premium"].get(party_id, {}).get(year, 0)
                trigger = f"{claim_id}:approval"
                self._evaluate_breaker(actor, br.INSURER_LOSS_RATIO, party_id, figure, base, on, trigger)

    def check_fund(self, party_id: str, amount_fen: int) -> None:
        balance = self.fund_balance(party_id)
        if amount_fen > balance:
            raise FundInsufficient(
                f"paying {format_fen(amount_fen)} from the fund of {party_id!r} is above its "
                f"balance {format_fen(balance)}",
                balance=format_fen(balance),
                amount=format_fen(amount_fen),
            )

    def count_fund_payment(
        self, actor: Actor, fact_id: str, party_id: str, amount_fen: int, on: date
    ) -> None:
        self.record(
            self.FundPaymentCounted,
            actor,
            on,
            fact_id=fact_id,
            party_id=party_id,
            amount_fen=amount_fen,
        )
        if amount_fen > 0:
            figure, base = self.fund_paid.get(party_id, 0), self.contributed.get(party_id, 0)
            self._evaluate_breaker(actor, br.FUND_DRAWDOWN, party_id, figure, base, on, fact_id)

    def count_fund_recovery(
        self, actor: Actor, fact_id: str, party_id: str, amount_fen: int, on: date
    ) -> None:
        self.record(
            self.FundRecoveryCounted,
            actor,
            on,
            fact_id=fact_id,
            party_id=party_id,
            amount_fen=amount_fen,
        )

    def reset_breaker(self, actor: Actor, kind: str, party_id: str, reason: str, on: date) -> None:
        if not self.breaker_is_open(kind, party_id):
            raise InvalidTransition(
                f"breaker {br.breaker_key(kind, party_id)!r} is clear, so there is nothing to reset",
                state="clear",
            )
        reason = require_reason(reason, what=f"resetting breaker {br.breaker_key(kind, party_id)!r}")
        check_not_before(
            on,
            date.fromisoformat(self.breakers[br.breaker_key(kind, party_id)]["tripped_on"]),
            field="reset date",
            what=f"the trip of breaker {br.breaker_key(kind, party_id)!r}",
        )
        self.record(self.BreakerReset, actor, on, breaker=kind, party_id=party_id, reason=reason)

    def _evaluate_breaker(
        self, actor: Actor, kind: str, party_id: str, figure: int, base: int, on: date, trigger: str
    ) -> None:
        """Trip the breaker if it is clear and its figure is over the threshold in force on `on`."""
        number = self.rule_number_on(on)
        if number is None or self.breaker_is_open(kind, party_id):
            return
        threshold = br.threshold_bp(self.rules(number), kind)
        if threshold is None or not br.is_over(kind, figure, base, threshold):
            return
        self.record(
            self.BreakerTripped,
            actor,
            on,
            breaker=kind,
            party_id=party_id,
            figure_fen=figure,
            base_fen=base,
            threshold_bp=threshold,
            trigger=trigger,
        )
