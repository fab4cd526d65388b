"""Loans: each loan as it stands, the loan book by bank, state, product and cover, and each bank's
principal disbursed and defaulted (the base of its loss ratio)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Date, Index, Integer, String, select, tuple_
from sqlalchemy.engine import Connection

from ledger.access import LoanScope
from ledger.domain import Loan, Scheme
from ledger.domain.loan import state_after_repayment
from projections.model import PAGE_ITEMS_MAX, Id, ReadModel, Ref, count, fen
from projections.rows import Row, Rows

model = ReadModel("loans")
LIVE = ("enrolled", "disbursed", "defaulted")  # the states whose outstanding counts as exposure

loans = model.table(
    "rp_loans",
    Column("loan_uuid", Id, primary_key=True),
    Column("scheme_id", Id, nullable=False),
    Column("bank_id", Id, nullable=False),
    Column("loan_ref", Ref, nullable=False),
    Column("borrower_name", String(400), nullable=False),
    Column("borrower_uscc", String(18), nullable=False),
    Column("product", Id, nullable=False),
    Column("tags", JSON, nullable=False),
    fen("principal_fen"),
    Column("rate_bp", Integer, nullable=False),
    Column("term_months", Integer, nullable=False),
    Column("cover", Id, nullable=False),
    Column("cover_party_id", Id),
    Column("rule_version", Integer, nullable=False),
    Column("state", Id, nullable=False),
    Column("enrolled_on", Date, nullable=False),
    Column("disbursed_on", Date),
    Column("defaulted_on", Date),
    Column("closed_on", Date),
    fen("principal_repaid_fen"),
    fen("interest_repaid_fen"),
    fen("exposure_fen"),
    Column("outstanding_at_default_fen", BigInteger),
    count("claims_filed"),
    Column("current_claim_id", Ref),
    Column("version", Integer, nullable=False),
    Index("rp_loans_ref", "scheme_id", "bank_id", "loan_ref", unique=True),
)

loan_book = model.table(
    "rp_loan_book",
    Column("scheme_id", Id, primary_key=True),
    Column("bank_id", Id, primary_key=True),
    Column("state", Id, primary_key=True),
    Column("product", Id, primary_key=True),
    Column("cover", Id, primary_key=True),
    count("loans"),
    fen("principal_fen"),
    fen("exposure_fen"),
)

banks = model.table(
    "rp_banks",
    Column("scheme_id", Id, primary_key=True),
    Column("bank_id", Id, primary_key=True),
    fen("disbursed_fen"),
    fen("defaulted_fen"),
)

# Each repayment's amounts, for its reversal, which names only the fact.
repayments = model.table(
    "rp_loan_repayments",
    Column("loan_uuid", Id, primary_key=True),
    Column("fact_id", Ref, primary_key=True),
    fen("principal_fen"),
    fen("interest_fen"),
)

ENROLMENT = (
    "scheme_id",
    "bank_id",
    "loan_ref",
    "borrower_name",
    "borrower_uscc",
    "product",
    "principal_fen",
    "rate_bp",
    "term_months",
    "cover",
    "cover_party_id",
    "rule_version",
)


def loan(rows: Rows, e: Any) -> Row:
    return rows.require(loans, e.originator_id.hex)


def book(rows: Rows, row: Row, sign: int) -> None:
    """Add (+1) or take out (-1) a loan's contribution to its loan-book group."""
    group = rows.get_or_new(
        loan_book, row["scheme_id"], row["bank_id"], row["state"], row["product"], row["cover"]
    )
    group.update(
        loans=group["loans"] + sign,
        principal_fen=group["principal_fen"] + sign * row["principal_fen"],
        exposure_fen=group["exposure_fen"] + sign * row["exposure_fen"],
    )


def move(rows: Rows, row: Row, version: int, **changes: Any) -> None:
    """Change a loan's row, moving it between loan-book groups as its state or figures change."""
    book(rows, row, -1)
    row.update(changes, version=version)
    if row["state"] not in LIVE:
        row["exposure_fen"] = 0
    book(rows, row, +1)


@model.handles(Loan.Enrolled)
def enrolled(rows: Rows, e: Any, position: int) -> None:
    fields = vars(e)
    values = {name: fields[name] for name in ENROLMENT}
    values.update(
        loan_uuid=e.originator_id.hex,
        tags=list(e.tags),
        state="enrolled",
        enrolled_on=e.business_date,
        exposure_fen=e.principal_fen,
        claims_filed=0,
        version=1,
    )
    book(rows, rows.put(loans, values), +1)


@model.handles(Loan.Disbursed)
def disbursed(rows: Rows, e: Any, position: int) -> None:
    move(rows, loan(rows, e), e.originator_version, state="disbursed", disbursed_on=e.business_date)


@model.handles(Loan.Repaid)
def repaid(rows: Rows, e: Any, position: int) -> None:
    row = loan(rows, e)
    rows.put(
        repayments,
        {
            "loan_uuid": row["loan_uuid"],
            "fact_id": e.fact_id,
            "principal_fen": e.principal_fen,
            "interest_fen": e.interest_fen,
        },
    )
    _repayment(rows, row, e.originator_version, e.principal_fen, e.interest_fen)


