"""What a fund manager wants to see first, printed from the projections."""

from __future__ import annotations

from datetime import date

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from sqlalchemy.engine import Connection

from ledger.money import format_fen
from projections import reports

NAME_WIDTH_MIN = 12  # a name column narrower than this folds; no column is narrower


def whole(table: Table, *figures: int) -> Table:
    """A table whose figures are never cut, whatever the terminal's width: each figure column is
    right-aligned, unwrapped and as wide as its widest figure; names fold onto further lines
    instead (a cut amount, "13608532.…", reads as another amount). Print it with `print_whole`."""
    for i, column in enumerate(table.columns):
        cells = [len(str(cell)) for cell in column.cells]
        if i in figures:
            column.justify = "right"
            column.no_wrap = True
            column.min_width = max([len(str(column.header)), *cells])
        else:
            column.overflow = "fold"
            column.min_width = min(max([len(str(column.header)), *cells]), NAME_WIDTH_MIN)
    return table


def print_whole(console: Console, table: Table) -> None:
    """Prints a table at least as wide as its columns' minimum widths: on a terminal narrower than
    that, its lines wrap there rather than a column being squeezed out or cut off."""
    needed = Measurement.get(console, console.options.update(max_width=10_000), table).minimum
    width = console.width
    console.width = max(width, needed)  # Console.print's own `width` is capped at the console's
    try:
        console.print(table, crop=False)
    finally:
        console.width = width


def render(console: Console, conn: Connection, scheme_id: str, today: date, *, heading: str = "") -> None:
    scheme = reports.scheme_row(conn, scheme_id)
    console.print(f"[bold]{scheme['name']}[/bold] ({scheme_id}){heading}")
    e = reports.exposure(conn, scheme_id, today)
    limit = "-" if e.limit_fen is None else format_fen(e.limit_fen)
    headroom = "-" if e.headroom_fen is None else format_fen(e.headroom_fen)
    queue = reports.claims_queue(conn, scheme_id, today)
    console.print(
        f"Exposure {format_fen(e.exposure_fen)} of a leverage limit {limit} (headroom {headroom}); "
        f"claims: {', '.join(f'{q.claims} {q.status}' for q in queue if q.claims) or 'none'}"
    )
    funds = Table(
        "fund",
        "contributed",
        "paid out",
        "recoveries in",
        "balance",
        "drawdown",
        title="Fund balances (yuan)",
    )
    for f in reports.funds(conn, scheme_id):
        funds.add_row(
            f.party_id,
            format_fen(f.contributions_fen),
            format_fen(f.payments_fen),
            format_fen(f.recoveries_in_fen),
            format_fen(f.balance_fen),
            f"{f.drawdown_percent or '-'}%",
        )
    print_whole(console, whole(funds, 1, 2, 3, 4, 5))
    owed = reports.owed(conn, scheme_id)
    debts = Table("who owes", "whom", "owed", "net between the two", title="What each party owes (yuan)")
    net = {(d.debtor, d.creditor): d.amount_fen for d in owed.net}
    for d in owed.totals:
        debts.add_row(
            d.debtor, d.creditor, format_fen(d.amount_fen), format_fen(net.get((d.debtor, d.creditor), 0))
        )
    if not owed.totals:
        debts.add_row("nobody owes anything", "", "", "")
    print_whole(console, whole(debts, 2, 3))
    ratios = Table("subject", "role", "losses", "recovered", "over", "gross", "net", title="Loss ratios")
    for r in reports.loss_ratios(conn, scheme_id):
        ratios.add_row(
            r.subject,
            r.role,
            format_fen(r.loss_fen),
            format_fen(r.recovered_fen),
            format_fen(r.base_fen),
            f"{r.gross_percent or '-'}%",
            f"{r.net_percent or '-'}%",
        )
    print_whole(console, whole(ratios, 2, 3, 4, 5, 6))
    breakers = Table("breaker", "state", "figure at trip", "threshold", "since", title="Circuit breakers")
    for b in reports.breakers(conn, scheme_id):
        state = "TRIPPED" if b["tripped"] else f"reset {b['reset_on']}"
        breakers.add_row(
            b["breaker"],
            state,
            f"{b['figure_percent'] or '-'}%",
            f"{b['threshold_bp']} bp",
            str(b["tripped_on"]),
        )
    if not reports.breakers(conn, scheme_id):
        breakers.add_row("none has tripped", "", "", "", "")
    print_whole(console, whole(breakers, 2, 3, 4))
    progress, _ = reports.targets(conn, scheme_id)
    if progress:
        goals = Table("target", "by", "goal", "reached by then", "", title="Programme targets")
        for p in progress:
            show = str if p.metric == "firms_served" else format_fen
            goals.add_row(
                p.target_id,
                str(p.by),
                show(p.goal),
                f"{show(p.reached_by_then)} ({p.percent}%)",
                "met" if p.met else "not met",
            )
        print_whole(console, whole(goals, 1, 2, 3))
