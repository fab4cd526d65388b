"""The fund manager's administration of a scheme: contributions to the government funds, rule
versions (each shown readably, two compared side by side, a new one published from a YAML file),
the programme targets, and the circuit breakers with their reset.

Every figure is the API's: the funds, targets and breakers reports, the rule versions, and the
scheme's own running figures (its contributions and the figures its breakers watch) as the audit
API serves the scheme aggregate. The console adds presentation only: the readable labels of a rule
version, the comparison of two, and how far each breaker's figure is from its threshold.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import orjson
import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from console.client import Api, Refused
from console.i18n import N_, _, yuan
from console.pages.dashboard import breaker_state, target_state
from console.web import (
    Column,
    FormErrors,
    FormSession,
    SessionDep,
    api,
    download,
    new_idempotency_key,
    page,
    redirect,
    refusal_message,
    url_with,
    wants_download,
)
from ledger.actors import Role
from ledger.calendar import today_in_china
from ledger.rules.breakers import BANK_LOSS_RATE, FUND_DRAWDOWN, INSURER_LOSS_RATIO
from ledger.rules.loading import DOCUMENT_BYTES_MAX

router = APIRouter(include_in_schema=False)

RULES_FILE_BYTES_MAX = DOCUMENT_BYTES_MAX  # the rule book's limit on a rule version document (§3)
DOCUMENT_NODES_MAX = 50_000  # values a rule file may hold once its YAML aliases are followed
DOCUMENT_DEPTH_MAX = 32
FILE_NAME_CHARS_MAX = 200
TARGET_ROWS_BLANK = 3  # empty rows the targets form offers for new targets
TARGET_ROWS_MAX = 32  # the rule book's limit on a set of targets (§3)
AMOUNT = re.compile(r"-?\d+\.\d{2}")
PROBLEM = re.compile(r"^([A-Za-z0-9_.\-]+): (.*)$", re.S)
TARGET_PROBLEM = re.compile(r"^targets\.(\d+)\.?([a-z_]*)[^:]*: (.*)$", re.S)
MONEY_METRICS = ("cumulative_lending", "cumulative_contributions")
METRICS = (*MONEY_METRICS, "firms_served")
KINDS = (BANK_LOSS_RATE, INSURER_LOSS_RATIO, FUND_DRAWDOWN)


def _base(scheme_id: str) -> str:
    return f"/schemes/{quote(scheme_id, safe='')}"


def _v1(scheme_id: str) -> str:
    return f"/v1/schemes/{quote(scheme_id, safe='')}"


def _after(request: Request) -> int | None:
    """The log position a page was sent to after a write (`?after_position=`): its reads wait until
    the reports have applied it, so the page shows what was just recorded."""
    value = request.query_params.get("after_position", "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def _amount_entered(text: str) -> str:
    """An amount as typed, without the thousands separators a person may type ("1,000.00")."""
    return text.replace(",", "").replace("，", "").replace(" ", "").strip()


def _members(found: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["party_id"]: m for m in found}


def _party(members: dict[str, dict[str, Any]], party_id: str) -> str:
    member = members.get(party_id)
    return f"{member['name']} ({party_id})" if member else party_id


def _can_write(session: Any, *roles: Role) -> bool:
    """Whether to show a form: presentation only; the API decides and refuses."""
    return session.actor.role in (Role.FUND_MANAGER, *roles)


def _tables(request: Request, table: str) -> Callable[..., str]:
    """`url_with` for one of several tables of a page: its downloads name it (`?table=`)."""
    return lambda **changes: url_with(request, table=table, **changes)


# Contributions -------------------------------------------------------------------------------


@dataclass
class Contribution:
    fact_id: str
    fund: str
    amount: str
    contributed_on: str
    reversed: bool
    recorded_by: str | None = None
    recorded_at: str | None = None
    reversed_on: str | None = None
    reversed_by: str | None = None
    reason: str | None = None

    @property
    def status(self) -> str:
        if not self.reversed:
            return _("Counted")
        if self.reversed_on:
            said = _("Reversed on {date} by {who}").format(date=self.reversed_on, who=self.reversed_by)
            return f"{said}: {self.reason}" if self.reason else said
        return _("Reversed")


def _contribution_columns() -> list[Column]:
    return [
        Column(_("Fact"), lambda r: r.fact_id),
        Column(_("Fund"), lambda r: r.fund),
        Column(_("Amount"), lambda r: r.amount, "amount"),
        Column(_("Contributed on"), lambda r: r.contributed_on, "date"),
        Column(_("Recorded by"), lambda r: r.recorded_by),
        Column(_("Recorded at"), lambda r: r.recorded_at, "instant"),
        Column(_("Status"), lambda r: r.status),
    ]


def _fund_columns() -> list[Column]:
    return [
        Column(_("Fund"), lambda r: r["fund"]),
        Column(_("Contributions"), lambda r: r["contributions"], "amount"),
        Column(_("Settlement payments"), lambda r: r["payments"], "amount"),
        Column(_("Recovery parts received"), lambda r: r["recoveries_in"], "amount"),
        Column(_("Balance"), lambda r: r["balance"], "amount"),
        Column(_("Drawdown"), lambda r: _percent_text(r["drawdown_percent"]), "int"),
    ]


async def _events(a: Api, scheme_id: str, fact: str, after: int | None) -> list[dict[str, Any]]:
    return await a.pages("/v1/audit/events", scheme_id=scheme_id, fact=fact, after_position=after)


def _amount_of(event: dict[str, Any]) -> str | None:
    """The event's own amount (a contribution's), as the audit API lists it."""
    return next(
        (x["amount"] for x in event.get("amounts") or [] if x["name"] == "amount" and x["party_id"] is None),
        None,
    )


async def _contributions_view(a: Api, scheme_id: str, after: int | None) -> dict[str, Any]:
    """Every contribution as the audit trail records it (who paid in, how much, on what date, who
    recorded it and whether it was reversed), with the funds report and the scheme's paid-in."""
    scheme = await a.get(_v1(scheme_id), after_position=after)  # after it, the rest at once
    members_list, funds_report, reversed_events, recorded = await asyncio.gather(
        a.get(f"{_v1(scheme_id)}/members"),
        a.get(f"{_v1(scheme_id)}/reports/funds"),
        _events(a, scheme_id, "ContributionReversed", after),
        _events(a, scheme_id, "ContributionRecorded", after),
    )
    members = _members(members_list)
    funds = funds_report["funds"]
    reversals = {e["reverses"]: e for e in reversed_events}
    rows = []
    for event in recorded:
        reversal = reversals.get(event["fact_id"], {})
        rows.append(
            Contribution(
                fact_id=event["fact_id"],
                fund=_party(members, event.get("party_id") or ""),
                amount=_amount_of(event) or "",
                contributed_on=str(event["business_date"]),
                reversed=event.get("reversed_by") is not None or bool(reversal),
                recorded_by=event["principal_id"],
                recorded_at=event["recorded_at"],
                reversed_on=reversal.get("business_date"),
                reversed_by=reversal.get("principal_id"),
                reason=reversal.get("reason"),
            )
        )
    rows.sort(key=lambda r: (r.contributed_on, r.recorded_at or ""))
    return {
        "scheme": scheme,
        "rows": rows,
        "funds": [f | {"fund": _party(members, f["party_id"])} for f in funds],
        "governments": [m for m in members.values() if m["role"] == "government"],
    }


