"""The regulator's pages (and the fund manager's, where the API lets one read them).

- `/audit`: the audit explorer, the event history with the amounts each event carries, filtered as
  GET /v1/audit/events filters it, a page at a time, each reversal beside the fact it reverses
  (linked both ways), downloadable whole as CSV or XLSX.
- `/audit/as-of`: a loan or a claim as it stood on a business date or at a log position: its figures
  and status then beside now, and its history up to then.
- `/audit/heads`: the latest signed tree head, the log verified as `riskpool audit verify` verifies
  it, the public key, the recent heads; and the downloads a regulator checks on their own machine:
  an export, an inclusion proof of one event, a consistency proof between two heads.

Everything shown is the API's answer, read as the signed-in principal: a role the API refuses (a
bank) gets the API's 403 as a page. Figures are the API's; the console only formats them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from console.client import Api, Refused
from console.i18n import N_, _, instant, role_name, yuan
from console.web import (
    DOWNLOAD_ROWS_MAX,
    Column,
    FormErrors,
    SessionDep,
    api,
    download,
    page,
    refusal_message,
    wants_download,
)
from ledger.actors import Role

router = APIRouter(include_in_schema=False)


# Each fact the ledger records, in words, by the aggregate that records it (docs/rules.md).
FACTS: dict[str, dict[str, str]] = {
    "Loan": {
        "Enrolled": N_("Loan enrolled"),
        "Disbursed": N_("Loan disbursed"),
        "Repaid": N_("Repayment"),
        "RepaymentReversed": N_("Repayment reversed"),
        "Defaulted": N_("Loan defaulted"),
        "Withdrawn": N_("Loan withdrawn"),
        "WrittenOff": N_("Loan written off"),
        "PremiumRecorded": N_("Insurance premium recorded"),
        "PremiumReversed": N_("Insurance premium reversed"),
        "GuaranteeFeeRecorded": N_("Guarantee fee recorded"),
        "GuaranteeFeeReversed": N_("Guarantee fee reversed"),
        "ClaimFiled": N_("Claim filed on the loan"),
    },
    "Claim": {
        "Filed": N_("Claim filed"),
        "FirstApproved": N_("First approval"),
        "Approved": N_("Claim approved"),
        "Rejected": N_("Claim rejected"),
        "SettlementPaid": N_("Settlement payment"),
        "SettlementReversed": N_("Settlement payment reversed"),
        "RecoveryRecorded": N_("Recovery recorded"),
        "RecoveryReversed": N_("Recovery reversed"),
        "RecoveryPartPaid": N_("Recovery share paid"),
        "RecoveryPartPaymentReversed": N_("Recovery share payment reversed"),
    },
    "Scheme": {
        "Created": N_("Scheme created"),
        "PartyAdmitted": N_("Party admitted to the scheme"),
        "RuleVersionPublished": N_("Rule version published"),
        "TargetsSet": N_("Targets set"),
        "ContributionRecorded": N_("Contribution recorded"),
        "ContributionReversed": N_("Contribution reversed"),
        "LoanEnrolled": N_("Loan counted in the exposure"),
        "TapeEnrolled": N_("Loan tape enrolled"),
        "DisbursementCounted": N_("Disbursement counted"),
        "ExposureReleased": N_("Exposure released"),
        "DefaultCounted": N_("Default counted"),
        "CoverIncomeCounted": N_("Cover income counted"),
        "AllocationCounted": N_("Allocation counted"),
        "FundPaymentCounted": N_("Fund payment counted"),
        "FundRecoveryCounted": N_("Fund recovery counted"),
        "BreakerTripped": N_("Circuit breaker tripped"),
        "BreakerReset": N_("Circuit breaker reset"),
    },
    "Party": {"Registered": N_("Party registered")},
    "ApiKey": {"Issued": N_("API key issued"), "Revoked": N_("API key revoked")},
    "Request": {"Recorded": N_("Request recorded (for idempotency)")},
}
AGGREGATES = {
    "Loan": N_("Loans"),
    "Claim": N_("Claims"),
    "Scheme": N_("Schemes"),
    "Party": N_("Parties"),
    "ApiKey": N_("API keys"),
    "Request": N_("Requests"),
}
# The amounts an event carries, by the API's name for them (GET /v1/audit/events, `amounts`).
AMOUNTS = {
    "principal": N_("principal"),
    "interest": N_("interest"),
    "amount": N_("amount"),
    "outstanding": N_("outstanding"),
    "outstanding_at_default": N_("outstanding at default"),
    "claimed": N_("claimed"),
    "gross": N_("gross recovered"),
    "costs": N_("recovery costs"),
    "net": N_("net recovered"),
    "total": N_("total"),
    "figure": N_("breaker figure"),
    "base": N_("breaker base"),
    "allocations": N_("allocated"),
    "parts": N_("recovery share"),
    "parts.split": N_("split share"),
    "parts.cut": N_("cut by a cap"),
    "parts.overflow": N_("overflow taken"),
    "parts.allocated": N_("allocated"),
}
LOAN_STATES = {
    "enrolled": N_("enrolled"),
    "disbursed": N_("disbursed"),
    "repaid": N_("repaid"),
    "defaulted": N_("defaulted"),
    "withdrawn": N_("withdrawn"),
    "written_off": N_("written off"),
}
COVERS = {"direct": N_("direct"), "guaranteed": N_("guaranteed"), "insured": N_("insured")}
CLAIM_STATUSES = {
    "filed": N_("filed"),
    "awaiting_second_approval": N_("awaiting second approval"),
    "approved": N_("approved"),
    "settled": N_("settled"),
    "rejected": N_("rejected"),
}
# The explorer's filters: the console's name for each, and the API's (GET /v1/audit/events).
FILTERS = (
    ("scheme", "scheme_id"),
    ("bank", "bank_id"),
    ("loan", "loan_ref"),
    ("claim", "claim_id"),
    ("party", "party_id"),
    ("fact", "fact"),
    ("principal", "principal_id"),
    ("from_date", "from_date"),
    ("to_date", "to_date"),
    ("from_position", "from_position"),
    ("to_position", "to_position"),
)
PAGE_SIZES = (50, 100, 200, 500)
# What `audit verify` finds, by its kind (projections/audit/verify.py, Finding.kind).
FINDINGS = {
    "edited": N_("edited"),
    "deleted": N_("deleted"),
    "inserted": N_("inserted"),
    "reordered": N_("reordered"),
    "truncated": N_("truncated"),
    "differs": N_("differs from the signer's record"),
    "tree_head": N_("tree head"),
    "no_heads": N_("no tree head"),
    "digest": N_("kept head not extended"),
    "audit_tables": N_("audit tables altered"),
}
NOT_IN_TREE = N_(
    "That position is not in the chosen head's tree: choose a later head or an earlier position."
)
HEADS_REVERSED = N_("The earlier head must not be later than the later head.")
HEADS_SHOWN = 20  # the recent tree heads listed
HEADS_CHOSEN = 200  # the heads a proof can be asked against


def fact_words(aggregate: str, fact: str) -> str:
    words = FACTS.get(aggregate, {}).get(fact)
    return _(words) if words else fact


def fen_yuan(fen: int | None) -> str | None:
    """Whole fen as the API's yuan string (exact)."""
    if fen is None:
        return None
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def amount_words(amount: dict[str, Any]) -> str:
    name = AMOUNTS.get(amount["name"])
    label = _(name) if name else amount["name"]
    party = f" {amount['party_id']}" if amount.get("party_id") else ""
    return f"{label}{party} {yuan(amount['amount'])}"


