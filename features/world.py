"""The test world the feature steps act on: one in-memory ledger, its actors and its calendar."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import yaml
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import StaticPool

from ledger.actors import Actor, Role
from ledger.errors import LedgerError
from ledger.money import Money
from ledger.service import Enrolment, Ledger, Receipt
from ledger.uscc import make_uscc
from projections.runner import Runner
from projections.store import ProjectionStore

SCHEME = "pool"
TODAY = date(2026, 11, 27)
DEFAULT_RULES = {
    "effective_from": "2018-01-01",
    "eligibility": {"principal_max": "30000000.00", "term_months_max": 36},
    "default_after_overdue_days": 90,
    "claim_window_days": 365,
    "second_approval_from": "1000000.00",
    "leverage_multiple": 10,
    "recovery_costs_max_bp": 500,
}


def yuan(text: str) -> Money:
    """Amounts as the rule book writes them: '1,234,567.89'."""
    return Money.yuan(text.replace(",", ""))


def fund_manager(name: str = "fm-alice") -> Actor:
    return Actor(name, Role.FUND_MANAGER, request_id="feature")


@dataclass
class World:
    ledger: Ledger = field(default_factory=lambda: Ledger(clock=lambda: TODAY))
    roles: dict[str, str] = field(default_factory=dict)
    day: date = date(2019, 1, 2)
    claims: dict[str, str] = field(default_factory=dict)  # loan ref -> its latest claim id
    principals: dict[str, int] = field(default_factory=dict)
    receipt: Receipt | None = None
    error: LedgerError | None = None
    before: list[tuple[Any, ...]] = field(default_factory=list)
    runner: Runner | None = None

    def read_models(self) -> Engine:
        """The projections, caught up with everything recorded so far (read-your-writes)."""
        if self.runner is None:
            engine = create_engine(
                "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
            store = ProjectionStore(engine)
            store.create()
            self.runner = Runner(self.ledger, store)
        self.runner.wait_for(self.ledger.recorder.max_notification_id() or 0)
        return self.runner.store.engine

    def actor(self, party_id: str) -> Actor:
        """The principal acting for a party, or a fund manager / regulator by principal name."""
        role = self.roles.get(party_id)
        if role is None:
            if party_id.startswith("regulator"):
                return Actor(party_id, Role.REGULATOR, request_id="feature")
            return fund_manager(party_id)
        return Actor(f"{party_id}-ops", Role(role), party_id, request_id="feature")

    def next_day(self) -> date:
        """Each fact happens on its own business day, so dates along a loan never go backwards."""
        self.day += timedelta(days=1)
        return self.day

    def stored(self) -> list[tuple[Any, ...]]:
        rows = self.ledger.recorder.select_notifications(start=1, limit=1_000_000)
        return [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in rows]

    def attempt(self, command: Any) -> None:
        """Run a command that may be refused; remember the refusal and the store before it."""
        self.before, self.error, self.receipt = self.stored(), None, None
        try:
            self.receipt = command()
        except LedgerError as error:
            self.error = error

    # Set-up helpers: what scenarios say in their Given steps.

    def found_pool(self, members: list[tuple[str, str]], contribution: Money | None) -> None:
        fm = fund_manager()
        self.ledger.create_scheme(fm, SCHEME, "Feature pool", created_on=date(2018, 1, 1))
        for party_id, role in members:
            self.roles[party_id] = role
            self.ledger.register_party(fm, party_id, role, party_id.upper(), registered_on=date(2018, 1, 1))
            self.ledger.admit_member(fm, SCHEME, party_id, admitted_on=date(2018, 1, 1))
            if role == "government" and contribution is not None:
                self.ledger.record_contribution(
                    fm, SCHEME, party_id, contribution, contributed_on=date(2018, 1, 1)
                )

    def publish(self, text: str) -> None:
        document = DEFAULT_RULES | yaml.safe_load(text)
        self.ledger.publish_rules(fund_manager(), SCHEME, document, published_on=date(2018, 1, 1))

    def enrolment(
        self, loan: str, principal: Money, cover: str, party: str | None, tags: tuple[str, ...] = ()
    ) -> Enrolment:
        return Enrolment(
            loan_ref=loan,
            borrower_name=f"Fictional firm {loan}",
            borrower_uscc=make_uscc("91410600MA" + f"{zlib.crc32(loan.encode()) % 10**7:07d}"),
            product="tech_loan",
            principal=principal,
            rate_bp=450,
            term_months=24,
            enrolled_on=self.next_day(),
            cover=cover,
            cover_party_id=party,
            tags=tags,
        )

    def enrol_and_disburse(
        self,
        bank: str,
        loan: str,
        principal: Money,
        cover: str,
        party: str | None,
        tags: tuple[str, ...] = (),
    ) -> None:
        actor = self.actor(bank)
        self.ledger.enrol_loan(actor, SCHEME, bank, self.enrolment(loan, principal, cover, party, tags))
        self.ledger.disburse(actor, SCHEME, bank, loan, principal, disbursed_on=self.next_day())
        self.principals[loan] = principal.fen

    def bank_of(self, loan: str) -> str:
        for bank, role in self.roles.items():
            if role == "bank":
                try:
                    self.ledger.loan(fund_manager(), SCHEME, bank, loan)
                except LedgerError:
                    continue
                return bank
        raise AssertionError(f"no bank has loan {loan}")

    def default(self, loan: str, outstanding: Money) -> None:
        bank = self.bank_of(loan)
        actor, repaid = self.actor(bank), self.principals[loan] - outstanding.fen
        if repaid:
            self.ledger.repay(
                actor,
                SCHEME,
                bank,
                loan,
                principal=Money(repaid),
                interest=Money(0),
                repaid_on=self.next_day(),
            )
        self.ledger.declare_default(actor, SCHEME, bank, loan, overdue_days=90, defaulted_on=self.next_day())

    def file(self, loan: str, amount: Money) -> Receipt:
        bank = self.bank_of(loan)
        receipt = self.ledger.file_claim(
            self.actor(bank), SCHEME, bank, loan, amount, filed_on=self.next_day()
        )
        self.claims[loan] = receipt.claim_id
        return receipt

    def approve(self, loan: str, amount: Money, checker: str = "fm-alice") -> Receipt:
        return self.ledger.approve_claim(
            fund_manager(checker), SCHEME, self.claims[loan], amount, approved_on=self.next_day()
        )

    def file_and_approve(self, loan: str, amount: Money) -> Receipt:
        """A claim filed and finally approved, by a second checker when the amount needs one."""
        self.file(loan, amount)
        receipt = self.approve(loan, amount)
        if receipt.status == "awaiting_second_approval":
            receipt = self.approve(loan, amount, checker="fm-bob")
        return receipt

    def claim(self, loan: str) -> Any:
        return self.ledger.claim(fund_manager(), SCHEME, self.claims[loan])

    def scheme(self) -> Any:
        return self.ledger.scheme(SCHEME)