@router.get("/schemes/{scheme_id}/contributions", response_class=HTMLResponse)
async def contributions(request: Request, scheme_id: str, session: SessionDep) -> Response:
    fmt = wants_download(request)
    async with api(request, session) as a:
        view = await _contributions_view(a, scheme_id, _after(request))
    if fmt:
        if request.query_params.get("table") == "funds":
            return download(fmt, f"funds-{scheme_id}", _fund_columns(), view["funds"])
        return download(fmt, f"contributions-{scheme_id}", _contribution_columns(), view["rows"])
    form = {"party_id": "", "amount": "", "contributed_on": today_in_china().isoformat()}
    return _contributions_page(request, session, scheme_id, view, form, FormErrors.none())


def _contributions_page(
    request: Request,
    session: Any,
    scheme_id: str,
    view: dict[str, Any],
    form: dict[str, str],
    errors: FormErrors,
    status: int = 200,
) -> Response:
    return page(
        request,
        "admin/contributions.html",
        session=session,
        title=_("Contributions"),
        scheme_id=scheme_id,
        status=status,
        columns=_contribution_columns(),
        fund_columns=_fund_columns(),
        funds_url=_tables(request, "funds"),
        can_record=_can_write(session, Role.GOVERNMENT),
        form=form,
        errors=errors,
        idempotency_key=new_idempotency_key(),
        today=today_in_china().isoformat(),
        **view,
    )


@router.post("/schemes/{scheme_id}/contributions", response_class=HTMLResponse)
async def record_contribution(request: Request, scheme_id: str, session: FormSession) -> Response:
    posted = await request.form()
    form = {k: str(posted.get(k, "")).strip() for k in ("party_id", "amount", "contributed_on")}
    body = {
        "party_id": form["party_id"],
        "amount": _amount_entered(form["amount"]),
        "contributed_on": form["contributed_on"],
    }
    async with api(request, session) as a:
        try:
            written = await a.post(
                f"{_v1(scheme_id)}/contributions",
                body,
                idempotency_key=str(posted.get("idempotency_key", "")),
            )
        except Refused as refused:
            view = await _contributions_view(a, scheme_id, None)
            errors = FormErrors.of(refused, fields=list(form))
            return _contributions_page(request, session, scheme_id, view, form, errors, status=refused.status)
        members = _members(await a.get(f"{_v1(scheme_id)}/members"))
    session.flash.append(
        (
            "ok",
            _("Contribution of {amount} yuan to {fund} recorded ({fact}).").format(
                amount=yuan(body["amount"]),
                fund=_party(members, body["party_id"]),
                fact=written.get("fact_id"),
            ),
        )
    )
    return redirect(f"{_base(scheme_id)}/contributions?after_position={written['position']}#main")


# Rule versions: labels ------------------------------------------------------------------------

# The rule book's names (docs/rules.md §3) as a fund manager reads them.
LABELS: dict[str, str] = {
    "effective_from": N_("Effective from"),
    "eligibility": N_("Eligibility"),
    "principal_max": N_("Principal at most"),
    "term_months_max": N_("Term at most (months)"),
    "default_after_overdue_days": N_("Default from (days overdue)"),
    "claim_window_days": N_("Claim window (days after the default)"),
    "second_approval_from": N_("Second approval from"),
    "leverage_multiple": N_("Leverage limit (× contributions paid in)"),
    "recovery_costs_max_bp": N_("Recovery costs at most (of the gross)"),
    "covers": N_("Covers"),
    "direct": N_("Direct loans"),
    "guaranteed": N_("Guaranteed loans"),
    "insured": N_("Insured loans"),
    "split": N_("Split"),
    "caps": N_("Caps"),
    "overflow": N_("Overflow"),
    "tiers": N_("Tier"),
    "bonuses": N_("Bonus"),
    "bp": N_("Share"),
    "bp_max": N_("Share at most"),
    "tag": N_("Loan tag"),
    "bank": N_("the loan's bank"),
    "guarantor": N_("the loan's guarantor"),
    "insurer": N_("the loan's insurer"),
    "per_claim_max": N_("Per claim, at most"),
    "per_bank_per_year_max": N_("Per bank and calendar year, at most"),
    "annual_max": N_("Per calendar year on the whole scheme, at most"),
    "premium_multiple_max_bp": N_("At most this multiple of the year's premiums"),
    "fee_multiple_max_bp": N_("At most this multiple of the year's guarantee fees"),
    "circuit_breakers": N_("Circuit breakers"),
    "bank_loss_rate_max_bp": N_("Bank loss rate: trips above"),
    "insurer_loss_ratio_max_bp": N_("Insurer loss ratio: trips at or above"),
    "fund_drawdown_max_bp": N_("Fund drawdown: trips at or above"),
    "document": N_("Document"),
}
BREAKER_NAMES = {
    BANK_LOSS_RATE: N_("Bank loss rate"),
    INSURER_LOSS_RATIO: N_("Insurer loss ratio"),
    FUND_DRAWDOWN: N_("Fund drawdown"),
}
BREAKER_FIGURES = {
    BANK_LOSS_RATE: N_("outstanding at default of its defaulted loans / principal it disbursed"),
    INSURER_LOSS_RATIO: N_("its allocations / its premiums, in calendar year {year}"),
    FUND_DRAWDOWN: N_("settlement payments from the fund / its contributions"),
}
METRIC_NAMES = {
    "cumulative_lending": N_("Cumulative lending (principal disbursed)"),
    "cumulative_contributions": N_("Cumulative contributions paid in"),
    "firms_served": N_("Firms served (with a disbursed loan)"),
}


