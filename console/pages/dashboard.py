"""The pool dashboard (fund manager, regulator, government): exposure against the leverage limit,
each government fund's balance month by month, loss ratios, every circuit breaker against its
threshold, and the programme's targets. Every figure is one of the API's reports; every table
downloads (`?table=<id>&format=csv|xlsx`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from console.client import Api
from console.i18n import N_, _, role_name
from console.web import Column, SessionDep, api, download, page, url_with, wants_download
from ledger.calendar import today_in_china

router = APIRouter(include_in_schema=False)

REPORTS = ("exposure", "funds", "fund-history", "loss-ratios", "breaker-figures", "targets")
BREAKER_KINDS = {
    "bank_loss_rate": N_("Bank loss rate"),
    "insurer_loss_ratio": N_("Insurer loss ratio"),
    "fund_drawdown": N_("Fund drawdown"),
}
# What a breaker's figure and base are (rule book §8).
BREAKER_MEASURES = {
    "bank_loss_rate": N_("outstanding at default / principal disbursed"),
    "insurer_loss_ratio": N_("allocations / premiums of the year"),
    "fund_drawdown": N_("settlement payments / contributions"),
}
METRICS = {
    "cumulative_lending": N_("Cumulative lending"),
    "cumulative_contributions": N_("Cumulative contributions"),
    "firms_served": N_("Firms served"),
}
# The base of each party's loss ratio (rule book §9).
RATIO_BASES = {
    "scheme": N_("principal disbursed"),
    "bank": N_("principal disbursed"),
    "insurer": N_("premiums"),
    "guarantor": N_("guarantee fees"),
    "government": N_("contributions"),
}


@router.get("/schemes/{scheme_id}", response_class=HTMLResponse)
async def dashboard(request: Request, scheme_id: str, session: SessionDep) -> Response:
    async with api(request, session) as a:
        found = await _reports(a, scheme_id)
    names = party_names(found["members"])
    tables = _tables(found, names)
    fmt = wants_download(request)
    chosen = request.query_params.get("table")
    if fmt and chosen in tables:
        columns, rows = tables[chosen]
        return download(fmt, f"{scheme_id}-{chosen}", columns, rows)
    exposure = found["exposure"]
    return page(
        request,
        "dashboard/scheme.html",
        session=session,
        title=_("Pool dashboard"),
        scheme_id=scheme_id,
        exposure=exposure,
        used_percent=_share_percent(exposure["exposure"], exposure["limit"]),
        tables=tables,
        chart=_fund_chart(found["fund-history"]["months"], names),
        breakers=found["breaker-figures"]["breakers"],
        today=found["exposure"]["today"],
        historical=exposure["as_of_historical"],
        dl=lambda table: _download_link(request, table),
        breaker_label=lambda b: (
            f"{_(BREAKER_KINDS.get(b['kind'], b['kind']))} · {names.get(b['party_id'], b['party_id'])}"
        ),
    )


async def _reports(a: Api, scheme_id: str) -> dict[str, Any]:
    """The dashboard's reports, asked at once (each is its own read of the read models)."""
    path = f"/v1/schemes/{scheme_id}/reports/"
    answers = await asyncio.gather(
        *(a.get(path + name) for name in REPORTS), a.get(f"/v1/schemes/{scheme_id}/members")
    )
    return dict(zip((*REPORTS, "members"), answers, strict=True))


def party_names(members: list[dict[str, Any]]) -> dict[str, str]:
    """Each member's name by its id (a party the list does not name is shown by its id)."""
    return {m["party_id"]: m["name"] for m in members}


def _download_link(request: Request, table: str) -> Callable[..., str]:
    return lambda **changes: url_with(request, table=table, **changes)