def as_of_link(event: dict[str, Any], *, claim: bool) -> str | None:
    """The loan or claim of an event, as it stood right after it."""
    if not event.get("scheme_id"):
        return None
    if claim:
        if not event.get("claim_id"):
            return None
        query = {"scheme": event["scheme_id"], "claim": event["claim_id"]}
    else:
        if not (event.get("bank_id") and event.get("loan_ref")):
            return None
        query = {"scheme": event["scheme_id"], "bank": event["bank_id"], "loan": event["loan_ref"]}
    return f"/audit/as-of?{urlencode(query | {'as_of_position': event['position']})}"


def pair_link(event: dict[str, Any], first: int, last: int, target: int) -> str:
    """The explorer showing a fact and its reversal together, with what happened between them to
    the same loan, claim or scheme."""
    query: dict[str, Any] = {}
    for name, api_name in (("scheme", "scheme_id"), ("bank", "bank_id"), ("loan", "loan_ref")):
        if event.get(api_name):
            query[name] = event[api_name]
    if event.get("claim_id"):
        query["claim"] = event["claim_id"]
    query |= {"from_position": first, "to_position": last}
    return f"/audit?{urlencode(query)}#p-{target}"


def event_row(event: dict[str, Any]) -> dict[str, Any]:
    """An event of the API with what the page shows of it in words."""
    own = [a for a in event.get("amounts", []) if not a.get("party_id")]
    by_party = [a for a in event.get("amounts", []) if a.get("party_id")]
    correction = None
    if event.get("reverses_position"):
        first, last = event["reverses_position"], event["position"]
        correction = {
            "kind": "reverses",
            "position": first,
            "text": _("Reverses the fact at position %(position)s") % {"position": first},
            "link": pair_link(event, first, last, first),
        }
    elif event.get("reversed_by"):
        first, last = event["position"], event["reversed_by"]
        correction = {
            "kind": "reversed",
            "position": last,
            "text": _("Reversed by position %(position)s") % {"position": last},
            "link": pair_link(event, first, last, last),
        }
    elif event.get("reverses"):  # a reversal whose fact the journal does not index
        correction = {
            "kind": "reverses",
            "position": None,
            "text": _("Reverses fact %(fact)s") % {"fact": event["reverses"]},
            "link": None,
        }
    return event | {
        "fact_words": fact_words(event["aggregate"], event["fact"]),
        "role_words": role_name(event["role"]),
        "own_amounts": [(_label(a), a["amount"]) for a in own],
        "party_amounts": [(_label(a), a["party_id"], a["amount"]) for a in by_party],
        "amounts_text": "; ".join(amount_words(a) for a in event.get("amounts", [])),
        "correction": correction,
        "correction_text": _correction_text(correction, event.get("reason")),
        "loan_link": as_of_link(event, claim=False),
        "claim_link": as_of_link(event, claim=True),
    }


