"""Building a large pool through the application service, for the benchmarks."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

from ledger.actors import Actor, Role
from ledger.money import Money
from ledger.service import Enrolment, Ledger
from ledger.uscc import make_uscc

SCHEME = "bench-pool"
FM = Actor("fm-bench", Role.FUND_MANAGER, request_id="bench")
FM2 = Actor("fm-bench-2", Role.FUND_MANAGER, request_id="bench")
BANKS = [f"bank-{i}" for i in range(8)]
FUNDS = ["city-fund", "county-fund"]
RULES = """
effective_from: 2018-01-02
eligibility: {principal_max: "30000000.00", term_months_max: 36}
default_after_overdue_days: 90
claim_window_days: 365
second_approval_from: "1000000.00"
leverage_multiple: 10
recovery_costs_max_bp: 500
covers:
  direct:
    split:
      city-fund: {tiers: [{principal_max: "5000000.00", bp: 4000}, {principal_max: "30000000.00", bp: 3000}],
                  bonuses: [{tag: ip_pledge, bp: 1000}], bp_max: 5000}
      county-fund: 1000
      bank: remainder
    caps:
      city-fund: {per_claim_max: "3000000.00", annual_max: "900000000.00"}
    overflow: {county-fund: 5000, bank: 5000}
  guaranteed:
    split: {guarantor: 4000, city-fund: 3000, bank: 2000, county-fund: 1000}