def _tables(found: dict[str, Any], names: dict[str, str]) -> dict[str, tuple[list[Column], list[Any]]]:
    """Every table of the dashboard by its id: its columns (described once, for the page and its
    downloads) and its rows."""
    exposure = found["exposure"]
    targets = found["targets"]["targets"]
    return {
        "exposure": (_exposure_columns(), _exposure_rows(exposure)),
        "funds": (_fund_columns(names), found["funds"]["funds"]),
        "fund-history": _fund_history(found["fund-history"]["months"], names),
        "loss-ratios": (_ratio_columns(names), found["loss-ratios"]["ratios"]),
        "breakers": (_breaker_columns(names), found["breaker-figures"]["breakers"]),
        "targets": (_target_columns("amount"), [t for t in targets if t["metric"] != "firms_served"]),
        "firm-targets": (_target_columns("int"), [t for t in targets if t["metric"] == "firms_served"]),
        "years": (_year_columns(), found["targets"]["years"]),
    }


def _exposure_rows(e: dict[str, Any]) -> list[tuple[str, Any, str]]:
    used = _share_percent(e["exposure"], e["limit"])
    return [
        (_("Exposure (outstanding principal of live loans)"), e["exposure"], "amount"),
        (_("Contributions paid in"), e["paid_in"], "amount"),
        (_("Leverage multiple"), e["leverage_multiple"], "int"),
        (_("Leverage limit (paid in × multiple)"), e["limit"], "amount"),
        (_("Headroom left"), e["headroom"], "amount"),
        (_("Share of the limit used (%)"), used, "amount"),
    ]


def _exposure_columns() -> list[Column]:
    # the figures are of different kinds: amounts in the "amount" column, counts in the other
    return [
        Column(_("Item"), lambda r: r[0]),
        Column(_("Amount (yuan or %)"), lambda r: r[1] if r[2] == "amount" else None, "amount"),
        Column(_("Count"), lambda r: r[1] if r[2] == "int" else None, "int"),
    ]


def _fund_columns(names: dict[str, str]) -> list[Column]:
    return [
        Column(_("Government fund"), lambda f: names.get(f["party_id"], f["party_id"])),
        Column(_("Contributions"), lambda f: f["contributions"], "amount"),
        Column(_("Settlement payments"), lambda f: f["payments"], "amount"),
        Column(_("Recovery parts received"), lambda f: f["recoveries_in"], "amount"),
        Column(_("Balance"), lambda f: f["balance"], "amount"),
        Column(_("Drawdown (%)"), lambda f: f["drawdown_percent"], "amount"),
    ]


def _fund_history(months: list[dict[str, Any]], names: dict[str, str]) -> tuple[list[Column], list[Any]]:
    """One row per month, one balance column per fund (the chart's figures, as a table)."""
    funds = list(dict.fromkeys(m["party_id"] for m in months))
    by_month: dict[str, dict[str, str]] = {}
    for m in months:
        by_month.setdefault(m["month"], {})[m["party_id"]] = m["balance"]
    columns = [Column(_("Month"), lambda r: r[0])]
    for fund in funds:
        heading = _("%(fund)s: balance") % {"fund": names.get(fund, fund)}
        columns.append(Column(heading, _balance_of(fund), "amount"))
    return columns, list(by_month.items())


def _balance_of(fund: str) -> Callable[[Any], Any]:
    return lambda row: row[1].get(fund)


def _fund_chart(months: list[dict[str, Any]], names: dict[str, str]) -> dict[str, Any]:
    funds = list(dict.fromkeys(m["party_id"] for m in months))
    x = list(dict.fromkeys(m["month"] for m in months))
    series = [
        {"name": names.get(fund, fund), "data": [m["balance"] for m in months if m["party_id"] == fund]}
        for fund in funds
    ]
    return {"kind": "line", "step": True, "x": x, "series": series, "unit": _("yuan")}


def _ratio_columns(names: dict[str, str]) -> list[Column]:
    return [
        Column(_("Subject"), lambda r: names.get(r["subject"], r["subject"])),
        Column(
            _("Role"),
            lambda r: _("the scheme as a whole") if r["role"] == "scheme" else role_name(r["role"]),
        ),
        Column(_("Losses borne"), lambda r: r["loss"], "amount"),
        Column(_("Recovered"), lambda r: r["recovered"], "amount"),
        Column(_("Base"), lambda r: r["base"], "amount"),
        Column(_("Base is"), lambda r: _(RATIO_BASES.get(r["role"], r["role"]))),
        Column(_("Gross loss ratio (%)"), lambda r: r["gross_percent"], "amount"),
        Column(_("Net loss ratio (%)"), lambda r: r["net_percent"], "amount"),
    ]