def _label(amount: dict[str, Any]) -> str:
    name = AMOUNTS.get(amount["name"])
    return _(name) if name else amount["name"]


def _correction_text(correction: dict[str, Any] | None, reason: str | None) -> str:
    parts = [correction["text"]] if correction else []
    if reason:
        parts.append(_("Reason: %(reason)s") % {"reason": reason})
    return "; ".join(parts)


def event_columns() -> list[tuple[str, Column, bool]]:
    """The explorer's columns, described once: (key, column, shown on the page as well as in the
    downloads). The page renders the amounts and the correction of a row as lists and links."""
    return [
        ("position", Column(_("Position"), lambda r: r["position"], "int"), True),
        ("recorded_at", Column(_("Recorded at (China time)"), lambda r: r["recorded_at"], "instant"), True),
        ("business_date", Column(_("Business date"), lambda r: r["business_date"], "date"), True),
        ("fact", Column(_("Fact recorded"), lambda r: r["fact_words"]), True),
        ("scheme", Column(_("Scheme"), lambda r: r["scheme_id"]), True),
        ("bank", Column(_("Bank"), lambda r: r["bank_id"]), True),
        ("loan", Column(_("Loan"), lambda r: r["loan_ref"], link=lambda r: r["loan_link"]), True),
        ("claim", Column(_("Claim"), lambda r: r["claim_id"], link=lambda r: r["claim_link"]), True),
        ("party", Column(_("Party"), lambda r: r["party_id"]), True),
        ("principal", Column(_("Recorded by"), lambda r: r["principal_id"]), True),
        ("role", Column(_("Role"), lambda r: r["role_words"]), True),
        ("amounts", Column(_("Amounts (yuan)"), lambda r: r["amounts_text"]), True),
        ("correction", Column(_("Correction"), lambda r: r["correction_text"]), True),
        ("fact_type", Column(_("Fact type (as stored)"), lambda r: f"{r['aggregate']}.{r['fact']}"), False),
        ("actor_party", Column(_("Principal's party"), lambda r: r["actor_party_id"]), False),
        ("request_id", Column(_("Request id"), lambda r: r["request_id"]), False),
        ("originator", Column(_("Aggregate id"), lambda r: r["originator_id"]), False),
        ("version", Column(_("Version"), lambda r: r["version"], "int"), False),
        ("fact_id", Column(_("Fact id"), lambda r: r["fact_id"]), False),
        ("leaf_hash", Column(_("Leaf hash"), lambda r: r["leaf_hash"]), False),
    ]


def filter_labels() -> dict[str, str]:
    return {
        "scheme": _("Scheme"),
        "bank": _("Bank"),
        "loan": _("Loan reference"),
        "claim": _("Claim id"),
        "party": _("Party concerned"),
        "fact": _("Fact type"),
        "principal": _("Recorded by (principal)"),
        "from_date": _("Business date from"),
        "to_date": _("Business date to"),
        "from_position": _("Log position from"),
        "to_position": _("Log position to"),
        "cursor": _("Page"),
    }


def renamed(errors: FormErrors, names: Iterable[tuple[str, str]]) -> FormErrors:
    """Errors the API gave by its parameter names, by the form's field names."""
    to_form = {api_name: name for name, api_name in names}
    return FormErrors({to_form.get(k, k): v for k, v in errors.fields.items()}, errors.general)


