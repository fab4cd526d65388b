"""A scheme (pool): its members, rule versions, targets, and the pool-wide running figures.

The scheme is the consistency boundary for everything that is checked across loans: leverage
(exposure against contributions), fund balances, cap usage and circuit breakers. Each command
that moves one of those figures records a small event here in the same atomic save as its fact
on the loan or claim, so no check ever needs to read other loans, and a command's cost does not
grow with the number of loans in the pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from ledger.actors import Actor
from ledger.calendar import check_not_before
from ledger.domain import figures
from ledger.domain.events import Fact, FirstFact, RecordsFacts
from ledger.domain.guards import require_reason
from ledger.errors import (
    AlreadyExists,
    AlreadyReversed,
    CircuitBreakerOpen,
    FundInsufficient,
    IneligibleLoan,
    InvalidTransition,
    Irreversible,
    LeverageExceeded,
    NoRulesInForce,
    NotAMember,
    UnknownFact,
)
from ledger.ids import contribution_fact_id, scheme_uuid
from ledger.money import format_fen, ratio_percent
from ledger.rules import (
    CapUsage,
    Publication,
    RuleVersion,
    breakers as br,
    canonical,
    check_rule_version,
    rule_in_force,
)
from ledger.rules.breakers import breaker_key
from ledger.rules.engine import eligibility_problems

if TYPE_CHECKING:
    from ledger.domain.loan import Enrolment
    from ledger.domain.party import Party

COVER_ROLES = {"direct": None, "guaranteed": "guarantor", "insured": "insurer"}


@dataclass
class TapeAdmission:
    """A loan tape's rows as `Scheme.admit_loan` admits them, one after the other: the exposure of
    the rows admitted so far, and what the earlier rows found of the scheme, which stays as it is
    while a tape is reviewed (so that 100,000 rows do not each look it up again): the rule version
    in force on each enrolment date with its rules and leverage limit, and each (bank, rule
    version, cover, cover party) that no tripped breaker blocks."""

    pending_fen: int = 0
    in_force: dict[date, tuple[int, RuleVersion, int]] = field(default_factory=dict)
    unblocked: set[tuple[Any, ...]] = field(default_factory=set)


class Scheme(RecordsFacts, Aggregate):
    if TYPE_CHECKING:  # its state, built by its events (declared for readers and type checkers:
        # the library would take class annotations for arguments of __init__)
        scheme_id: str
        name: str
        demo: bool
        founded_on: str  # ISO date: the business date of its creation
        members: dict[str, dict[str, str]]  # party -> role, name
        rule_effective: list[str]  # ISO effective dates, in order of publication
        rule_documents: list[str]  # each rule version, canonical JSON
        targets: list[dict[str, Any]]
        contribution_facts: dict[str, dict[str, Any]]  # by fact id
        contributed: dict[str, int]  # government party -> contributions paid in
        fund_paid: dict[str, int]  # government party -> settlement payments from its fund
        fund_recovered: dict[str, int]  # government party -> recovery parts paid back to it
        exposure_fen: int
        bank_disbursed: dict[str, int]
        bank_defaulted: dict[str, int]
        cover_income: dict[str, dict[str, Any]]  # premium|fee -> party -> year -> fen
        allocated: dict[str, Any]  # party -> year -> fen
        allocated_by_bank: dict[str, Any]  # party -> bank -> year -> fen
        breakers: dict[str, dict[str, Any]]  # kind:party -> its state

    @classmethod
    def create(cls, actor: Actor, scheme_id: str, name: str, demo: bool, on: date) -> Scheme:
        return cls._create(
            cls.Created,
            id=scheme_uuid(scheme_id),
            actor=actor,
            business_date=on,
            scheme_id=scheme_id,
            name=name,
            demo=demo,
        )

    class Created(FirstFact):
        scheme_id: str
        name: str
        demo: bool

        def apply(self, scheme: Scheme) -> None:
            scheme.scheme_id, scheme.name, scheme.demo = self.scheme_id, self.name, self.demo
            scheme.founded_on = self.business_date.isoformat()
            scheme.members = {}
            scheme.rule_effective = []
            scheme.rule_documents = []
            scheme.targets = []
            scheme.contribution_facts = {}
            scheme.contributed, scheme.fund_paid, scheme.fund_recovered = {}, {}, {}
            scheme.exposure_fen = 0
            scheme.bank_disbursed, scheme.bank_defaulted = {}, {}
            scheme.cover_income = {"premium": {}, "fee": {}}
            scheme.allocated, scheme.allocated_by_bank = {}, {}
            scheme.breakers = {}

    class PartyAdmitted(Fact):
        party_id: str
        role: str
        name: str

        def apply(self, scheme: Scheme) -> None:
            scheme.members[self.party_id] = {"role": self.role, "name": self.name}

    class RuleVersionPublished(Fact):
        number: int
        effective_from: date
        document: dict[str, Any]

        def apply(self, scheme: Scheme) -> None:
            scheme.rule_effective.append(self.effective_from.isoformat())
            scheme.rule_documents.append(figures.document_json(self.document))

    class TargetsSet(Fact):
        targets: list[dict[str, Any]]

        def apply(self, scheme: Scheme) -> None:
            scheme.targets = self.targets

    class ContributionRecorded(Fact):
        fact_id: str
        party_id: str
        amount_fen: int

        def apply(self, scheme: Scheme) -> None:
            scheme.contribution_facts[self.fact_id] = {
                "party_id": self.party_id,
                "amount_fen": self.amount_fen,
                "business_date": self.business_date.isoformat(),
                "reversed": False,
            }
            figures.add(scheme.contributed, self.party_id, self.amount_fen)

    class ContributionReversed(Fact):
        fact_id: str
        reason: str

        def apply(self, scheme: Scheme) -> None:
            fact = scheme.contribution_facts[self.fact_id]
            fact["reversed"] = True
            figures.add(scheme.contributed, fact["party_id"], -fact["amount_fen"])

    class LoanEnrolled(Fact):
        loan_ref: str
        bank_id: str
        principal_fen: int

        def apply(self, scheme: Scheme) -> None:
            scheme.exposure_fen += self.principal_fen

    class TapeEnrolled(Fact):
        """A bank's loan tape enrolled in one go: [[loan_ref, principal_fen], ...]."""

        bank_id: str
        loans: list[list[Any]]
        total_fen: int

        def apply(self, scheme: Scheme) -> None:
            scheme.exposure_fen += self.total_fen

    class ExposureReleased(Fact):
        """Exposure falls by `amount_fen` (negative when a reversed repayment restores it)."""

        loan_ref: str
        bank_id: str
        amount_fen: int
        cause: str

        def apply(self, scheme: Scheme) -> None:
            scheme.exposure_fen -= self.amount_fen

    class DisbursementCounted(Fact):
        loan_ref: str
        bank_id: str
        amount_fen: int

        def apply(self, scheme: Scheme) -> None:
            figures.add(scheme.bank_disbursed, self.bank_id, self.amount_fen)

    class DefaultCounted(Fact):
        loan_ref: str
        bank_id: str
        outstanding_fen: int

        def apply(self, scheme: Scheme) -> None:
            figures.add(scheme.bank_defaulted, self.bank_id, self.outstanding_fen)

    class CoverIncomeCounted(Fact):
        """A premium or guarantee fee (negative when reversed), counted in the year it was paid."""

        fact_id: str
        kind: str
        party_id: str
        year: int
        amount_fen: int

        def apply(self, scheme: Scheme) -> None:
            figures.add(scheme.cover_income[self.kind], self.party_id, str(self.year), self.amount_fen)

    class AllocationCounted(Fact):
        claim_id: str
        bank_id: str
        allocations: dict[str, int]

        def apply(self, scheme: Scheme) -> None:
            year = str(self.business_date.year)
            for party_id, fen in self.allocations.items():
                figures.add(scheme.allocated, party_id, year, fen)
                figures.add(scheme.allocated_by_bank, party_id, self.bank_id, year, fen)

    class FundPaymentCounted(Fact):
        """A government fund's settlement payment (negative when reversed)."""

        fact_id: str
        party_id: str
        amount_fen: int

        def apply(self, scheme: Scheme) -> None:
            figures.add(scheme.fund_paid, self.party_id, self.amount_fen)

    class FundRecoveryCounted(Fact):
        """A recovery part paid back into a government fund (negative when reversed)."""

        fact_id: str
        party_id: str
        amount_fen: int

        def apply(self, scheme: Scheme) -> None:
            figures.add(scheme.fund_recovered, self.party_id, self.amount_fen)

    class BreakerTripped(Fact):
        breaker: str
        party_id: str
        figure_fen: int
        base_fen: int
        threshold_bp: int
        trigger: str

        def apply(self, scheme: Scheme) -> None:
            scheme.breakers[f"{self.breaker}:{self.party_id}"] = {
                "tripped": True,
                "figure_fen": self.figure_fen,
                "base_fen": self.base_fen,
                "threshold_bp": self.threshold_bp,
                "trigger": self.trigger,
                "tripped_on": self.business_date.isoformat(),
            }

    class BreakerReset(Fact):
        breaker: str
        party_id: str
        reason: str

        def apply(self, scheme: Scheme) -> None:
            state = scheme.breakers[f"{self.breaker}:{self.party_id}"]
            state["tripped"] = False
            state["reset_on"] = self.business_date.isoformat()

    # What the scheme can say about itself.

    def role_of(self, party_id: str) -> str | None:
        member = self.members.get(party_id)
        return None if member is None else member["role"]

    def require_member(self, party_id: str, role: str, *, as_what: str) -> None:
        actual = self.role_of(party_id)
        if actual != role:
            detail = "is not a member" if actual is None else f"is a {actual}, not a {role}"
            raise NotAMember(
                f"{as_what} {party_id!r} {detail} of scheme {self.scheme_id!r}",
                party_id=party_id,
                role=role,
            )

    def government_parties(self) -> list[str]:
        return [p for p, m in self.members.items() if m["role"] == "government"]

    def rules(self, number: int) -> RuleVersion:
        return figures.parse_rules(self.rule_documents[number - 1])

    def rule_number_on(self, day: date) -> int | None:
        return rule_in_force(self.rule_effective, day.isoformat())

    def rule_number_for_enrolment(self, day: date) -> int:
        number = self.rule_number_on(day)
        if number is None:
            first = self.rule_effective[0] if self.rule_effective else "none published"
            raise NoRulesInForce(
                f"no rule version of scheme {self.scheme_id!r} is in force on {day} "
                f"(first effective: {first})",
                business_date=day.isoformat(),
            )
        return number

    def fund_balance(self, party_id: str) -> int:
        return (
            self.contributed.get(party_id, 0)
            - self.fund_paid.get(party_id, 0)
            + self.fund_recovered.get(party_id, 0)
        )

    def paid_in(self) -> int:
        """Cumulative contributions of all government parties (for leverage and drawdown)."""
        return sum(self.contributed.get(p, 0) for p in self.government_parties())

    def cap_usage(self, bank_id: str, year: int) -> CapUsage:
        y = str(year)
        return CapUsage(
            year_allocations={p: by_year.get(y, 0) for p, by_year in self.allocated.items()},
            bank_year_allocations={
                p: figures.get(by_bank, bank_id, y) for p, by_bank in self.allocated_by_bank.items()
            },
            year_premiums={p: v.get(y, 0) for p, v in self.cover_income["premium"].items()},
            year_fees={p: v.get(y, 0) for p, v in self.cover_income["fee"].items()},
        )

    def breaker_is_open(self, kind: str, party_id: str) -> bool:
        return bool(self.breakers.get(breaker_key(kind, party_id), {}).get("tripped"))

    def refuse_if_open(self, kind: str, party_id: str, *, what: str) -> None:
        if not self.breaker_is_open(kind, party_id):
            return
        state = self.breakers[breaker_key(kind, party_id)]
        figure = ratio_percent(state["figure_fen"], state["base_fen"]) or "no base"
        raise CircuitBreakerOpen(
            f"the {kind} breaker of {party_id!r} is open since {state['tripped_on']} "
            f"({figure}% against {state['threshold_bp']} bp), so it blocks {what}",
            breaker=breaker_key(kind, party_id),
            figure_percent=figure,
            threshold_bp=state["threshold_bp"],
        )

    def leverage_room(self, rules: RuleVersion) -> tuple[int, int]:
        """(limit, exposure) in fen: exposure may reach but not exceed the limit."""
        return rules.leverage_multiple * self.paid_in(), self.exposure_fen

    # Its commands: each checks, then records.

    def record(self, event_class: type[Fact], actor: Actor, on: date, **fields: object) -> None:
        """No fact of a scheme is dated before the scheme was created."""
        check_not_before(
            on,
            date.fromisoformat(self.founded_on),
            field="business date",
            what=f"the creation of scheme {self.scheme_id!r}",
        )
        super().record(event_class, actor, on, **fields)

    def admit(self, actor: Actor, party: Party, on: date) -> None:
        """Admit a registered party as a member, not before its registration."""
        check_not_before(
            on,
            date.fromisoformat(party.registered_on),
            field="admission date",
            what=f"the registration of party {party.party_id!r}",
        )
        if party.party_id in self.members:
            raise AlreadyExists(f"party {party.party_id!r} is already a member of {self.scheme_id!r}")
        self.record(self.PartyAdmitted, actor, on, party_id=party.party_id, role=party.role, name=party.name)

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

    def admit_loan(
        self,
        bank_id: str,
        e: Enrolment,
        principal_fen: int,
        on: date,
        *,
        tape: TapeAdmission | None = None,
    ) -> int:
        """Every check of an enrolment against the scheme (docs/rules.md §4): the bank and its cover
        party are members, a rule version is in force on the enrolment date and finds the loan
        eligible, no tripped breaker blocks it, and leverage holds. Returns the rule version that
        will govern the loan. The one home of these rules, for a single enrolment and for every row
        of a tape: `tape` holds the exposure of the rows before it, and what the tape's earlier
        rows found of the scheme, which stays as it is while they are reviewed."""
        self.require_member(bank_id, "bank", as_what="bank")
        if e.cover_party_id is not None:
            role = COVER_ROLES[e.cover]
            self.require_member(e.cover_party_id, role, as_what=role)
        if tape is None:
            number = self.rule_number_for_enrolment(on)
            rules, limit = self.rules(number), None
        else:
            in_force = tape.in_force.get(on)
            if in_force is None:
                number = self.rule_number_for_enrolment(on)
                rules = self.rules(number)
                in_force = tape.in_force[on] = (number, rules, self.leverage_room(rules)[0])
            number, rules, limit = in_force
        problems = eligibility_problems(rules, e.cover, principal_fen, e.term_months)
        if problems:
            raise IneligibleLoan(
                f"loan {e.loan_ref!r} is ineligible under rule version {number}: " + "; ".join(problems),
                problems=problems,
            )
        clear = (bank_id, number, e.cover, e.cover_party_id)
        if tape is None or clear not in tape.unblocked:
            self.refuse_if_blocked(bank_id, rules, e.cover, e.cover_party_id)
            if tape is not None:
                tape.unblocked.add(clear)
        self.check_leverage(principal_fen, rules, pending_fen=tape.pending_fen if tape else 0, limit=limit)
        return number

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

    def check_leverage(
        self, principal_fen: int, rules: RuleVersion, *, pending_fen: int = 0, limit: int | None = None
    ) -> None:
        """Exposure, with `pending_fen` not yet counted, may reach but not exceed the limit under
        `rules` (`limit`, when the caller has it from `leverage_room` already)."""
        exposure = self.exposure_fen + pending_fen
        if limit is None:
            limit = self.leverage_room(rules)[0]
        if exposure + principal_fen > limit:
            raise LeverageExceeded(
                f"enrolling {format_fen(principal_fen)} would take exposure from "
                f"{format_fen(exposure)} to {format_fen(exposure + principal_fen)}, above the "
                f"limit {format_fen(limit)} ({rules.leverage_multiple} x contributions paid in)",
                exposure=format_fen(exposure),
                principal=format_fen(principal_fen),
                limit=format_fen(limit),
            )

    def count_enrolment(
        self, actor: Actor, loan_ref: str, bank_id: str, principal_fen: int, on: date
    ) -> None:
        """Count a new loan's exposure (admitted by `admit_loan`)."""
        self.record(
            self.LoanEnrolled, actor, on, loan_ref=loan_ref, bank_id=bank_id, principal_fen=principal_fen
        )

    def count_tape(self, actor: Actor, bank_id: str, loans: list[list[Any]], on: date) -> None:
        """Count a whole loan tape's exposure at once: [[loan_ref, principal_fen], ...], each row
        admitted by `admit_loan` with the rows before it as pending."""
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

    def require_fund_for_reversal(self, party_id: str, amount_fen: int, fact_id: str) -> None:
        """A recovery part paid into a fund can be reversed only while the fund still holds it."""
        balance = self.fund_balance(party_id)
        if balance < amount_fen:
            raise Irreversible(
                f"reversing {fact_id!r} ({format_fen(amount_fen)}) would make the fund balance of "
                f"{party_id!r} negative ({format_fen(balance)})",
                balance=format_fen(balance),
            )

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