COVER_TITLES = {
    "direct": N_("Direct loans (no guarantor or insurer)"),
    "guaranteed": N_("Guaranteed loans (bank, guarantor and the government funds)"),
    "insured": N_("Insured loans (bank and insurer)"),
}


def label(path: str) -> str:
    """A document path ("covers.direct.split.hebi-finance.tiers.0.bp") in the rule book's words."""
    parts: list[str] = []
    segments = path.split(".")
    for i, segment in enumerate(segments):
        if i == 0 and segment == "covers" and len(segments) > 1:
            continue
        if segment.isdigit() and i > 0 and segments[i - 1] in ("tiers", "bonuses"):
            parts[-1] = f"{parts[-1]} {int(segment) + 1}"
        elif segment in LABELS:
            parts.append(_(LABELS[segment]))
        else:
            parts.append(segment)
    return " › ".join(parts)


def bp_text(bp: Any) -> str:
    """bp as a percentage with its bp: 4000 → "40.00% (4,000 bp)"."""
    if not isinstance(bp, int) or isinstance(bp, bool):
        return str(bp)
    percent = (Decimal(bp) / 100).quantize(Decimal("0.01"))
    return f"{percent}% ({bp:,} bp)"


def _is_bp(path: str) -> bool:
    segments = path.split(".")
    last = segments[-1]
    parent = segments[-2] if len(segments) > 1 else ""
    return last in ("bp", "bp_max") or last.endswith("_bp") or parent in ("split", "overflow")


def shown(path: str, value: Any) -> str:
    """A document value as a fund manager reads it: amounts with separators, bp as percentages."""
    if value is None:
        return "—"
    if value == "remainder":
        return _("the remainder")
    if isinstance(value, str) and AMOUNT.fullmatch(value):
        return yuan(value)
    if isinstance(value, int) and not isinstance(value, bool) and _is_bp(path):
        return bp_text(value)
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode() if value else "—"
    return str(value)


def flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a document as (path, value), in the document's order."""
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            yield from flatten(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value:
        for index, inner in enumerate(value):
            yield from flatten(inner, f"{path}.{index}")
    else:
        yield path, value


# Rule versions: the readable tables of one version --------------------------------------------


@dataclass
class Line:
    """One row of a rule version's readable table: a parameter, a key and what it says."""

    parameter: str
    value: str
    detail: str = ""
    extra: str = ""
    more: str = ""


def _key_label(key: str, members: dict[str, dict[str, Any]]) -> str:
    if key in ("bank", "guarantor", "insurer"):
        return _(LABELS[key])
    return _party(members, key)


def _share(value: Any) -> tuple[str, str, str, str]:
    """A split share: (base, tiers, bonuses, ceiling), each as text."""
    if value == "remainder":
        return _("the remainder (what the other keys leave)"), "", "", ""
    if not isinstance(value, dict):
        return bp_text(value), "", "", ""
    tiers = "\n".join(
        _("principal up to {amount}: {share}").format(amount=yuan(t["principal_max"]), share=bp_text(t["bp"]))
        for t in value.get("tiers") or []
    )
    bonuses = "\n".join(
        _("+{share} with tag {tag}").format(share=bp_text(b["bp"]), tag=b["tag"])
        for b in value.get("bonuses") or []
    )
    base = bp_text(value["bp"]) if "bp" in value else _("by tier")
    ceiling = bp_text(value["bp_max"]) if "bp_max" in value else ""
    return base, tiers, bonuses, ceiling


def _line_part(line: Line, index: int) -> str:
    return (line.parameter, line.value, line.detail, line.extra, line.more)[index]


def _cap_value(kind: str, value: Any) -> str:
    if kind.endswith("_bp"):
        return bp_text(value)
    return f"{yuan(value)} {_('yuan')}" if isinstance(value, str) else str(value)


@dataclass
class Section:
    """A table of a rule version's page: its id (for its download), caption and rows."""

    id: str
    caption: str
    columns: list[Column]
    rows: list[Line]
    cover: str | None = None
    empty: str | None = None


def _general(version: dict[str, Any]) -> list[Line]:
    d = version["document"]
    e = d.get("eligibility", {})
    lines = [
        Line(_("Effective from"), str(d.get("effective_from", version["effective_from"]))),
        Line(_("Published on"), str(version["published_on"])),
        Line(_("Largest principal"), f"{yuan(e.get('principal_max'))} {_('yuan')}"),
        Line(_("Longest term"), _("{n} months").format(n=e.get("term_months_max"))),
        Line(_("Default declared from"), _("{n} days overdue").format(n=d.get("default_after_overdue_days"))),
        Line(_("Claim window"), _("{n} days after the default").format(n=d.get("claim_window_days"))),
        Line(
            _("Second approval needed from"),
            f"{yuan(d.get('second_approval_from'))} {_('yuan')}",
        ),
        Line(
            _("Leverage limit"),
            _("{n} × the contributions paid in").format(n=d.get("leverage_multiple")),
        ),
        Line(
            _("Recovery costs at most"),
            _("{share} of a gross recovery").format(share=bp_text(d.get("recovery_costs_max_bp"))),
        ),
    ]
    return lines


def _sections(version: dict[str, Any], members: dict[str, dict[str, Any]]) -> list[Section]:
    two = [Column(_("Parameter"), lambda r: r.parameter), Column(_("Value"), lambda r: r.value)]
    sections = [Section("general", _("General terms"), two, _general(version))]
    split_columns = [
        Column(_("Party"), lambda r: r.parameter),
        Column(_("Share"), lambda r: r.value),
        Column(_("Tiers by principal"), lambda r: r.detail),
        Column(_("Bonuses"), lambda r: r.extra),
        Column(_("Share at most"), lambda r: r.more),
    ]
    cap_columns = [
        Column(_("Party"), lambda r: r.parameter),
        Column(_("Cap"), lambda r: r.value),
        Column(_("Limit"), lambda r: r.detail),
    ]
    overflow_columns = [Column(_("Party"), lambda r: r.parameter), Column(_("Share"), lambda r: r.value)]
    for kind, cover in version["document"].get("covers", {}).items():
        cover_name = _(LABELS.get(kind, kind))  # in captions; the section's heading is its title
        split = [Line(_key_label(k, members), *_share(v)) for k, v in cover.get("split", {}).items()]
        # a share's tiers, bonuses and ceiling only where some key of this split has them
        used = [c for i, c in enumerate(split_columns) if i < 2 or any(_line_part(r, i) for r in split)]
        sections.append(
            Section(
                f"split-{kind}", _("{cover}: split of a loss").format(cover=cover_name), used, split, kind
            )
        )
        caps = [
            Line(_key_label(k, members), _(LABELS.get(c, c)), _cap_value(c, v))
            for k, limits in (cover.get("caps") or {}).items()
            for c, v in limits.items()
        ]
        sections.append(
            Section(
                f"caps-{kind}",
                _("{cover}: caps on what a party pays").format(cover=cover_name),
                cap_columns,
                caps,
                kind,
                _("No cap: each party pays its whole share."),
            )
        )
        overflow = [
            Line(_key_label(k, members), bp_text(v)) for k, v in (cover.get("overflow") or {}).items()
        ]
        sections.append(
            Section(
                f"overflow-{kind}",
                _("{cover}: where an amount cut by a cap goes").format(cover=cover_name),
                overflow_columns,
                overflow,
                kind,
                _("No overflow is set."),
            )
        )
    breaker_columns = [
        Column(_("Breaker"), lambda r: r.parameter),
        Column(_("Threshold"), lambda r: r.value),
        Column(_("Trips when the figure is"), lambda r: r.detail),
    ]
    thresholds = version["document"].get("circuit_breakers") or {}
    breakers = []
    for kind in KINDS:
        bp = thresholds.get(f"{kind}_max_bp")
        condition = _("above the threshold") if kind == BANK_LOSS_RATE else _("at or above the threshold")
        breakers.append(
            Line(_(BREAKER_NAMES[kind]), bp_text(bp) if bp is not None else _("none: never trips"), condition)
        )
    sections.append(Section("breakers", _("Thresholds of the circuit breakers"), breaker_columns, breakers))
    return sections


def _source(document: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


# Rule versions: the list and the publication ---------------------------------------------------


async def _rules_view(a: Api, scheme_id: str, after: int | None) -> dict[str, Any]:
    versions = await a.get(f"{_v1(scheme_id)}/rule-versions", after_position=after)
    try:
        published = await _events(a, scheme_id, "RuleVersionPublished", after)
    except Refused as refused:  # the audit trail is for fund managers and regulators only
        if refused.status != 403:
            raise
        published = []
    today = today_in_china().isoformat()
    in_force = max((v["number"] for v in versions if v["effective_from"] <= today), default=None)
    rows = []
    for index, v in enumerate(versions):
        event = published[index] if index < len(published) else {}
        if v["number"] == in_force:
            state = _("In force")
        elif v["effective_from"] > today:
            state = _("Takes effect on {date}").format(date=v["effective_from"])
        else:
            state = _("Superseded")
        rows.append(
            v
            | {
                "published_by": event.get("principal_id"),
                "recorded_at": event.get("recorded_at"),
                "state": state,
            }
        )
    return {"versions": rows, "in_force": in_force, "today": today}


def _rules_columns(scheme_id: str) -> list[Column]:
    return [
        Column(
            _("Version"),
            lambda r: _("Version {n}").format(n=r["number"]),
            link=lambda r: f"{_base(scheme_id)}/rules/{r['number']}",
        ),
        Column(_("Effective from"), lambda r: r["effective_from"], "date"),
        Column(_("Published on"), lambda r: r["published_on"], "date"),
        Column(_("Published by"), lambda r: r["published_by"]),
        Column(_("Recorded at"), lambda r: r["recorded_at"], "instant"),
        Column(_("Today"), lambda r: r["state"]),
    ]


@router.get("/schemes/{scheme_id}/rules", response_class=HTMLResponse)
async def rules(request: Request, scheme_id: str, session: SessionDep) -> Response:
    fmt = wants_download(request)
    async with api(request, session) as a:
        view = await _rules_view(a, scheme_id, _after(request))
    if fmt:
        return download(fmt, f"rule-versions-{scheme_id}", _rules_columns(scheme_id), view["versions"])
    return _rules_page(request, session, scheme_id, view, NO_UPLOAD, FormErrors.none())


def _rules_page(
    request: Request,
    session: Any,
    scheme_id: str,
    view: dict[str, Any],
    upload: dict[str, Any],
    errors: FormErrors,
    status: int = 200,
) -> Response:
    numbers = [v["number"] for v in view["versions"]]
    return page(
        request,
        "admin/rules.html",
        session=session,
        title=_("Rule versions"),
        scheme_id=scheme_id,
        status=status,
        columns=_rules_columns(scheme_id),
        base=_base(scheme_id),
        numbers=numbers,
        left=numbers[-2] if len(numbers) > 1 else (numbers[0] if numbers else None),
        right=numbers[-1] if numbers else None,
        can_publish=_can_write(session),
        upload=upload,
        errors=errors,
        idempotency_key=new_idempotency_key(),
        bytes_max_kib=RULES_FILE_BYTES_MAX // 1024,
        **view,
    )


NO_UPLOAD: dict[str, Any] = {"file_name": "", "published_on": "", "problems": []}


class UnreadableFile(Exception):
    """A rule file the console cannot turn into the API's JSON document: why, in the user's words."""


def read_rules_file(content: bytes) -> dict[str, Any]:
    """A rule version file (YAML or JSON, as `riskpool rules check` reads it) as the API's JSON
    document: read with `yaml.safe_load` only, at most the rule book's 256 KiB, dates as
    `YYYY-MM-DD` text, and at most DOCUMENT_NODES_MAX values once aliases are followed."""
    if len(content) > RULES_FILE_BYTES_MAX:
        raise UnreadableFile(
            _("The file is {size} bytes; a rule version is at most {limit} bytes.").format(
                size=f"{len(content):,}", limit=f"{RULES_FILE_BYTES_MAX:,}"
            )
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile(_("The file is not UTF-8 text.")) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise UnreadableFile(_("The file is not valid YAML or JSON: {error}").format(error=error)) from None
    if not isinstance(document, dict):
        raise UnreadableFile(_("The file must be a mapping of the rule version's fields."))
    budget = [DOCUMENT_NODES_MAX]
    return _json_ready(document, budget, 0)


def _json_ready(value: Any, budget: list[int], depth: int) -> Any:
    budget[0] -= 1
    if budget[0] < 0 or depth > DOCUMENT_DEPTH_MAX:
        raise UnreadableFile(_("The file holds too many values or is nested too deeply."))
    if isinstance(value, dict):
        return {str(k): _json_ready(v, budget, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v, budget, depth + 1) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):  # no JSON number: the API says why
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


@dataclass
class Problem:
    """One problem of a refused rule version: where (in the rule book's words) and what."""

    where: str
    path: str
    text: str


def problems_of(messages: list[str]) -> list[Problem]:
    found = []
    for message in messages:
        match = PROBLEM.match(message)
        if match and match.group(1) != "document":
            found.append(Problem(label(match.group(1)), match.group(1), match.group(2)))
        else:
            found.append(Problem("", "", message))
    return found


@router.post("/schemes/{scheme_id}/rules", response_class=HTMLResponse)
async def publish_rules(request: Request, scheme_id: str, session: FormSession) -> Response:
    posted = await request.form()
    upload = posted.get("file")
    published_on = str(posted.get("published_on", "")).strip()
    chosen = isinstance(upload, UploadFile) and bool(upload.filename)
    name = (
        (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1][:FILE_NAME_CHARS_MAX] if chosen else ""
    )
    entered: dict[str, Any] = {"file_name": name, "published_on": published_on, "problems": []}
    errors = FormErrors.none()
    document: dict[str, Any] | None = None
    if not chosen:
        errors = FormErrors({"file": _("Choose the rule version's YAML file.")}, None)
    else:
        content = await upload.read(RULES_FILE_BYTES_MAX + 1)
        try:
            document = read_rules_file(content)
        except UnreadableFile as unreadable:
            entered["problems"] = [Problem("", "", str(unreadable))]
            errors = FormErrors({"file": _("This file cannot be read as a rule version.")}, None)
    async with api(request, session) as a:
        if document is not None:
            body = {"document": document, "published_on": published_on}
            try:
                written = await a.post(
                    f"{_v1(scheme_id)}/rule-versions",
                    body,
                    idempotency_key=str(posted.get("idempotency_key", "")),
                )
            except Refused as refused:
                errors, entered["problems"] = _publication_refused(refused)
            else:
                number = written["details"]["rule_version"]
                session.flash.append(
                    (
                        "ok",
                        _("Rule version {number} published from {file}: in force from {date}.").format(
                            number=number, file=name, date=document.get("effective_from")
                        ),
                    )
                )
                return redirect(
                    f"{_base(scheme_id)}/rules/{number}?after_position={written['position']}#main"
                )
        view = await _rules_view(a, scheme_id, None)
    status = 422 if entered["problems"] or errors else 200
    return _rules_page(request, session, scheme_id, view, entered, errors, status=status)


def _publication_refused(refused: Refused) -> tuple[FormErrors, list[Problem]]:
    """A refused publication: every problem the API lists, each on its own line (rule book §3)."""
    figures = refused.problem.get("figures") or {}
    listed = figures.get("problems") if isinstance(figures, dict) else None
    if refused.code == "rules_invalid" and isinstance(listed, list) and listed:
        message = _("{count} problems in this file: nothing was published.").format(count=len(listed))
        return FormErrors({"file": message}, None), problems_of([str(p) for p in listed])
    errors = FormErrors.of(refused, fields=["published_on", "document"])
    if "document" in errors.fields:
        found = problems_of([refused.detail])
        return FormErrors({"file": errors.fields["document"]}, errors.general), found
    return errors, []


# Rule versions: one version, and two compared --------------------------------------------------


async def _version(a: Api, scheme_id: str, number: int, after: int | None = None) -> dict[str, Any]:
    return await a.get(f"{_v1(scheme_id)}/rule-versions/{number}", after_position=after)


@router.get("/schemes/{scheme_id}/rules/compare", response_class=HTMLResponse)
async def compare_rules(request: Request, scheme_id: str, session: SessionDep) -> Response:
    fmt = wants_download(request)
    async with api(request, session) as a:
        versions = await a.get(f"{_v1(scheme_id)}/rule-versions")
        numbers = [v["number"] for v in versions]
        left = _number(request.query_params.get("left"), numbers[-2] if len(numbers) > 1 else 1)
        right = _number(request.query_params.get("right"), numbers[-1] if numbers else 1)
        first, second = await _version(a, scheme_id, left), await _version(a, scheme_id, right)
        members = _members(await a.get(f"{_v1(scheme_id)}/members"))
    rows = compared(first, second)
    only = request.query_params.get("only") == "differences"
    shown_rows = [r for r in rows if r.differs] if only else rows
    columns = [
        Column(_("Parameter"), lambda r: r.label),
        Column(_("Path in the file"), lambda r: r.path),
        Column(_("Version {n}").format(n=left), lambda r: r.left),
        Column(_("Version {n}").format(n=right), lambda r: r.right),
        Column(_("Differs"), lambda r: _("differs") if r.differs else ""),
    ]
    if fmt:
        return download(fmt, f"rules-{scheme_id}-{left}-vs-{right}", columns, shown_rows)
    return page(
        request,
        "admin/compare.html",
        session=session,
        title=_("Rule versions {left} and {right} compared").format(left=left, right=right),
        scheme_id=scheme_id,
        base=_base(scheme_id),
        numbers=numbers,
        left=left,
        right=right,
        first=first,
        second=second,
        rows=shown_rows,
        differing=[r for r in rows if r.differs],
        only=only,
        columns=columns,
        members=members,
    )


def _number(text: str | None, default: int) -> int:
    return int(text) if text and text.isdigit() and len(text) < 10 else default


@dataclass
class Compared:
    path: str
    label: str
    left: str
    right: str
    differs: bool


def compared(first: dict[str, Any], second: dict[str, Any]) -> list[Compared]:
    """Every parameter of two rule versions side by side, flattened to key → value, in the order
    the first version writes them (then those only the second has); a parameter either lacks is
    shown as a dash and differs."""
    missing = object()
    left = dict(flatten(first["document"]))
    right = dict(flatten(second["document"]))
    paths = list(left) + [p for p in right if p not in left]
    rows = []
    for path in paths:
        a, b = left.get(path, missing), right.get(path, missing)
        rows.append(
            Compared(
                path,
                label(path),
                "—" if a is missing else shown(path, a),
                "—" if b is missing else shown(path, b),
                a is missing or b is missing or a != b,
            )
        )
    return rows


@router.get("/schemes/{scheme_id}/rules/{number}", response_class=HTMLResponse)
async def rule_version(request: Request, scheme_id: str, number: str, session: SessionDep) -> Response:
    if not (number.isascii() and number.isdigit()) or len(number) > 9:
        raise HTTPException(404)  # the console's page saying there is no such page
    return await _rule_version_page(request, scheme_id, int(number), session)


async def _rule_version_page(request: Request, scheme_id: str, number: int, session: Any) -> Response:
    fmt = wants_download(request)
    async with api(request, session) as a:
        version = await _version(a, scheme_id, number, _after(request))
        versions = await a.get(f"{_v1(scheme_id)}/rule-versions")
        members = _members(await a.get(f"{_v1(scheme_id)}/members"))
    source = request.query_params.get("source")
    if source in ("yaml", "json"):
        return _source_download(scheme_id, number, version["document"], source)
    sections = _sections(version, members)
    if fmt:
        wanted = request.query_params.get("table", "general")
        section = next((s for s in sections if s.id == wanted), sections[0])
        return download(fmt, f"rule-version-{scheme_id}-{number}-{section.id}", section.columns, section.rows)
    numbers = [v["number"] for v in versions]
    return page(
        request,
        "admin/rule.html",
        session=session,
        title=_("Rule version {n}").format(n=number),
        scheme_id=scheme_id,
        base=_base(scheme_id),
        version=version,
        sections=sections,
        covers=[(kind, _(COVER_TITLES.get(kind, kind))) for kind in version["document"].get("covers", {})],
        table_url={s.id: _tables(request, s.id) for s in sections},
        yaml_source=_source(version["document"], "yaml"),
        json_source=_source(version["document"], "json"),
        previous=number - 1 if number - 1 in numbers else None,
        following=number + 1 if number + 1 in numbers else None,
    )


def _source_download(scheme_id: str, number: int, document: dict[str, Any], fmt: str) -> Response:
    name = f"rule-version-{scheme_id}-{number}.{'yaml' if fmt == 'yaml' else 'json'}"
    media = "application/yaml" if fmt == "yaml" else "application/json"
    return Response(
        _source(document, fmt).encode("utf-8"),
        media_type=f"{media}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{quote(name)}"'},
    )


# Targets -----------------------------------------------------------------------------------------


def _goal_text(metric: str, value: Any) -> str:
    if value is None:
        return "—"
    if metric == "firms_served":
        return _("{n} firms").format(n=f"{int(value):,}")
    return f"{yuan(str(value))} {_('yuan')}"


def _percent_text(value: str | None) -> str:
    return "—" if value in (None, "") else f"{value}%"


def _target_columns(today: str) -> list[Column]:
    return [
        Column(_("Year"), lambda r: str(r["by"])[:4]),
        Column(_("Target"), lambda r: r["target_id"]),
        Column(_("Measure"), lambda r: _(METRIC_NAMES.get(r["metric"], r["metric"]))),
        Column(_("Due by"), lambda r: r["by"], "date"),
        Column(_("Goal"), lambda r: _goal_text(r["metric"], r["goal"]), "int"),
        Column(_("Achieved by the due date"), lambda r: _goal_text(r["metric"], r["reached_by_then"]), "int"),
        Column(_("% of the goal"), lambda r: _percent_text(r["percent"]), "int"),
        Column(_("Met"), lambda r: target_state(r, today)),
        Column(_("Achieved to date"), lambda r: _goal_text(r["metric"], r["reached_now"]), "int"),
    ]


def _year_columns() -> list[Column]:
    return [
        Column(_("Year"), lambda r: str(r["year"])),
        Column(_("Principal disbursed"), lambda r: r["disbursed"], "amount"),
        Column(_("Loans disbursed"), lambda r: r["loans"], "int"),
        Column(_("New firms served"), lambda r: r["firms_new"], "int"),
        Column(_("Contributions paid in"), lambda r: r["contributed"], "amount"),
    ]


def _target_form(targets: list[dict[str, Any]]) -> list[dict[str, str]]:
    rows = [
        {
            "target_id": t["target_id"],
            "metric": t["metric"],
            "goal": str(t["goal"]),
            "by": str(t["by"]),
            "remove": "",
        }
        for t in sorted(targets, key=lambda t: (str(t["by"]), t["target_id"]))
    ]
    blank = {"target_id": "", "metric": "", "goal": "", "by": "", "remove": ""}
    return rows + [dict(blank) for _ in range(min(TARGET_ROWS_BLANK, TARGET_ROWS_MAX - len(rows)))]


@router.get("/schemes/{scheme_id}/targets", response_class=HTMLResponse)
async def targets(request: Request, scheme_id: str, session: SessionDep) -> Response:
    fmt = wants_download(request)
    async with api(request, session) as a:
        report = await a.get(f"{_v1(scheme_id)}/reports/targets", after_position=_after(request))
    rows = sorted(report["targets"], key=lambda t: (str(t["by"]), t["target_id"]))
    if fmt:
        if request.query_params.get("table") == "years":
            return download(fmt, f"target-years-{scheme_id}", _year_columns(), report["years"])
        return download(fmt, f"targets-{scheme_id}", _target_columns(str(report["today"])), rows)
    form = {"rows": _target_form(report["targets"]), "set_on": today_in_china().isoformat()}
    return _targets_page(request, session, scheme_id, report, rows, form, FormErrors.none())


def _targets_page(
    request: Request,
    session: Any,
    scheme_id: str,
    report: dict[str, Any],
    rows: list[dict[str, Any]],
    form: dict[str, Any],
    errors: FormErrors,
    problems: list[str] | None = None,
    status: int = 200,
) -> Response:
    return page(
        request,
        "admin/targets.html",
        session=session,
        title=_("Programme targets"),
        scheme_id=scheme_id,
        status=status,
        rows=rows,
        years=report["years"],
        columns=_target_columns(str(report["today"])),
        year_columns=_year_columns(),
        years_url=_tables(request, "years"),
        today=report["today"],
        metrics=[(m, _(METRIC_NAMES[m])) for m in METRICS],
        can_set=_can_write(session),
        form=form,
        errors=errors,
        problems=problems or [],
        idempotency_key=new_idempotency_key(),
        chart=_targets_chart(rows),
    )


def _targets_chart(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    money = [r for r in rows if r["metric"] == "cumulative_lending"]
    if not money:
        return None
    return {
        "kind": "bar",
        "x": [f"{r['target_id']} ({str(r['by'])[:4]})" for r in money],
        "series": [
            {"name": _("Goal"), "data": [r["goal"] for r in money]},
            {"name": _("Achieved by the due date"), "data": [r["reached_by_then"] for r in money]},
        ],
        "unit": _("yuan"),
    }


def _targets_entered(posted: Any) -> tuple[list[dict[str, str]], list[dict[str, Any]], list[int], str]:
    """The form's rows as entered, the targets they make (rows left blank or marked for removal
    are not sent), which row each sent target came from, and the date."""
    rows: list[dict[str, str]] = []
    for i in range(TARGET_ROWS_MAX + TARGET_ROWS_BLANK):
        if f"target_id_{i}" not in posted:
            break
        rows.append(
            {
                name: str(posted.get(f"{name}_{i}", "")).strip()
                for name in ("target_id", "metric", "goal", "by", "remove")
            }
        )
    sent, origin = [], []
    for i, row in enumerate(rows):
        if row["remove"] or not any(row[k] for k in ("target_id", "goal", "by")):
            continue
        target: dict[str, Any] = {"target_id": row["target_id"], "metric": row["metric"], "by": row["by"]}
        if row["metric"] == "firms_served":
            goal = _amount_entered(row["goal"])
            target["count"] = int(goal) if goal.isdigit() and len(goal) < 16 else goal
        else:
            target["amount"] = _amount_entered(row["goal"])
        sent.append(target)
        origin.append(i)
    return rows, sent, origin, str(posted.get("set_on", "")).strip()


TARGET_FIELDS = {
    "target_id": N_("A target id is a reference (letters, digits, - and _), once in the set."),
    "metric": N_("Choose what the target measures."),
    "goal": N_(
        "A lending or contributions goal is an amount in yuan; a firms goal is a whole number, at least 1."
    ),
    "by": N_("The due date is a date (YYYY-MM-DD)."),
}


def _targets_refused(refused: Refused, origin: list[int]) -> tuple[FormErrors, list[str]]:
    """Each problem beside the field of the row it concerns; the others listed for the form."""
    figures = refused.problem.get("figures") or {}
    listed = figures.get("problems") if isinstance(figures, dict) else None
    messages = [str(p) for p in listed] if isinstance(listed, list) and listed else []
    by_field: dict[str, str] = {}
    others: list[str] = []
    for message in messages:
        match = TARGET_PROBLEM.match(message)
        if match and int(match.group(1)) < len(origin):
            row = origin[int(match.group(1))]
            name = {"amount": "goal", "count": "goal", "": "goal"}.get(match.group(2), match.group(2))
            if name not in ("target_id", "metric", "goal", "by"):
                name = "goal"
            key = f"{name}_{row}"
            if key not in by_field:
                by_field[key] = f"{_(TARGET_FIELDS[name])} ({match.group(3)})"
        else:
            others.append(message)
    if not messages:
        errors = FormErrors.of(refused, fields=["set_on"])
        return errors, []
    general = refusal_message(refused, "") if others or not by_field else None
    return FormErrors(by_field, general), others


@router.post("/schemes/{scheme_id}/targets", response_class=HTMLResponse)
async def set_targets(request: Request, scheme_id: str, session: FormSession) -> Response:
    posted = await request.form()
    rows, sent, origin, set_on = _targets_entered(posted)
    async with api(request, session) as a:
        try:
            written = await a.put(
                f"{_v1(scheme_id)}/targets",
                {"targets": sent, "set_on": set_on},
                idempotency_key=str(posted.get("idempotency_key", "")),
            )
        except Refused as refused:
            errors, problems = _targets_refused(refused, origin)
            report = await a.get(f"{_v1(scheme_id)}/reports/targets")
            shown_rows = sorted(report["targets"], key=lambda t: (str(t["by"]), t["target_id"]))
            form = {"rows": rows, "set_on": set_on}
            return _targets_page(
                request, session, scheme_id, report, shown_rows, form, errors, problems, status=refused.status
            )
    session.flash.append(("ok", _("{count} targets set.").format(count=len(sent))))
    return redirect(f"{_base(scheme_id)}/targets?after_position={written['position']}#main")


# Circuit breakers -------------------------------------------------------------------------------


@dataclass
class Breaker:
    """A breaker (rule book §8) as the API reports it: its figure now against the threshold of the
    rule version in force today (the breaker-figures report), and its last trip and reset (the
    breakers report)."""

    figures: dict[str, Any]
    party: str
    trip: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["figures"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9_-]", "-", self.breaker)

    @property
    def name(self) -> str:
        return _(BREAKER_NAMES.get(self.kind, self.kind))

    @property
    def measures(self) -> str:
        return _(BREAKER_FIGURES.get(self.kind, self.kind)).format(year=self.year)

    @property
    def threshold(self) -> str:
        if self.threshold_bp is None:
            return _("none: never trips")
        return f"{'>' if self.kind == BANK_LOSS_RATE else '≥'} {self.threshold_percent}%"

    @property
    def threshold_sentence(self) -> str:
        if self.threshold_bp is None:
            return _("no threshold in the rules in force: it never trips")
        if self.kind == BANK_LOSS_RATE:
            return _("trips above {percent}%").format(percent=self.threshold_percent)
        return _("trips at {percent}% or above").format(percent=self.threshold_percent)

    @property
    def distance(self) -> str:
        """The threshold minus the figure, in percentage points."""
        if self.threshold_bp is None or self.tripped:
            return "—"
        if self.over:
            return _("over the threshold")
        if self.room_percent is None:
            return _("no base yet: any amount trips it")
        return _("{points} percentage points").format(points=self.room_percent)

    @property
    def room_left(self) -> str | None:
        """How much the figure may still grow and stay clear; none once tripped or over."""
        return None if self.tripped or self.over else self.room

    @property
    def state(self) -> str:
        """In the same words as the dashboard's (one rule for a breaker's state)."""
        return breaker_state(self.figures)

    @property
    def trigger(self) -> str | None:
        return self.trip.get("trigger")

    @property
    def reset_reason(self) -> str | None:
        return self.trip.get("reset_reason")

    @property
    def trip_figure_percent(self) -> str | None:
        return self.trip.get("figure_percent")

    @property
    def trip_threshold(self) -> str:
        bp = self.trip.get("threshold_bp")
        return "—" if bp is None else f"{(Decimal(bp) / 100).quantize(Decimal('0.01'))}%"


def _breaker_columns(grouped: bool) -> list[Column]:
    """The breakers' columns: a table per kind on the page (the kind in its caption), and every
    breaker in one table with its kind, trigger and reset reason as a download."""
    party = [Column(_("Party"), lambda b: b.party)]
    figures = [
        Column(_("Figure"), lambda b: b.figure, "amount"),
        Column(_("Base"), lambda b: b.base, "amount"),
        Column(_("Figure %"), lambda b: _percent_text(b.figure_percent), "int"),
        Column(_("Threshold"), lambda b: b.threshold, "int"),
        Column(_("Distance from tripping"), lambda b: b.distance, "int"),
        Column(_("Can still grow by"), lambda b: b.room_left, "amount"),
    ]
    if grouped:
        state = Column(
            _("State"), lambda b: b.state, link=lambda b: f"#breaker-{b.slug}" if b.tripped else None
        )
        return [*party, *figures, state]
    return [
        Column(_("Breaker"), lambda b: b.name),
        *party,
        *figures,
        Column(_("State"), lambda b: b.state),
        Column(_("Tripped by"), lambda b: b.trigger),
        Column(_("Reset reason"), lambda b: b.reset_reason),
    ]


@dataclass
class BreakerGroup:
    kind: str
    caption: str
    rows: list[Breaker]


def _groups(found: list[Breaker]) -> list[BreakerGroup]:
    groups = []
    for kind in KINDS:
        rows = [b for b in found if b.kind == kind]
        if not rows:
            continue
        caption = _("{name}: {measures}; {threshold}").format(
            name=_(BREAKER_NAMES[kind]), measures=rows[0].measures, threshold=rows[0].threshold_sentence
        )
        groups.append(BreakerGroup(kind, caption, rows))
    return groups


async def _breakers_view(a: Api, scheme_id: str, after: int | None) -> dict[str, Any]:
    report = await a.get(f"{_v1(scheme_id)}/reports/breaker-figures", after_position=after)
    trips = {t["breaker"]: t for t in (await a.get(f"{_v1(scheme_id)}/reports/breakers"))["breakers"]}
    members = _members(await a.get(f"{_v1(scheme_id)}/members"))
    found = [
        Breaker(row, _party(members, row["party_id"]), trips.get(row["breaker"], {}))
        for row in report["breakers"]
    ]
    numbers = {b.rule_version for b in found if b.rule_version is not None}
    return {
        "breakers": found,
        "groups": _groups(found),
        "rule_version": min(numbers) if numbers else None,
        "today": str(report["today"]),
    }


@router.get("/schemes/{scheme_id}/breakers", response_class=HTMLResponse)
async def breakers(request: Request, scheme_id: str, session: SessionDep) -> Response:
    fmt = wants_download(request)
    async with api(request, session) as a:
        view = await _breakers_view(a, scheme_id, _after(request))
    if fmt:
        kind = request.query_params.get("table")
        group = next((g for g in view["groups"] if g.kind == kind), None)
        if group is not None:
            return download(fmt, f"breakers-{scheme_id}-{kind}", _breaker_columns(True), group.rows)
        return download(fmt, f"breakers-{scheme_id}", _breaker_columns(False), view["breakers"])
    return _breakers_page(request, session, scheme_id, view, {}, FormErrors.none(), None)


def _breakers_page(
    request: Request,
    session: Any,
    scheme_id: str,
    view: dict[str, Any],
    form: dict[str, str],
    errors: FormErrors,
    failed: str | None,
    status: int = 200,
) -> Response:
    return page(
        request,
        "admin/breakers.html",
        session=session,
        title=_("Circuit breakers"),
        scheme_id=scheme_id,
        status=status,
        columns=_breaker_columns(True),
        group_url={g.kind: _tables(request, g.kind) for g in view["groups"]},
        base=_base(scheme_id),
        can_reset=_can_write(session),
        form=form,
        errors=errors,
        failed=failed,
        idempotency_key=new_idempotency_key(),
        **view,
    )


@router.post("/schemes/{scheme_id}/breakers/{breaker}/reset", response_class=HTMLResponse)
async def reset_breaker(request: Request, scheme_id: str, breaker: str, session: FormSession) -> Response:
    posted = await request.form()
    form = {"reason": str(posted.get("reason", "")), "reset_on": str(posted.get("reset_on", "")).strip()}
    async with api(request, session) as a:
        try:
            written = await a.post(
                f"{_v1(scheme_id)}/breakers/{quote(breaker, safe=':')}/reset",
                {"reason": form["reason"], "reset_on": form["reset_on"]},
                idempotency_key=str(posted.get("idempotency_key", "")),
            )
        except Refused as refused:
            errors = FormErrors.of(refused, fields=["reason", "reset_on"])
            view = await _breakers_view(a, scheme_id, None)
            return _breakers_page(
                request, session, scheme_id, view, form, errors, breaker, status=refused.status
            )
        members = _members(await a.get(f"{_v1(scheme_id)}/members"))
    kind, _sep, party_id = breaker.partition(":")
    session.flash.append(
        (
            "ok",
            _("The {name} breaker of {party} is reset: the business it blocked may resume.").format(
                name=_(BREAKER_NAMES.get(kind, kind)), party=_party(members, party_id)
            ),
        )
    )
    return redirect(f"{_base(scheme_id)}/breakers?after_position={written['position']}#main")