def fact_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    return [
        (
            _(AGGREGATES[aggregate]),
            sorted(((fact, _(words)) for fact, words in facts.items()), key=lambda f: f[1]),
        )
        for aggregate, facts in FACTS.items()
    ]


async def choices(a: Api) -> dict[str, Any]:
    """The schemes and parties the filter forms offer."""
    schemes = await a.pages("/v1/schemes", most=1000)
    parties = await a.pages("/v1/parties", most=5000)
    return {
        "schemes": schemes,
        "scheme_options": [(s["scheme_id"], f"{s['scheme_id']} · {s['name']}") for s in schemes],
        "bank_options": [
            (p["party_id"], f"{p['party_id']} · {p['name']}") for p in parties if p["role"] == "bank"
        ],
        "party_options": [(p["party_id"], f"{p['party_id']} · {p['name']}") for p in parties],
    }


# The audit explorer ---------------------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
async def explorer(request: Request, session: SessionDep) -> Response:
    query = request.query_params
    chosen = {name: (query.get(name) or "").strip() for name, _ in FILTERS}
    limit = int(query["limit"]) if query.get("limit") in {str(n) for n in PAGE_SIZES} else PAGE_SIZES[0]
    cursor = query.get("cursor") or None
    params = {api_name: chosen[name] for name, api_name in FILTERS if chosen[name]}
    fmt = wants_download(request)
    columns = event_columns()
    errors = FormErrors.none()
    items: list[dict[str, Any]] = []
    next_cursor = None
    async with api(request, session) as a:
        try:
            if fmt:
                items = await a.pages("/v1/audit/events", limit=500, most=DOWNLOAD_ROWS_MAX, **params)
            else:
                found = await a.get("/v1/audit/events", limit=limit, cursor=cursor, **params)
                items, next_cursor = found["items"], found.get("next_cursor")
        except Refused as refused:
            if refused.status != 422:
                raise
            names = [*FILTERS, ("cursor", "cursor")]
            errors = renamed(FormErrors.of(refused, fields=[api_name for _, api_name in names]), names)
        rows = [event_row(e) for e in items]
        if fmt and not errors:
            return download(fmt, "audit-events", [c for _, c, _ in columns], rows)
        offered = await choices(a)
    return page(
        request,
        "audit/explorer.html",
        session=session,
        title=_("Audit explorer"),
        scheme_id=chosen["scheme"] or None,
        # on the page, the role is shown under the principal, and the scheme only when there is a
        # choice of schemes and none was chosen (the downloads have every column)
        columns=[
            (key, column)
            for key, column, shown in columns
            if shown
            and key != "role"
            and not (key == "scheme" and (chosen["scheme"] or len(offered["schemes"]) <= 1))
        ],
        rows=rows,
        chosen=chosen,
        limit=limit,
        page_sizes=[(n, str(n)) for n in PAGE_SIZES],
        cursor=cursor,
        next_cursor=next_cursor,
        filtered=bool(params),
        errors=errors,
        facts=fact_choices(),
        labels=filter_labels(),
        status=422 if errors else 200,
        **offered,
    )


# A loan or claim as it stood --------------------------------------------------------------------

AS_OF_FIELDS = ("scheme", "bank", "loan", "claim", "as_of_date", "as_of_position")


@router.get("/audit/as-of", response_class=HTMLResponse)
async def as_of(request: Request, session: SessionDep) -> Response:
    query = request.query_params
    chosen = {name: (query.get(name) or "").strip() for name in AS_OF_FIELDS}
    fmt = wants_download(request)
    errors = FormErrors.none()
    found: dict[str, Any] | None = None
    async with api(request, session) as a:
        # the audit pages open for whom the API's audit routes answer (a bank is refused here)
        await a.get("/v1/audit/events", limit=1)
        asked = chosen["scheme"] and (chosen["claim"] or (chosen["bank"] and chosen["loan"]))
        if chosen["as_of_date"] and chosen["as_of_position"]:
            errors = FormErrors(
                {"as_of_position": _("Give a business date or a log position, not both.")}, None
            )
        elif chosen["as_of_position"] and not _whole_position(chosen["as_of_position"]):
            errors = FormErrors({"as_of_position": _("A log position is a whole number from 1.")}, None)
        elif asked:
            try:
                found = await standing(a, chosen)
            except Refused as refused:
                if refused.status not in (404, 422):
                    raise
                errors = as_of_errors(refused)
        elif any(chosen[name] for name in ("bank", "loan", "claim", "as_of_date", "as_of_position")):
            errors = FormErrors({}, _("Choose a scheme, and a bank and a loan reference, or a claim id."))
        if fmt and found is not None:
            name = f"as-of-{chosen['claim'] or chosen['loan']}"
            return download(fmt, name, history_columns(found["kind"]), found["history"])
        offered = await choices(a)
    title = _("A loan or claim as it stood")
    return page(
        request,
        "audit/as_of.html",
        session=session,
        title=title,
        scheme_id=chosen["scheme"] or None,
        chosen=chosen,
        found=found,
        errors=errors,
        history_columns=history_columns(found["kind"]) if found else [],
        covers=COVERS,
        status=(422 if errors.fields or errors.general else 200),
        **offered,
    )


