"""Programme targets (rule book §9): lending, firms served and contributions year by year, and each
target's progress toward its goal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Column, Date, Integer, String, select
from sqlalchemy.engine import Connection

from ledger.domain import Loan, Scheme
from ledger.money import parse_fen, ratio_percent
from projections.model import Id, ReadModel, Ref, count, fen
from projections.models import schemes as schemes_model
from projections.rows import Rows

model = ReadModel("targets")

lending = model.table(
    "rp_lending",
    Column("scheme_id", Id, primary_key=True),
    Column("year", Integer, primary_key=True),
    fen("disbursed_fen"),
    count("loans"),
    count("firms_new"),
    fen("contributed_fen"),
)

firms = model.table(
    "rp_firms",
    Column("scheme_id", Id, primary_key=True),
    Column("borrower_uscc", String(18), primary_key=True),
    Column("first_disbursed_on", Date, nullable=False),
)

# Each contribution's amount and date, for its reversal, which names only the fact.
contributions = model.table(
    "rp_target_contributions",
    Column("scheme_id", Id, primary_key=True),
    Column("fact_id", Ref, primary_key=True),
    fen("amount_fen"),
    Column("contributed_on", Date, nullable=False),
)


@model.handles(Loan.Disbursed)
def disbursed(rows: Rows, e: Any, position: int) -> None:
    loan = rows.subjects.loan(e.originator_id)
    year = rows.get_or_new(lending, loan.scheme_id, e.business_date.year)
    firm_new = rows.get(firms, loan.scheme_id, loan.borrower_uscc) is None
    if firm_new:
        rows.put(
            firms,
            {
                "scheme_id": loan.scheme_id,
                "borrower_uscc": loan.borrower_uscc,
                "first_disbursed_on": e.business_date,
            },
        )
    year.update(
        disbursed_fen=year["disbursed_fen"] + loan.principal_fen,
        loans=year["loans"] + 1,
        firms_new=year["firms_new"] + firm_new,
    )


@model.handles(Scheme.ContributionRecorded)
def contributed(rows: Rows, e: Any, position: int) -> None:
    scheme_id = rows.subjects.scheme_id(e.originator_id)
    values = {"amount_fen": e.amount_fen, "contributed_on": e.business_date}
    rows.put(contributions, {"scheme_id": scheme_id, "fact_id": e.fact_id} | values)
    rows.get_or_new(lending, scheme_id, e.business_date.year)["contributed_fen"] += e.amount_fen


@model.handles(Scheme.ContributionReversed)
def contribution_reversed(rows: Rows, e: Any, position: int) -> None:
    """Taken off the year the contribution was made in."""
    scheme_id = rows.subjects.scheme_id(e.originator_id)
    undone = rows.require(contributions, scheme_id, e.fact_id)
    year = rows.get_or_new(lending, scheme_id, undone["contributed_on"].year)
    year["contributed_fen"] -= undone["amount_fen"]


# --- Queries ---


@dataclass(frozen=True)
class TargetProgress:
    target_id: str
    metric: str
    goal: int
    by: date
    reached_by_then: int
    reached_now: int
    percent: str | None
    met: bool


FIGURES = {
    "cumulative_lending": "disbursed_fen",
    "firms_served": "firms_new",
    "cumulative_contributions": "contributed_fen",
}


def progress(conn: Connection, scheme_id: str) -> tuple[list[TargetProgress], list[dict[str, Any]]]:
    """Progress toward each programme target, and the year-by-year series behind it."""
    scheme = schemes_model.scheme_row(conn, scheme_id)
    years = [
        dict(row._mapping)
        for row in conn.execute(
            select(lending).where(lending.c.scheme_id == scheme_id).order_by(lending.c.year)
        )
    ]
    found = []
    for target in scheme["targets"]:
        by = date.fromisoformat(target["by"])
        goal = target["count"] if target["metric"] == "firms_served" else parse_fen(target["amount"])
        figure = FIGURES[target["metric"]]
        by_then = sum(y[figure] for y in years if y["year"] <= by.year)
        now = sum(y[figure] for y in years)
        found.append(
            TargetProgress(
                target["target_id"],
                target["metric"],
                goal,
                by,
                by_then,
                now,
                ratio_percent(by_then, goal),
                by_then >= goal,
            )
        )
    return found, years