@model.handles(Loan.RepaymentReversed)
def repayment_reversed(rows: Rows, e: Any, position: int) -> None:
    row = loan(rows, e)
    undone = rows.require(repayments, row["loan_uuid"], e.fact_id)
    _repayment(rows, row, e.originator_version, -undone["principal_fen"], -undone["interest_fen"])


def _repayment(rows: Rows, row: Row, version: int, principal: int, interest: int) -> None:
    repaid_fen = row["principal_repaid_fen"] + principal
    move(
        rows,
        row,
        version,
        state=state_after_repayment(row["state"], row["principal_fen"], repaid_fen),
        principal_repaid_fen=repaid_fen,
        interest_repaid_fen=row["interest_repaid_fen"] + interest,
        exposure_fen=row["principal_fen"] - repaid_fen,
    )


@model.handles(Loan.Defaulted)
def defaulted(rows: Rows, e: Any, position: int) -> None:
    move(
        rows,
        loan(rows, e),
        e.originator_version,
        state="defaulted",
        defaulted_on=e.business_date,
        outstanding_at_default_fen=e.outstanding_fen,
    )


@model.handles(Loan.Withdrawn, Loan.WrittenOff)
def closed(rows: Rows, e: Any, position: int) -> None:
    state = "withdrawn" if isinstance(e, Loan.Withdrawn) else "written_off"
    move(rows, loan(rows, e), e.originator_version, state=state, closed_on=e.business_date)


@model.handles(Loan.ClaimFiled)
def claim_filed(rows: Rows, e: Any, position: int) -> None:
    row = loan(rows, e)
    row.update(
        claims_filed=row["claims_filed"] + 1, current_claim_id=e.claim_id, version=e.originator_version
    )


@model.handles(
    Loan.PremiumRecorded, Loan.GuaranteeFeeRecorded, Loan.PremiumReversed, Loan.GuaranteeFeeReversed
)
def cover_income(rows: Rows, e: Any, position: int) -> None:
    """The journal posts the money; the loan's row only moves to the new version."""
    loan(rows, e)["version"] = e.originator_version


@model.handles(Scheme.DisbursementCounted, Scheme.DefaultCounted)
def bank_figure(rows: Rows, e: Any, position: int) -> None:
    bank = rows.get_or_new(banks, rows.subjects.scheme_id(e.originator_id), e.bank_id)
    if isinstance(e, Scheme.DisbursementCounted):
        bank["disbursed_fen"] += e.amount_fen
    else:
        bank["defaulted_fen"] += e.outstanding_fen


# --- Queries ---


def page(
    conn: Connection,
    scheme_id: str,
    scope: LoanScope,
    *,
    bank_id: str | None = None,
    state: str | None = None,
    loan_ref: str | None = None,
    borrower_name: str | None = None,
    borrower_uscc: str | None = None,
    after: tuple[str, str] | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The loans of a scheme that `scope` lets its principal see, by bank and reference;
    keyset-paginated on (bank_id, loan_ref). A search by reference or USCC matches their start, by
    borrower name any part of it; Latin letters match in either case on both stores."""
    assert 0 < limit <= PAGE_ITEMS_MAX
    query = select(loans).where(loans.c.scheme_id == scheme_id)
    if scope.bank_id is not None:
        query = query.where(loans.c.bank_id == scope.bank_id)
    if scope.cover_party_id is not None:
        query = query.where(loans.c.cover_party_id == scope.cover_party_id)
    if bank_id is not None:
        query = query.where(loans.c.bank_id == bank_id)
    if state is not None:
        query = query.where(loans.c.state == state)
    if loan_ref:
        query = query.where(loans.c.loan_ref.istartswith(loan_ref, autoescape=True))
    if borrower_name:
        query = query.where(loans.c.borrower_name.icontains(borrower_name, autoescape=True))
    if borrower_uscc:
        query = query.where(loans.c.borrower_uscc.istartswith(borrower_uscc, autoescape=True))
    if after is not None:
        query = query.where(tuple_(loans.c.bank_id, loans.c.loan_ref) > tuple_(*after))
    query = query.order_by(loans.c.bank_id, loans.c.loan_ref).limit(limit)
    return [dict(row._mapping) for row in conn.execute(query)]


def book_groups(conn: Connection, scheme_id: str) -> list[dict[str, Any]]:
    """The loan book: loans, principal and exposure per bank, state, product and cover."""
    rows = conn.execute(
        select(loan_book)
        .where(loan_book.c.scheme_id == scheme_id, loan_book.c.loans != 0)
        .order_by(loan_book.c.bank_id, loan_book.c.state, loan_book.c.product, loan_book.c.cover)
    )
    return [dict(row._mapping) for row in rows]


def disbursed_by_bank(conn: Connection, scheme_id: str) -> dict[str, int]:
    query = select(banks.c.bank_id, banks.c.disbursed_fen).where(banks.c.scheme_id == scheme_id)
    return {bank: fen for bank, fen in conn.execute(query)}