def _whole_position(text: str) -> bool:
    return text.isascii() and text.isdigit() and 1 <= int(text) <= 10**15


def as_of_errors(refused: Refused) -> FormErrors:
    """A refusal of the as-of page's reads, beside the field it concerns."""
    names = (
        ("as_of_date", "business_date"),
        ("as_of_position", "to_position"),
        ("scheme", "scheme_id"),
        ("bank", "bank_id"),
        ("loan", "loan_ref"),
        ("claim", "claim_id"),
    )
    by_code = {
        "unknown_scheme": "scheme",
        "unknown_loan": "loan",
        "unknown_claim": "claim",
    }
    errors = renamed(FormErrors.of(refused, fields=[api_name for _, api_name in names]), names)
    field = by_code.get(refused.code)
    if field and not errors.fields:
        return FormErrors({field: refusal_message(refused)}, None)
    return errors


async def standing(a: Api, chosen: dict[str, str]) -> dict[str, Any]:
    """The loan or claim as it stood: its version then (the API's: on a business date, its latest
    fact dated by then; at a position, its latest fact at or before it), its state at that version
    (GET /v1/audit/aggregates), its figures right after it (the history's), and its history up to
    it, each fact with its position, amounts and who recorded it (GET /v1/audit/events)."""
    scheme = chosen["scheme"]
    if chosen["claim"]:
        kind, aggregate = "claim", "Claim"
        base = f"/v1/schemes/{quote(scheme)}/claims/{quote(chosen['claim'])}"
        filters = {"scheme_id": scheme, "claim_id": chosen["claim"]}
    else:
        kind, aggregate = "loan", "Loan"
        base = f"/v1/schemes/{quote(scheme)}/banks/{quote(chosen['bank'])}/loans/{quote(chosen['loan'])}"
        filters = {"scheme_id": scheme, "bank_id": chosen["bank"], "loan_ref": chosen["loan"]}
    current = await a.get(base)
    history = await a.get(f"{base}/history")
    events = [e for e in await a.pages("/v1/audit/events", **filters) if e["aggregate"] == aggregate]
    if not events:  # recorded, but not yet in the audit index (a moment's lag)
        raise Refused(503, {"code": "projections_behind", "detail": f"{base} is not yet in the audit index"})
    by_version = {e["version"]: e for e in events}
    latest = history[-1]["version"]
    version: int | None = latest
    if chosen["as_of_position"]:
        position = int(chosen["as_of_position"])
        version = max((e["version"] for e in events if e["position"] <= position), default=None)
    elif chosen["as_of_date"]:
        try:
            version = (
                await a.get(
                    f"/v1/audit/aggregates/{events[0]['originator_id']}", business_date=chosen["as_of_date"]
                )
            )["version"]
        except Refused as refused:
            if refused.code != "unknown_fact":
                raise
            version = None  # it did not exist yet
    rows = []
    for entry in history:
        event = by_version.get(entry["version"])
        row = event_row(event) if event else {"position": None}
        included = version is not None and entry["version"] <= version
        rows.append(row | {"entry": entry, "after": entry["figures"], "included": included})
    included_rows = [r for r in rows if r["included"]]
    then = None
    if version is not None:
        then = (await a.get(f"/v1/audit/aggregates/{events[0]['originator_id']}", version=version))["state"]
    last_position = included_rows[-1]["position"] if included_rows else None
    explore = _explorer_filters(chosen)
    after = {r["entry"]["version"]: r["after"] for r in rows}
    then_figures = after.get(version) if version is not None else None
    return {
        "kind": kind,
        "current": current,
        "version": version,
        "latest": latest,
        "last_position": last_position,
        "then": then,
        "figures": figure_rows(kind, then, then_figures, current, rows[-1]["after"]),
        "parties": party_rows(then_figures, rows[-1]["after"]) if kind == "claim" else [],
        "history": included_rows,
        "later": len(rows) - len(included_rows),
        "dated_after": [
            r
            for r in included_rows
            if chosen["as_of_date"] and r["entry"]["business_date"] > chosen["as_of_date"]
        ],
        "explore": "/audit?" + urlencode(explore),
        "explore_later": "/audit?"
        + urlencode(explore | ({"from_position": last_position + 1} if last_position else {})),
    }