def _breaker_columns(names: dict[str, str]) -> list[Column]:
    return [
        Column(_("Breaker"), lambda b: _(BREAKER_KINDS.get(b["kind"], b["kind"]))),
        Column(_("Party"), lambda b: names.get(b["party_id"], b["party_id"])),
        Column(_("Measured as"), _measure),
        Column(_("Figure now"), lambda b: b["figure"], "amount"),
        Column(_("Base"), lambda b: b["base"], "amount"),
        Column(_("Figure (%)"), lambda b: b["figure_percent"], "amount"),
        Column(_("Threshold (%)"), lambda b: b["threshold_percent"], "amount"),
        Column(_("Room before it trips (yuan)"), lambda b: b["room"], "amount"),
        Column(_("Room (percentage points)"), lambda b: b["room_percent"], "amount"),
        Column(_("State"), breaker_state),
    ]


def _measure(b: dict[str, Any]) -> str:
    measure = _(BREAKER_MEASURES.get(b["kind"], b["kind"]))
    if b.get("year"):
        measure += " " + _("(%(year)s)") % {"year": b["year"]}
    return measure


def target_state(target: dict[str, Any], today: str) -> str:
    """A target in words: met, not yet due, or not met by its date (one rule for both pages)."""
    if target["met"]:
        return _("Met")
    return _("Not yet due") if str(target["by"]) > today else _("Not met")


def breaker_state(b: dict[str, Any]) -> str:
    """A breaker's state in words: tripped (since when), over its threshold but not tripped (it
    trips at the next fact of its kind), no threshold, or clear (reset when, if it was)."""
    if b["tripped"]:
        return _("Tripped on %(day)s") % {"day": b["tripped_on"]}
    if b["threshold_bp"] is None:
        return _("No threshold: never trips")
    if b["over"] and b["reset_on"]:
        return _("Reset on %(day)s, still over its threshold (trips at the next check)") % {
            "day": b["reset_on"]
        }
    if b["over"]:
        return _("Over its threshold (trips at the next check)")
    if b["reset_on"]:
        return _("Clear (reset on %(day)s)") % {"day": b["reset_on"]}
    return _("Clear")


# The headings of a target's figures: yuan for lending and contributions, a count of firms.
TARGET_HEADINGS = {
    "amount": (N_("Goal (yuan)"), N_("Reached by then (yuan)"), N_("Reached now (yuan)")),
    "int": (N_("Goal (firms)"), N_("Reached by then (firms)"), N_("Reached now (firms)")),
}


def _target_columns(kind: str) -> list[Column]:
    goal, by_then, now = (_(heading) for heading in TARGET_HEADINGS[kind])
    return [
        Column(_("Target"), lambda t: t["target_id"]),
        Column(_("Measure"), lambda t: _(METRICS.get(t["metric"], t["metric"]))),
        Column(_("Due by"), lambda t: t["by"], "date"),
        Column(goal, lambda t: t["goal"], kind),
        Column(by_then, lambda t: t["reached_by_then"], kind),
        Column(now, lambda t: t["reached_now"], kind),
        Column(_("Of the goal by then (%)"), lambda t: t["percent"], "amount"),
        Column(_("Met by then?"), lambda t: target_state(t, today_in_china().isoformat())),
    ]


def _year_columns() -> list[Column]:
    return [
        Column(_("Year"), lambda y: str(y["year"])),
        Column(_("Principal disbursed"), lambda y: y["disbursed"], "amount"),
        Column(_("Loans disbursed"), lambda y: y["loans"], "int"),
        Column(_("New firms served"), lambda y: y["firms_new"], "int"),
        Column(_("Contributions paid in"), lambda y: y["contributed"], "amount"),
    ]


def _share_percent(part: str | None, whole: str | None) -> str | None:
    """part / whole as a percentage with two decimals (half up), from exact yuan strings."""
    if part is None or whole is None or Decimal(whole) == 0:
        return None
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
