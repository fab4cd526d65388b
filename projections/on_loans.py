"""How loans' events move the read models: the loan book, lending, firms served, facts."""

from __future__ import annotations

from typing import Any

from ledger.domain import Loan
from ledger.domain.loan import state_after_repayment
from projections import postings, tables as t
from projections.on_schemes import reverse_fact
from projections.rows import Rows

Event = Any
LIVE = ("enrolled", "disbursed", "defaulted")  # the states whose outstanding counts as exposure


def loan(rows: Rows, e: Event) -> dict[str, Any]:
    return rows.require(t.loans, e.originator_id.hex)


def book(rows: Rows, row: dict[str, Any], sign: int) -> None:
    """Add (+1) or take out (-1) a loan's contribution to its loan-book group."""
    group = rows.get_or_new(
        t.loan_book, row["scheme_id"], row["bank_id"], row["state"], row["product"], row["cover"]
    )
    group["loans"] += sign
    group["principal_fen"] += sign * row["principal_fen"]
    group["exposure_fen"] += sign * row["exposure_fen"]
    rows.changed(t.loan_book, group)


def move(rows: Rows, row: dict[str, Any], version: int, **changes: Any) -> None:
    """Change a loan's row, moving it between loan-book groups as its state or figures change."""
    book(rows, row, -1)
    row.update(changes, version=version)
    if row["state"] not in LIVE:
        row["exposure_fen"] = 0
    rows.changed(t.loans, row)
    book(rows, row, +1)


def enrolled(rows: Rows, e: Event, position: int) -> None:
    fields = (
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
    row = rows.put(
        t.loans,
        {name: getattr(e, name) for name in fields}
        | {
            "loan_uuid": e.originator_id.hex,
            "tags": list(e.tags),
            "state": "enrolled",
            "enrolled_on": e.business_date,
            "exposure_fen": e.principal_fen,
            "claims_filed": 0,
            "version": 1,
        },
    )
    book(rows, row, +1)


def disbursed(rows: Rows, e: Event, position: int) -> None:
    row = loan(rows, e)
    move(rows, row, e.originator_version, state="disbursed", disbursed_on=e.business_date)
    year = rows.get_or_new(t.lending, row["scheme_id"], e.business_date.year)
    year["disbursed_fen"] += row["principal_fen"]
    year["loans"] += 1
    if rows.get(t.firms, row["scheme_id"], row["borrower_uscc"]) is None:
        rows.put(
            t.firms,
            {
                "scheme_id": row["scheme_id"],
                "borrower_uscc": row["borrower_uscc"],
                "first_disbursed_on": e.business_date,
            },
        )
        year["firms_new"] += 1
    rows.changed(t.lending, year)


def repaid(rows: Rows, e: Event, position: int) -> None:
    row = loan(rows, e)
    rows.put(
        t.facts,
        {
            "scheme_id": row["scheme_id"],
            "fact_id": e.fact_id,
            "kind": "repayment",
            "party_id": row["bank_id"],
            "counterparty_id": "",
            "claim_id": "",
            "amount_fen": e.principal_fen,
            "details": {"loan_ref": row["loan_ref"], "interest_fen": e.interest_fen},
            "business_date": e.business_date,
            "position": position,
        },
    )
    _repayment(rows, row, e.originator_version, e.principal_fen, e.interest_fen)


def repayment_reversed(rows: Rows, e: Event, position: int) -> None:
    row = loan(rows, e)
    fact = reverse_fact(rows, row["scheme_id"], e, position)
    _repayment(rows, row, e.originator_version, -fact["amount_fen"], -fact["details"]["interest_fen"])


def _repayment(rows: Rows, row: dict[str, Any], version: int, principal: int, interest: int) -> None:
    repaid_fen = row["principal_repaid_fen"] + principal
    state = state_after_repayment(row["state"], row["principal_fen"], repaid_fen)
    move(
        rows,
        row,
        version,
        state=state,
        principal_repaid_fen=repaid_fen,
        interest_repaid_fen=row["interest_repaid_fen"] + interest,
        exposure_fen=row["principal_fen"] - repaid_fen,
    )


def defaulted(rows: Rows, e: Event, position: int) -> None:
    move(
        rows,
        loan(rows, e),
        e.originator_version,
        state="defaulted",
        defaulted_on=e.business_date,
        outstanding_at_default_fen=e.outstanding_fen,
    )


def closed(rows: Rows, e: Event, position: int) -> None:
    state = "withdrawn" if isinstance(e, Loan.Withdrawn) else "written_off"
    move(rows, loan(rows, e), e.originator_version, state=state, closed_on=e.business_date)


def claim_filed(rows: Rows, e: Event, position: int) -> None:
    row = loan(rows, e)
    row.update(
        claims_filed=row["claims_filed"] + 1, current_claim_id=e.claim_id, version=e.originator_version
    )
    rows.changed(t.loans, row)


def cover_income(rows: Rows, e: Event, position: int) -> None:
    row = loan(rows, e)
    kind = "premium" if isinstance(e, Loan.PremiumRecorded) else "fee"
    fact = rows.put(
        t.facts,
        {
            "scheme_id": row["scheme_id"],
            "fact_id": e.fact_id,
            "kind": kind,
            "party_id": e.party_id,
            "counterparty_id": row["bank_id"],
            "claim_id": "",
            "amount_fen": e.amount_fen,
            "details": {"loan_ref": row["loan_ref"]},
            "business_date": e.business_date,
            "position": position,
        },
    )
    _touch(rows, row, e)
    postings.post(
        rows,
        position,
        row["scheme_id"],
        e.business_date,
        type(e).__name__,
        e.fact_id,
        postings.for_fact(fact),
    )


def cover_income_reversed(rows: Rows, e: Event, position: int) -> None:
    row = loan(rows, e)
    fact = reverse_fact(rows, row["scheme_id"], e, position)
    _touch(rows, row, e)
    postings.post(
        rows,
        position,
        row["scheme_id"],
        e.business_date,
        type(e).__name__,
        e.fact_id,
        postings.for_fact(fact),
        sign=-1,
    )


def _touch(rows: Rows, row: dict[str, Any], e: Event) -> None:
    row["version"] = e.originator_version
    rows.changed(t.loans, row)


HANDLERS = {
    Loan.Enrolled: enrolled,
    Loan.Disbursed: disbursed,
    Loan.Repaid: repaid,
    Loan.RepaymentReversed: repayment_reversed,
    Loan.Defaulted: defaulted,
    Loan.Withdrawn: closed,
    Loan.WrittenOff: closed,
    Loan.ClaimFiled: claim_filed,
    Loan.PremiumRecorded: cover_income,
    Loan.GuaranteeFeeRecorded: cover_income,
    Loan.PremiumReversed: cover_income_reversed,
    Loan.GuaranteeFeeReversed: cover_income_reversed,
}