def figure_rows(
    kind: str,
    then: dict[str, Any] | None,
    after: dict[str, Any] | None,
    current: dict[str, Any],
    now: dict[str, Any],
) -> list[dict[str, Any]]:
    """Each figure then and now: (key, label, then, now, kind)."""
    then_figures = after or {}
    then_state = then or {}

    def row(key: str, label: str, was: Any, is_: Any, kind_: str = "text") -> dict[str, Any]:
        return {"key": key, "label": label, "then": was, "now": is_, "kind": kind_}

    if kind == "loan":
        return [
            row(
                "state",
                _("Status"),
                state_words("loan", then_figures.get("state")) if after else None,
                state_words("loan", now["state"]),
            ),
            row(
                "principal",
                _("Principal"),
                fen_yuan(then_figures.get("principal_fen")),
                fen_yuan(now["principal_fen"]),
                "amount",
            ),
            row(
                "principal_repaid",
                _("Principal repaid"),
                fen_yuan(then_figures.get("principal_repaid_fen")),
                fen_yuan(now["principal_repaid_fen"]),
                "amount",
            ),
            row(
                "interest_repaid",
                _("Interest repaid"),
                fen_yuan(then_figures.get("interest_repaid_fen")),
                fen_yuan(now["interest_repaid_fen"]),
                "amount",
            ),
            row(
                "outstanding",
                _("Outstanding principal"),
                fen_yuan(then_figures.get("outstanding_fen")),
                fen_yuan(now["outstanding_fen"]),
                "amount",
            ),
            row(
                "outstanding_at_default",
                _("Outstanding at default"),
                fen_yuan(then_figures.get("outstanding_at_default_fen")),
                fen_yuan(now["outstanding_at_default_fen"]),
                "amount",
            ),
            row(
                "disbursed_on", _("Disbursed on"), then_state.get("disbursed_on"), current.get("disbursed_on")
            ),
            row(
                "defaulted_on", _("Defaulted on"), then_state.get("defaulted_on"), current.get("defaulted_on")
            ),
            row(
                "current_claim",
                _("Current claim"),
                then_figures.get("current_claim_id"),
                now["current_claim_id"],
            ),
        ]
    paid_then = sum(then_figures["paid_fen"].values()) if after else None
    return [
        row(
            "status",
            _("Status"),
            state_words("claim", then_figures.get("status")) if after else None,
            state_words("claim", now["status"]),
        ),
        row(
            "claimed",
            _("Claimed"),
            fen_yuan(then_figures.get("claimed_fen")),
            fen_yuan(now["claimed_fen"]),
            "amount",
        ),
        row(
            "approved",
            _("Approved"),
            fen_yuan(then_figures.get("approved_fen")),
            fen_yuan(now["approved_fen"]),
            "amount",
        ),
        row(
            "paid",
            _("Paid to the bank"),
            fen_yuan(paid_then),
            fen_yuan(sum(now["paid_fen"].values())),
            "amount",
        ),
    ]


def party_rows(after: dict[str, Any] | None, now: dict[str, Any]) -> list[dict[str, Any]]:
    """A claim's share of each party then and now: allocated, paid, recovered, recovery paid."""
    then = after or {}
    parties = list(dict.fromkeys([*now["allocated_fen"], *(then.get("allocated_fen") or {})]))
    names = ("allocated_fen", "paid_fen", "recovered_fen", "recovery_paid_fen")
    return [
        {"party_id": party}
        | {f"then_{n}": fen_yuan((then.get(n) or {}).get(party)) for n in names}
        | {f"now_{n}": fen_yuan(now[n].get(party)) for n in names}
        for party in parties
    ]


def _explorer_filters(chosen: dict[str, str]) -> dict[str, str]:
    if chosen["claim"]:
        return {"scheme": chosen["scheme"], "claim": chosen["claim"]}
    return {"scheme": chosen["scheme"], "bank": chosen["bank"], "loan": chosen["loan"]}