"""
START = date(2018, 1, 2)


def bank(bank_id: str) -> Actor:
    return Actor(f"{bank_id}-ops", Role.BANK, bank_id, request_id="bench")


def found(app: Ledger) -> None:
    app.create_scheme(FM, SCHEME, "Benchmark pool", created_on=START)
    parties = [(b, "bank") for b in BANKS] + [(f, "government") for f in FUNDS] + [("guar", "guarantor")]
    for party_id, role in parties:
        app.register_party(FM, party_id, role, party_id, registered_on=START)
        app.admit_member(FM, SCHEME, party_id, admitted_on=START)
    app.publish_rules(FM, SCHEME, RULES, published_on=START)
    for fund in FUNDS:
        app.record_contribution(FM, SCHEME, fund, Money.yuan("500000000000"), contributed_on=START)


def enrolment(index: int, on: date, rng: random.Random) -> Enrolment:
    cover = "guaranteed" if index % 3 == 0 else "direct"
    return Enrolment(
        loan_ref=f"L{index:07d}",
        borrower_name=f"Bench firm {index}",
        borrower_uscc=make_uscc(f"91410600{index:09d}"),
        product="tech_loan",
        principal=Money(rng.choice([50, 100, 200, 300, 500]) * 1_000_000),
        rate_bp=450,
        term_months=24,
        enrolled_on=on,
        cover=cover,
        cover_party_id="guar" if cover == "guaranteed" else None,
        tags=("ip_pledge",) if index % 5 == 0 else (),
    )


def grow(
    app: Ledger, loans: int, *, first: int = 0, seed: int = 7, advance: Callable[[int], None] | None = None
) -> None:
    """Add `loans` loans: each enrolled and disbursed; one in three repays a part, one in fifty
    defaults and is claimed, approved and paid."""
    rng = random.Random(seed + first)
    for i in range(first, first + loans):
        b = BANKS[i % len(BANKS)]
        on = START + timedelta(days=(i * 7) % 900)
        e = enrolment(i, on, rng)
        app.enrol_loan(bank(b), SCHEME, b, e)
        app.disburse(bank(b), SCHEME, b, e.loan_ref, e.principal, disbursed_on=on + timedelta(days=1))
        if i % 3 == 1:
            app.repay(
                bank(b),
                SCHEME,
                b,
                e.loan_ref,
                principal=Money(e.principal.fen // 4),
                interest=Money(10_000),
                repaid_on=on + timedelta(days=90),
            )
        if i % 50 == 7:
            claim(app, b, e, on)
        if advance and i % 100 == 99:
            advance(100)


def claim(app: Ledger, bank_id: str, e: Enrolment, on: date) -> None:
    day = on + timedelta(days=200)
    app.declare_default(bank(bank_id), SCHEME, bank_id, e.loan_ref, overdue_days=95, defaulted_on=day)
    amount = Money(e.principal.fen // 2)
    receipt = app.file_claim(bank(bank_id), SCHEME, bank_id, e.loan_ref, amount, filed_on=day)
    approved = app.approve_claim(FM, SCHEME, receipt.claim_id, amount, approved_on=day)
    if approved.status == "awaiting_second_approval":
        app.approve_claim(FM2, SCHEME, receipt.claim_id, amount, approved_on=day)
    claim_ = app.claim(FM, SCHEME, receipt.claim_id)
    for party in claim_.party_order():
        owed = claim_.owed_to_bank(party)
        if owed and party in FUNDS:
            app.pay_settlement(FM, SCHEME, receipt.claim_id, party, Money(owed), paid_on=day)


TAPE_DAY = date(2019, 3, 1)


def tape(enrolments: list[Enrolment]) -> bytes:
    """A loan tape (CSV, UTF-8) of these enrolments, as a bank's system would export it."""
    from ledger.tape import COLUMNS

    lines = [",".join(COLUMNS)]
    for e in enrolments:
        lines.append(
            ",".join(
                [
                    e.loan_ref,
                    e.borrower_name,
                    e.borrower_uscc,
                    e.product,
                    ";".join(e.tags),
                    str(e.principal),
                    str(e.rate_bp),
                    str(e.term_months),
                    e.enrolled_on.isoformat(),
                    e.cover,
                    e.cover_party_id or "",
                ]
            )
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def tape_loans(first: int, count: int, *, seed: int = 11) -> list[Enrolment]:
    rng = random.Random(seed + first)
    return [enrolment(i, TAPE_DAY, rng) for i in range(first, first + count)]


def enrol_by_tapes(
    app: Ledger, first: int, count: int, *, advance: Callable[[int], None] | None = None
) -> list[tuple[str, Enrolment]]:
    """Enrol `count` loans from loan tapes, one tape per bank at a time (of at most 100,000 rows)."""
    from ledger.tape import read_tape

    enrolled: list[tuple[str, Enrolment]] = []
    per_bank = -(-count // len(BANKS))
    for b_index, b in enumerate(BANKS):
        start = first + b_index * per_bank
        left = min(per_bank, first + count - start)
        while left > 0:
            chunk = tape_loans(start, min(left, 100_000))
            app.enrol_tape(bank(b), SCHEME, b, read_tape(tape(chunk)))
            enrolled += [(b, e) for e in chunk]
            start, left = start + len(chunk), left - len(chunk)
            if advance:
                advance(len(chunk))
    return enrolled


def work_the_book(
    app: Ledger, enrolled: list[tuple[str, Enrolment]], *, advance: Callable[[int], None] | None = None
) -> None:
    """A pool's life on an enrolled book: one loan in four disbursed, one in twelve repaying, one in
    a hundred defaulting, claimed, approved and paid by the funds."""
    for n, (b, e) in enumerate(enrolled):
        if n % 4 == 0:
            app.disburse(
                bank(b), SCHEME, b, e.loan_ref, e.principal, disbursed_on=TAPE_DAY + timedelta(days=1)
            )
            if n % 12 == 0:
                app.repay(
                    bank(b),
                    SCHEME,
                    b,
                    e.loan_ref,
                    principal=Money(e.principal.fen // 4),
                    interest=Money(10_000),
                    repaid_on=TAPE_DAY + timedelta(days=90),
                )
            if n % 100 == 0:
                claim(app, b, e, TAPE_DAY)
        if advance and n % 100 == 99:
            advance(100)


def defaulted(app: Ledger, enrolled: list[tuple[str, Enrolment]]) -> None:
    """Disburse these loans and declare them defaulted, ready for a claim each."""
    for b, e in enrolled:
        app.disburse(bank(b), SCHEME, b, e.loan_ref, e.principal, disbursed_on=TAPE_DAY + timedelta(days=1))
        app.declare_default(
            bank(b), SCHEME, b, e.loan_ref, overdue_days=95, defaulted_on=TAPE_DAY + timedelta(days=200)
        )


CLAIM_DAY = TAPE_DAY + timedelta(days=205)
CLOCK_DAY = date(2022, 6, 30)
