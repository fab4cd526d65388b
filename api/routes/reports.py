"""The read models of rule book §9, now or as of a business date or log position.

A fund manager or regulator reads the whole scheme; a bank, guarantor, insurer or government
party reads its own figures only.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from fastapi import APIRouter

from api.deps import Cursor, Limit, ReadCall
from api.routes import READ
from api.schemas.common import Ref, decode_cursor, encode_cursor, yuan
from api.schemas.reports import (
    BalancesReport,
    BreakerFiguresReport,
    BreakersReport,
    ClaimsQueueReport,
    ExposureReport,
    FundHistoryReport,
    FundsReport,
    LoanBookReport,
    LossRatiosReport,
    OwedReport,
    SettlementsReport,
    TargetsReport,
)
from ledger import access
from projections.models import breakers, claims, journal, loans, schemes, targets

router = APIRouter(prefix="/v1/schemes/{scheme_id}/reports", tags=["reports"])


def _amounts(row: dict[str, Any]) -> dict[str, Any]:
    """fen fields as yuan strings, named without their unit."""
    return {
        (k[:-4] if k.endswith("_fen") else k): (yuan(v) if k.endswith("_fen") else v) for k, v in row.items()
    }


def _mine(only: str | None, party_id: str) -> bool:
    return only is None or party_id == only


def _meta(read: ReadCall, scheme_id: str, conn: Any) -> dict[str, Any]:
    schemes.scheme_row(conn, scheme_id)
    return {"scheme_id": scheme_id, "as_of_historical": read.historical, "today": str(read.today)}


@router.get(
    "/balances",
    response_model=BalancesReport,
    responses=READ,
    summary="Each party's accounts; the trial balance is checked",
)
def get_balances_report(scheme_id: Ref, read: ReadCall) -> dict[str, Any]:
    only = access.report_rows(read.actor, "balances")
    with read.engine.connect() as conn:
        meta = _meta(read, scheme_id, conn)
        rows = [_amounts(asdict(b)) for b in journal.balances(conn, scheme_id) if _mine(only, b.party_id)]
    return meta | {"parties": rows, "trial_balance": "0.00"}


@router.get(
    "/owed",
    response_model=OwedReport,
    responses=READ,
    summary="Who owes whom: per claim, in total, and net per pair",
)
def get_owed_report(scheme_id: Ref, read: ReadCall) -> dict[str, Any]:
    only = access.report_rows(read.actor, "owed")
    with read.engine.connect() as conn:
        meta = _meta(read, scheme_id, conn)
        found = journal.owed(conn, scheme_id, party_id=only)
    return meta | {name: [_debt(d) for d in getattr(found, name)] for name in ("per_claim", "totals", "net")}


def _debt(debt: journal.Debt) -> dict[str, str]:
    """One line of the owed matrix (built field by field: `asdict` took a third of the report's time
    with a thousand open debts)."""
    return {
        "debtor": debt.debtor,
        "creditor": debt.creditor,
        "amount": yuan(debt.amount_fen),
        "claim_id": debt.claim_id,
    }


@router.get(
    "/loss-ratios",
    response_model=LossRatiosReport,
    responses=READ,
    summary="Loss ratios gross and net (%), of the scheme and each party",
)
def get_loss_ratios_report(scheme_id: Ref, read: ReadCall) -> dict[str, Any]:
    only = access.report_rows(read.actor, "loss-ratios")
    with read.engine.connect() as conn:
        meta = _meta(read, scheme_id, conn)
        rows = [_amounts(asdict(r)) for r in journal.loss_ratios(conn, scheme_id) if _mine(only, r.subject)]
    return meta | {"ratios": rows}


@router.get(
    "/exposure",
    response_model=ExposureReport,
    responses=READ,
    summary="Exposure against the leverage limit, and the headroom",
)
def get_exposure_report(scheme_id: Ref, read: ReadCall) -> dict[str, Any]:
    access.report_rows(read.actor, "exposure")
    with read.engine.connect() as conn:
        meta = _meta(read, scheme_id, conn)
        return meta | _amounts(asdict(schemes.exposure(conn, scheme_id, read.today)))


@router.get(
    "/funds",
    response_model=FundsReport,
    responses=READ,
    summary="Government funds: contributions − payments + recovery parts",
)
def get_funds_report(scheme_id: Ref, read: ReadCall) -> dict[str, Any]:
    only = access.report_rows(read.actor, "funds")
    with read.engine.connect() as conn:
        meta = _meta(read, scheme_id, conn)
        rows = [_amounts(asdict(f)) for f in journal.funds(conn, scheme_id) if _mine(only, f.party_id)]
    return meta | {"funds": rows}


@router.get(
    "/breakers",
    response_model=BreakersReport,
    responses=READ,
    summary="Circuit breakers: tripped, reset, the figure at the trip",
)
def get_breakers_report(scheme_id: Ref, read: ReadCall) -> dict[str, Any]:
    only = access.report_rows(read.actor, "breakers")
    with read.engine.connect() as conn:
        meta = _meta(read, scheme_id, conn)
        rows = [
            _amounts({k: str(v) if k.endswith("_on") and v else v for k, v in b.items() if k != "scheme_id"})
            for b in breakers.states(conn, scheme_id)
            if _mine(only, b["party_id"])
        ]
    return meta | {"breakers": rows}


@router.get(
    "/claims-queue",
    response_model=ClaimsQueueReport,
    responses=READ,
    summary="Claims at each status, their amounts, the oldest's age",
)
def get_claims_queue_report(scheme_id: Ref, read: ReadCall) -> dict[str, Any]:
    access.report_rows(read.actor, "claims-queue")
    with read.engine.connect() as conn:
        meta = _meta(read, scheme_id, conn)
        rows = [_amounts(asdict(q)) for q in claims.queue(conn, scheme_id, read.today)]
    return meta | {"statuses": rows}


@router.get(
    "/loan-book",
    response_model=LoanBookReport,
    responses=READ,
    summary="The loan book by bank, state, product and cover",
)
def get_loan_book_report(scheme_id: Ref, read: ReadCall) -> dict[str, Any]:
    only = access.report_rows(read.actor, "loan-book")
    with read.engine.connect() as conn:
        meta = _meta(read, scheme_id, conn)
        rows = [
            _amounts({k: v for k, v in g.items() if k != "scheme_id"})
            for g in loans.book_groups(conn, scheme_id)
            if _mine(only, g["bank_id"])
        ]
    return meta | {"groups": rows}


@router.get(
    "/targets",
    response_model=TargetsReport,
    responses=READ,
    summary="Progress toward the programme's targets, year by year",
)
def get_targets_report(scheme_id: Ref, read: ReadCall) -> dict[str, Any]:
    access.report_rows(read.actor, "targets")
    with read.engine.connect() as conn:
        meta = _meta(read, scheme_id, conn)
        progress, years = targets.progress(conn, scheme_id)
    rows = []
    for p in progress:
        row = asdict(p) | {"by": str(p.by)}
        if p.metric != "firms_served":
            row |= {
                "goal": yuan(p.goal),
                "reached_by_then": yuan(p.reached_by_then),
                "reached_now": yuan(p.reached_now),
            }
        rows.append(row)
    return meta | {
        "targets": rows,
        "years": [_amounts({k: v for k, v in y.items() if k != "scheme_id"}) for y in years],
    }


@router.get(
    "/fund-history",
    response_model=FundHistoryReport,
    responses=READ,
    summary="Government funds month by month: in, out and the balance at each month's end",
)
def get_fund_history_report(scheme_id: Ref, read: ReadCall) -> dict[str, Any]:
    only = access.report_rows(read.actor, "funds")
    with read.engine.connect() as conn:
        meta = _meta(read, scheme_id, conn)
        rows = [
            _amounts(asdict(m))
            for m in journal.fund_history(conn, scheme_id, read.today)
            if _mine(only, m.party_id)
        ]
    return meta | {"months": rows}


@router.get(
    "/breaker-figures",
    response_model=BreakerFiguresReport,
    responses=READ,
    summary="Every circuit breaker's figure now, its threshold and how far it is from tripping",
)
def get_breaker_figures_report(scheme_id: Ref, read: ReadCall) -> dict[str, Any]:
    only = access.report_rows(read.actor, "breakers")
    with read.engine.connect() as conn:
        meta = _meta(read, scheme_id, conn)
        found = [b for b in breakers.figures(conn, scheme_id, read.today) if _mine(only, b.party_id)]
    rows = []
    for b in found:
        row = _amounts(asdict(b))
        threshold = None if b.threshold_bp is None else f"{b.threshold_bp // 100}.{b.threshold_bp % 100:02d}"
        room = None
        if threshold is not None and b.figure_percent is not None:
            room = f"{Decimal(threshold) - Decimal(b.figure_percent):.2f}"
        rows.append(row | {"threshold_percent": threshold, "room_percent": room})
    return meta | {"breakers": rows}


@router.get(
    "/settlements",
    response_model=SettlementsReport,
    responses=READ,
    summary="The settlement payments made on claims, latest first, reversed ones with their reversal",
)
def get_settlements_report(
    scheme_id: Ref, read: ReadCall, limit: Limit = 100, cursor: Cursor = None
) -> dict[str, Any]:
    only = access.report_rows(read.actor, "owed")
    after = decode_cursor(cursor, (int,))
    with read.engine.connect() as conn:
        meta = _meta(read, scheme_id, conn)
        found = journal.settlement_payments(
            conn, scheme_id, party_id=only, before=after[0] if after else None, limit=limit
        )
    last = encode_cursor([found[-1][0]]) if len(found) == limit else None
    return meta | {"payments": [_amounts(asdict(p)) for _, p in found], "next_cursor": last}