def history_columns(kind: str) -> list[Column]:
    """The history up to then: each fact, and the figures right after it."""
    common = [
        Column(_("Position"), lambda r: r.get("position"), "int"),
        Column(_("Version"), lambda r: r["entry"]["version"], "int"),
        Column(_("Business date"), lambda r: r["entry"]["business_date"], "date"),
        Column(_("Recorded at (China time)"), lambda r: r["entry"]["recorded_at"], "instant"),
        Column(_("Fact recorded"), lambda r: r.get("fact_words") or r["entry"]["fact"]),
        Column(_("Amounts (yuan)"), lambda r: r.get("amounts_text", "")),
        Column(_("Recorded by"), lambda r: r["entry"]["principal_id"]),
        Column(_("Role"), lambda r: role_name(r["entry"]["role"])),
        Column(_("Correction"), lambda r: r.get("correction_text", "")),
    ]
    if kind == "loan":
        return [
            *common,
            Column(_("Status after"), lambda r: state_words("loan", r["after"]["state"])),
            Column(
                _("Principal repaid after"), lambda r: fen_yuan(r["after"]["principal_repaid_fen"]), "amount"
            ),
            Column(_("Outstanding after"), lambda r: fen_yuan(r["after"]["outstanding_fen"]), "amount"),
        ]
    return [
        *common,
        Column(_("Status after"), lambda r: state_words("claim", r["after"]["status"])),
        Column(_("Approved after"), lambda r: fen_yuan(r["after"]["approved_fen"]), "amount"),
        Column(_("Paid after"), lambda r: fen_yuan(sum(r["after"]["paid_fen"].values())), "amount"),
    ]


def state_words(kind: str, state: str | None) -> str:
    words = (LOAN_STATES if kind == "loan" else CLAIM_STATUSES).get(state or "")
    return _(words) if words else (state or "—")


# Tree heads, verification and the downloads ---------------------------------------------------


@router.get("/audit/heads", response_class=HTMLResponse)
async def heads(request: Request, session: SessionDep) -> Response:
    return await heads_page(request, session)


