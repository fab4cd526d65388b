"""A loan enrolled in a scheme, through its lifecycle (docs/rules.md §4).

States: enrolled → disbursed → (repaid | defaulted → written_off); enrolled → withdrawn.
Every method checks before it records anything: the events' apply code only changes state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from ledger.actors import Actor
from ledger.calendar import check_not_before
from ledger.domain.claim import Claim
from ledger.domain.events import Fact, FirstFact, RecordsFacts
from ledger.domain.guards import require_reason
from ledger.errors import (
    AlreadyReversed,
    ClaimAlreadyOpen,
    ClaimExceedsOutstanding,
    ClaimWindowClosed,
    DisbursementMismatch,
    InvalidAmount,
    InvalidRequest,
    InvalidTransition,
    Irreversible,
    NotYetDefaulted,
    Overpayment,
    UnknownFact,
    WrongCover,
)
from ledger.ids import check_reference, claim_id as make_claim_id, loan_fact_id, loan_uuid, parse_fact_id
from ledger.money import Money, format_fen
from ledger.rules import LoanTerms, RuleVersion
from ledger.text import check_name
from ledger.uscc import validate_uscc

if TYPE_CHECKING:
    from ledger.domain.scheme import Scheme

FACTS_PER_LOAN_MAX = 1200
TAGS_MAX = 16
RATE_BP_MAX = 100_000
TERM_MONTHS_MAX = 1200
OVERDUE_DAYS_MAX = 36_500
TAPE_ROWS_MAX = 200_000
STATES = ("enrolled", "disbursed", "repaid", "defaulted", "withdrawn", "written_off")
COVER_ROLES = {"direct": None, "guaranteed": "guarantor", "insured": "insurer"}
INCOME_KINDS = {"premium": "insured", "fee": "guaranteed"}  # the cover each is paid on


@dataclass(frozen=True)
class Enrolment:
    """The facts of a loan at enrolment (备案), as its bank gives them: the fields of
    `Loan.Enrolled` but the scheme, the bank and the rule version, which the ledger decides."""

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

    @classmethod
    def of(
        cls,
        loan_ref: str,
        borrower_name: str,
        borrower_uscc: str,
        product: str,
        principal: Money,
        rate_bp: int,
        term_months: int,
        enrolled_on: date,
        cover: str,
        cover_party_id: str | None,
        tags: tuple[str, ...],
    ) -> Enrolment:
        """The enrolment of these fields, equal to `Enrolment(...)` of them, at a third of the cost:
        a frozen dataclass's `__init__` sets each field through `object.__setattr__`, and a loan tape
        makes 100,000 of them. Its fields are set as one dictionary, as the library rebuilds its
        events."""
        enrolment = object.__new__(cls)
        object.__setattr__(
            enrolment,
            "__dict__",
            {
                "loan_ref": loan_ref,
                "borrower_name": borrower_name,
                "borrower_uscc": borrower_uscc,
                "product": product,
                "principal": principal,
                "rate_bp": rate_bp,
                "term_months": term_months,
                "enrolled_on": enrolled_on,
                "cover": cover,
                "cover_party_id": cover_party_id,
                "tags": tags,
            },
        )
        return enrolment


def _not_a_figure(name: str, value: object, top: int) -> InvalidRequest:
    return InvalidRequest(f"{name} {value!r} must be a whole number from 1 to {top}", field=name)


def state_after_repayment(state: str, principal_fen: int, repaid_fen: int) -> str:
    """A disbursed loan is `repaid` once its principal is repaid in full, and `disbursed` again if
    a reversal undoes that. The loan and its read model both ask this."""
    if state == "disbursed" and repaid_fen == principal_fen:
        return "repaid"
    if state == "repaid" and repaid_fen < principal_fen:
        return "disbursed"
    return state


class Loan(RecordsFacts, Aggregate):
    if TYPE_CHECKING:  # its state, built by its events (declared for readers and type checkers:
        # the library would take class annotations for arguments of __init__)
        scheme_id: str
        bank_id: str
        loan_ref: str
        borrower_name: str
        borrower_uscc: str
        product: str
        tags: list[str]
        principal_fen: int
        rate_bp: int
        term_months: int
        cover: str  # direct, guaranteed or insured
        cover_party_id: str | None
        rule_version: int  # the rule version in force at enrolment governs the loan for life
        state: str  # enrolled, disbursed, repaid, defaulted, written_off or withdrawn
        enrolled_on: date
        disbursed_on: date | None
        defaulted_on: date | None
        closed_on: date | None
        principal_repaid_fen: int
        interest_repaid_fen: int
        repayments: dict[str, dict[str, Any]]  # by fact id
        cover_income: dict[str, dict[str, Any]]  # premiums and fees, by fact id
        overdue_days: int | None
        outstanding_at_default_fen: int | None
        claims_filed: int
        current_claim_id: str | None
        claim_filed_on: date | None

    @staticmethod
    def facts_of(e: Enrolment, *, principal_fen: int) -> dict[str, Any]:
        """The enrolment's facts, checked (references, borrower, cover, figures), as the fields of
        `Enrolled`; `invalid_request` (or `invalid_uscc`) naming the first bad field."""
        # Written out check by check, without loops over tuples made for the purpose: a loan tape
        # asks this of 100,000 rows.
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
        if type(e.rate_bp) is not int or not 0 < e.rate_bp <= RATE_BP_MAX:
            raise _not_a_figure("rate_bp", e.rate_bp, RATE_BP_MAX)
        if type(e.term_months) is not int or not 0 < e.term_months <= TERM_MONTHS_MAX:
            raise _not_a_figure("term_months", e.term_months, TERM_MONTHS_MAX)
        return {
            "loan_ref": e.loan_ref,
            "borrower_name": check_name(e.borrower_name, field="borrower name"),
            "borrower_uscc": validate_uscc(e.borrower_uscc),
            "product": e.product,
            "tags": list(dict.fromkeys(e.tags)),
            "principal_fen": principal_fen,
            "rate_bp": e.rate_bp,
            "term_months": e.term_months,
            "cover": e.cover,
            "cover_party_id": e.cover_party_id,
        }

    @classmethod
    def enrol(
        cls, actor: Actor, scheme_id: str, bank_id: str, facts: dict[str, Any], rule_version: int, on: date
    ) -> Loan:
        """A new loan, with the facts `facts_of` checked and the rule version its scheme admitted
        it under (Scheme.admit_loan)."""
        return cls._create(
            cls.Enrolled,
            id=loan_uuid(scheme_id, bank_id, facts["loan_ref"]),
            actor=actor,
            business_date=on,
            scheme_id=scheme_id,
            bank_id=bank_id,
            rule_version=rule_version,
            **facts,
        )

    @classmethod
    def enrolled(
        cls, actor: Actor, scheme_id: str, bank_id: str, facts: dict[str, Any], rule_version: int, on: date
    ) -> Loan.Enrolled:
        """The first event of a new loan, made directly: what `enrol` records, without building
        the aggregate (a loan tape records thousands, none of which is needed until it is next
        used, and then it is read back from the store)."""
        # The event's fields as one dictionary, in the order of its dataclass fields (the order its
        # state is stored in), as the library rebuilds an event from the store: the dataclass's
        # `__init__` would set each of its 19 fields through `object.__setattr__`, a third of the
        # cost of a tape's row.
        event = object.__new__(cls.Enrolled)
        object.__setattr__(
            event,
            "__dict__",
            {
                "originator_id": loan_uuid(scheme_id, bank_id, facts["loan_ref"]),
                "originator_version": cls.INITIAL_VERSION,
                "timestamp": cls.Enrolled.create_timestamp(),
                "originator_topic": LOAN_TOPIC,
                "actor": actor,
                "business_date": on,
                "scheme_id": scheme_id,
                "bank_id": bank_id,
                "loan_ref": facts["loan_ref"],
                "borrower_name": facts["borrower_name"],
                "borrower_uscc": facts["borrower_uscc"],
                "product": facts["product"],
                "tags": facts["tags"],
                "principal_fen": facts["principal_fen"],
                "rate_bp": facts["rate_bp"],
                "term_months": facts["term_months"],
                "cover": facts["cover"],
                "cover_party_id": facts["cover_party_id"],
                "rule_version": rule_version,
            },
        )
        return event

    @staticmethod
    def check_overdue_days(days: object) -> None:
        if type(days) is not int or not 0 <= days <= OVERDUE_DAYS_MAX:
            raise InvalidRequest(
                f"overdue_days {days!r} must be a whole number of days", field="overdue_days"
            )

    class Enrolled(FirstFact):
        scheme_id: str
        bank_id: str
        loan_ref: str
        borrower_name: str
        borrower_uscc: str
        product: str
        tags: list[str]
        principal_fen: int
        rate_bp: int
        term_months: int
        cover: str
        cover_party_id: str | None
        rule_version: int

        def apply(self, loan: Loan) -> None:
            for name in ENROLLED_TERMS:  # the event's own fields are the loan's terms
                setattr(loan, name, getattr(self, name))
            loan.tags = list(self.tags)
            loan.state = "enrolled"
            loan.enrolled_on = self.business_date
            loan.disbursed_on = loan.defaulted_on = loan.closed_on = None
            loan.principal_repaid_fen = loan.interest_repaid_fen = 0
            loan.repayments = {}
            loan.cover_income = {}
            loan.overdue_days = loan.outstanding_at_default_fen = None
            loan.claims_filed = 0
            loan.current_claim_id = None
            loan.claim_filed_on = None

    class Disbursed(Fact):
        amount_fen: int

        def apply(self, loan: Loan) -> None:
            loan.state = "disbursed"
            loan.disbursed_on = self.business_date

    class Repaid(Fact):
        fact_id: str
        principal_fen: int
        interest_fen: int

        def apply(self, loan: Loan) -> None:
            loan.repayments[self.fact_id] = {
                "principal_fen": self.principal_fen,
                "interest_fen": self.interest_fen,
                "business_date": self.business_date,
                "reversed": False,
            }
            loan.principal_repaid_fen += self.principal_fen
            loan.interest_repaid_fen += self.interest_fen
            loan.state = state_after_repayment(loan.state, loan.principal_fen, loan.principal_repaid_fen)

    class RepaymentReversed(Fact):
        fact_id: str
        reason: str

        def apply(self, loan: Loan) -> None:
            repayment = loan.repayments[self.fact_id]
            repayment["reversed"] = True
            loan.principal_repaid_fen -= repayment["principal_fen"]
            loan.interest_repaid_fen -= repayment["interest_fen"]
            loan.state = state_after_repayment(loan.state, loan.principal_fen, loan.principal_repaid_fen)

    class Defaulted(Fact):
        overdue_days: int
        outstanding_fen: int

        def apply(self, loan: Loan) -> None:
            loan.state = "defaulted"
            loan.defaulted_on = self.business_date
            loan.overdue_days = self.overdue_days
            loan.outstanding_at_default_fen = self.outstanding_fen

    class Withdrawn(Fact):
        reason: str

        def apply(self, loan: Loan) -> None:
            loan.state = "withdrawn"
            loan.closed_on = self.business_date

    class WrittenOff(Fact):
        outstanding_fen: int

        def apply(self, loan: Loan) -> None:
            loan.state = "written_off"
            loan.closed_on = self.business_date

    class PremiumRecorded(Fact):
        fact_id: str
        party_id: str
        amount_fen: int

        def apply(self, loan: Loan) -> None:
            loan.record_income(self, "premium")

    class GuaranteeFeeRecorded(Fact):
        fact_id: str
        party_id: str
        amount_fen: int

        def apply(self, loan: Loan) -> None:
            loan.record_income(self, "fee")

    class PremiumReversed(Fact):
        fact_id: str
        reason: str

        def apply(self, loan: Loan) -> None:
            loan.cover_income[self.fact_id]["reversed"] = True

    class GuaranteeFeeReversed(Fact):
        fact_id: str
        reason: str

        def apply(self, loan: Loan) -> None:
            loan.cover_income[self.fact_id]["reversed"] = True

    class ClaimFiled(Fact):
        claim_id: str

        def apply(self, loan: Loan) -> None:
            loan.claims_filed += 1
            loan.current_claim_id = self.claim_id
            loan.claim_filed_on = self.business_date

    def record_income(self, event: PremiumRecorded | GuaranteeFeeRecorded, kind: str) -> None:
        self.cover_income[event.fact_id] = {
            "kind": kind,
            "party_id": event.party_id,
            "amount_fen": event.amount_fen,
            "business_date": event.business_date,
            "reversed": False,
        }

    @property
    def outstanding_fen(self) -> int:
        return self.principal_fen - self.principal_repaid_fen

    @property
    def reference(self) -> str:
        return f"{self.bank_id}:{self.loan_ref}"

    def last_date(self) -> date:
        """The latest business date on the loan's lifecycle: the next fact may not be earlier."""
        dates = [self.enrolled_on, self.disbursed_on, self.defaulted_on, self.claim_filed_on, self.closed_on]
        dates += [r["business_date"] for r in self.repayments.values() if not r["reversed"]]
        return max(d for d in dates if d is not None)

    def require_state(self, *states: str, action: str) -> None:
        if self.state not in states:
            raise InvalidTransition(
                f"loan {self.reference} is {self.state}; {action} needs it {' or '.join(states)}",
                state=self.state,
            )

    def check_date(self, on: date, *, field: str) -> None:
        check_not_before(on, self.last_date(), field=field, what=f"loan {self.reference}'s last fact")

    def disburse(self, actor: Actor, amount_fen: int, on: date) -> None:
        self.require_state("enrolled", action="a disbursement")
        if amount_fen != self.principal_fen:
            raise DisbursementMismatch(
                f"disbursement {format_fen(amount_fen)} is not the principal "
                f"{format_fen(self.principal_fen)} of loan {self.reference}",
                amount=format_fen(amount_fen),
                principal=format_fen(self.principal_fen),
            )
        self.check_date(on, field="disbursement date")
        self.record(self.Disbursed, actor, on, amount_fen=amount_fen)

    def repay(self, actor: Actor, principal_fen: int, interest_fen: int, on: date) -> str:
        self.require_state("disbursed", action="a repayment")
        if principal_fen == 0 and interest_fen == 0:
            raise InvalidAmount("a repayment needs a positive principal or interest part")
        if principal_fen > self.outstanding_fen:
            raise Overpayment(
                f"principal repaid {format_fen(principal_fen)} is above the outstanding "
                f"{format_fen(self.outstanding_fen)} of loan {self.reference}",
                amount=format_fen(principal_fen),
                outstanding=format_fen(self.outstanding_fen),
            )
        self.check_date(on, field="repayment date")
        self._check_room()
        fact_id = loan_fact_id(self.bank_id, self.loan_ref, "repayment", len(self.repayments) + 1)
        self.record(
            self.Repaid,
            actor,
            on,
            fact_id=fact_id,
            principal_fen=principal_fen,
            interest_fen=interest_fen,
        )
        return fact_id

    def declare_default(self, actor: Actor, overdue_days: int, rules: RuleVersion, on: date) -> int:
        self.require_state("disbursed", action="a default")
        needed = rules.default_after_overdue_days
        if overdue_days < needed:
            raise NotYetDefaulted(
                f"loan {self.reference} is {overdue_days} days overdue; rule version "
                f"{self.rule_version} declares a default from {needed} days",
                overdue_days=overdue_days,
                needed_days=needed,
            )
        self.check_date(on, field="default date")
        outstanding = self.outstanding_fen
        self.record(
            self.Defaulted,
            actor,
            on,
            overdue_days=overdue_days,
            outstanding_fen=outstanding,
        )
        return outstanding

    def withdraw(self, actor: Actor, reason: str, on: date) -> None:
        self.require_state("enrolled", action="a withdrawal")
        self.check_date(on, field="withdrawal date")
        self.record(self.Withdrawn, actor, on, reason=reason)

    def write_off(self, actor: Actor, claim_status: str | None, on: date) -> int:
        self.require_state("defaulted", action="a write-off")
        if claim_status not in ("settled", "rejected"):
            raise InvalidTransition(
                f"loan {self.reference} can be written off only after its claim is settled or "
                f"rejected; its claim is {claim_status or 'not filed'}",
                state=f"defaulted, claim {claim_status or 'not filed'}",
            )
        self.check_date(on, field="write-off date")
        outstanding = self.outstanding_at_default_fen
        self.record(self.WrittenOff, actor, on, outstanding_fen=outstanding)
        return outstanding

    def record_cover_income(self, actor: Actor, kind: str, party_id: str, amount_fen: int, on: date) -> str:
        cover = INCOME_KINDS[kind]
        if self.cover != cover or self.cover_party_id != party_id:
            raise WrongCover(
                f"loan {self.reference} is {self.cover}"
                f"{' by ' + self.cover_party_id if self.cover_party_id else ''}, so "
                f"{party_id!r} records no {kind} on it",
                cover=self.cover,
                party_id=party_id,
            )
        self.require_state("enrolled", "disbursed", "repaid", "defaulted", "written_off", action=f"a {kind}")
        self._check_room()
        number = 1 + sum(1 for fact in self.cover_income.values() if fact["kind"] == kind)
        fact_id = loan_fact_id(self.bank_id, self.loan_ref, kind, number)
        event = self.PremiumRecorded if kind == "premium" else self.GuaranteeFeeRecorded
        self.record(
            event,
            actor,
            on,
            fact_id=fact_id,
            party_id=party_id,
            amount_fen=amount_fen,
        )
        return fact_id

    def reverse_repayment(self, actor: Actor, fact_id: str, reason: str, on: date) -> int:
        repayment = self._fact(self.repayments, fact_id)
        reason = require_reason(reason, what=f"reversing {fact_id!r}")
        if self.state in ("defaulted", "written_off"):
            raise Irreversible(
                f"repayment {fact_id!r} cannot be reversed: loan {self.reference} defaulted on "
                f"{self.defaulted_on} with the outstanding it left",
                later_fact=f"{self.reference}:default",
            )
        check_not_before(on, repayment["business_date"], field="reversal date", what=fact_id)
        self.record(self.RepaymentReversed, actor, on, fact_id=fact_id, reason=reason)
        return repayment["principal_fen"]

    def reverse_cover_income(self, actor: Actor, fact_id: str, reason: str, on: date) -> dict[str, Any]:
        fact = self._fact(self.cover_income, fact_id)
        reason = require_reason(reason, what=f"reversing {fact_id!r}")
        check_not_before(on, fact["business_date"], field="reversal date", what=fact_id)
        event = self.PremiumReversed if fact["kind"] == "premium" else self.GuaranteeFeeReversed
        self.record(event, actor, on, fact_id=fact_id, reason=reason)
        return fact

    def terms(self) -> LoanTerms:
        """What the sharing rules read of the loan."""
        return LoanTerms(self.bank_id, self.principal_fen, tuple(self.tags), self.cover, self.cover_party_id)

    def file_claim(
        self, actor: Actor, current: Claim | None, claimed_fen: int, rules: RuleVersion, on: date
    ) -> Claim:
        """The bank's claim on this defaulted loan (docs/rules.md §5): at most one open or approved
        claim at a time (`current` is the latest), no more than the outstanding at default, within
        the claim window. Returns the new claim."""
        self.require_state("defaulted", action="a claim")
        if current is not None and current.status != "rejected":
            raise ClaimAlreadyOpen(
                f"loan {self.reference} already has claim {current.claim_id} ({current.status})",
                claim_id=current.claim_id,
            )
        if claimed_fen > self.outstanding_at_default_fen:
            raise ClaimExceedsOutstanding(
                f"claimed {format_fen(claimed_fen)} is above the outstanding principal at default "
                f"{format_fen(self.outstanding_at_default_fen)}",
                claimed=format_fen(claimed_fen),
                outstanding=format_fen(self.outstanding_at_default_fen),
            )
        days, window = (on - self.defaulted_on).days, rules.claim_window_days
        if days > window:
            raise ClaimWindowClosed(
                f"filed {days} days after the default of {self.defaulted_on}; the window is {window} days",
                days=days,
                window_days=window,
            )
        self.check_date(on, field="filing date")
        claim_id = make_claim_id(self.bank_id, self.loan_ref, self.claims_filed + 1)
        self.record(self.ClaimFiled, actor, on, claim_id=claim_id)
        return Claim.file(actor, self, claim_id, claimed_fen, on)

    def reverse_fact(self, actor: Actor, fact_id: str, reason: str, scheme: Scheme, on: date) -> None:
        """Reverse a repayment, premium or fee (docs/rules.md §10); the scheme's exposure or cover
        income moves back in the same save."""
        if parse_fact_id(fact_id).kind == "repayment":
            principal_fen = self.reverse_repayment(actor, fact_id, reason, on)
            scheme.release_exposure(
                actor, self.loan_ref, self.bank_id, -principal_fen, f"reversal of {fact_id}", on
            )
            return
        fact = self.reverse_cover_income(actor, fact_id, reason, on)
        year = fact["business_date"].year
        scheme.count_cover_income(
            actor, fact_id, fact["kind"], fact["party_id"], year, -fact["amount_fen"], on
        )

    def _fact(self, facts: dict[str, dict[str, Any]], fact_id: str) -> dict[str, Any]:
        fact = facts.get(fact_id)
        if fact is None:
            raise UnknownFact(f"no fact {fact_id!r} on loan {self.reference}", fact_id=fact_id)
        if fact["reversed"]:
            raise AlreadyReversed(f"fact {fact_id!r} has already been reversed", fact_id=fact_id)
        return fact

    def _check_room(self) -> None:
        if len(self.repayments) + len(self.cover_income) >= FACTS_PER_LOAN_MAX:
            raise InvalidTransition(
                f"loan {self.reference} already holds {FACTS_PER_LOAN_MAX} facts",
                state=self.state,
            )


# The fields `Loan.Enrolled` adds to every fact's (its attribution and business date): the loan's terms.
ENROLLED_TERMS = tuple(
    f for f in Loan.Enrolled.__dataclass_fields__ if f not in FirstFact.__dataclass_fields__
)
LOAN_TOPIC = get_topic(Loan)