async def heads_page(
    request: Request,
    session: Any,
    *,
    inclusion_errors: FormErrors | None = None,
    consistency_errors: FormErrors | None = None,
    export_errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    fmt = wants_download(request)
    async with api(request, session) as a:
        if fmt:  # the table's download: every signed head, newest first
            return download(fmt, "tree-heads", head_columns(), list(reversed(await every_head(a))))
        verification = await a.get("/v1/audit/verification")
        try:
            head = await a.get("/v1/audit/tree-heads/latest")
        except Refused as refused:
            if refused.code != "unknown_fact":
                raise
            head = None
        chain = []
        if head is not None:
            chain = await a.get(
                "/v1/audit/tree-heads",
                after_sequence=max(0, head["sequence"] - HEADS_CHOSEN),
                limit=HEADS_CHOSEN,
            )
        key = await a.get("/v1/audit/public-key")
        schemes = await a.pages("/v1/schemes", most=1000)
    recent = list(reversed(chain))
    columns = head_columns()
    query = request.query_params
    return page(
        request,
        "audit/heads.html",
        session=session,
        title=_("Tree heads and verification"),
        head=head,
        verification=verification,
        public_key=key["public_key"],
        algorithm=key["algorithm"],
        recent=recent[:HEADS_SHOWN],
        heads_count=len(recent),
        sizes=[h["size"] for h in recent],
        columns=columns,
        scheme_options=[(s["scheme_id"], f"{s['scheme_id']} · {s['name']}") for s in schemes],
        head_options=[
            (
                h["size"],
                _("#%(sequence)s · %(size)s events · sealed %(sealed)s")
                % {"sequence": h["sequence"], "size": h["size"], "sealed": instant(h["sealed_at"])},
            )
            for h in recent
        ],
        finding_kinds=FINDINGS,
        may_export=session.actor.role is Role.REGULATOR,
        asked={
            name: query.get(name, "") for name in ("position", "tree_size", "from_size", "to_size", "scheme")
        },
        inclusion_errors=inclusion_errors or FormErrors.none(),
        consistency_errors=consistency_errors or FormErrors.none(),
        export_errors=export_errors or FormErrors.none(),
        status=status,
    )


async def every_head(a: Api) -> list[dict[str, Any]]:
    """Every signed tree head, oldest first (a page of 500 at a time), up to a download's rows."""
    found: list[dict[str, Any]] = []
    while len(found) < DOWNLOAD_ROWS_MAX:
        page_ = await a.get(
            "/v1/audit/tree-heads", limit=500, after_sequence=found[-1]["sequence"] if found else 0
        )
        found += page_
        if len(page_) < 500:
            break
    return found[:DOWNLOAD_ROWS_MAX]


def head_columns() -> list[Column]:
    return [
        Column(_("Sequence"), lambda h: h["sequence"], "int"),
        Column(_("Size (events)"), lambda h: h["size"], "int"),
        Column(_("Sealed at (China time)"), lambda h: h["sealed_at"], "instant"),
        Column(_("Merkle root"), lambda h: h["root"]),
        Column(_("Signing key"), lambda h: h["public_key"]),
        Column(_("New chain: reason"), lambda h: h.get("new_chain_reason")),
    ]


def attachment(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get("/audit/heads/export")
async def export_file(request: Request, session: SessionDep) -> Response:
    """The API's export, as the file it names, streamed as the API writes it (never whole in
    memory here)."""
    scheme = (request.query_params.get("scheme") or "").strip()
    async with api(request, session) as a:
        try:
            answer = await a.stream("/v1/audit/export", params={"scheme_id": scheme or None})
        except Refused as refused:
            if refused.status not in (404, 422):
                raise
            return await heads_page(
                request,
                session,
                export_errors=renamed(
                    FormErrors.of(refused, fields=["scheme_id"]), [("scheme", "scheme_id")]
                ),
                status=refused.status,
            )
    return StreamingResponse(
        answer.body,
        media_type=answer.headers.get("content-type", "application/octet-stream"),
        headers={"Content-Disposition": answer.headers.get("content-disposition", "attachment")},
    )


def _position(value: str | None) -> str | None:
    return (value or "").strip() or None


@router.get("/audit/heads/inclusion")
async def inclusion_file(request: Request, session: SessionDep) -> Response:
    """An inclusion proof of one event in a signed tree head's tree, as a JSON file: the API's
    proof, with the signed head whose root it proves against and the event it proves."""
    query = request.query_params
    position, tree_size = _position(query.get("position")), _position(query.get("tree_size"))
    async with api(request, session) as a:
        try:
            proof = await a.get("/v1/audit/proofs/inclusion", position=position, tree_size=tree_size)
        except Refused as refused:
            if refused.status != 422:
                raise
            return await heads_page(
                request,
                session,
                inclusion_errors=proof_errors(
                    refused,
                    ["position", "tree_size"],
                    _(NOT_IN_TREE),
                ),
                status=422,
            )
        head = await _head_of_size(a, proof["tree_size"])
        event = await a.get(
            "/v1/audit/events", from_position=proof["position"], to_position=proof["position"], limit=1
        )
    body = proof | {"tree_head": head, "event": (event["items"] or [None])[0]}
    name = f"inclusion-proof-position-{proof['position']}-size-{proof['tree_size']}.json"
    return attachment(_json(body), "application/json", name)


@router.get("/audit/heads/consistency")
async def consistency_file(request: Request, session: SessionDep) -> Response:
    """A consistency proof between two signed heads' trees, as a JSON file: the API's proof, with
    both heads."""
    query = request.query_params
    from_size, to_size = _position(query.get("from_size")), _position(query.get("to_size"))
    async with api(request, session) as a:
        try:
            proof = await a.get("/v1/audit/proofs/consistency", from_size=from_size, to_size=to_size)
        except Refused as refused:
            if refused.status != 422:
                raise
            return await heads_page(
                request,
                session,
                consistency_errors=proof_errors(
                    refused,
                    ["from_size", "to_size"],
                    _(HEADS_REVERSED),
                ),
                status=422,
            )
        first = await _head_of_size(a, proof["from_size"])
        second = await _head_of_size(a, proof["to_size"])
    body = proof | {"from_tree_head": first, "to_tree_head": second}
    name = f"consistency-proof-{proof['from_size']}-{proof['to_size']}.json"
    return attachment(_json(body), "application/json", name)


def proof_errors(refused: Refused, fields: list[str], sentence: str) -> FormErrors:
    """A proof's refusal: beside the field it names, or, for sizes or a position the tree does not
    hold (the API's invalid_request of no field), the sentence that says which, with the API's own."""
    errors = FormErrors.of(refused, fields=fields)
    if not errors.fields and refused.code == "invalid_request":
        return FormErrors({}, f"{sentence} ({refused.detail})")
    return errors


async def _head_of_size(a: Api, size: int) -> dict[str, Any] | None:
    """The signed head of that size (the latest, if several), among the recent ones."""
    latest = await a.get("/v1/audit/tree-heads/latest")
    chain = await a.get(
        "/v1/audit/tree-heads", after_sequence=max(0, latest["sequence"] - HEADS_CHOSEN), limit=HEADS_CHOSEN
    )
    return next((h for h in reversed(chain) if h["size"] == size), None)


def _json(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8") + b"\n"
