"""Claims: the queue (oldest first, with ages), the claim page (its figures, the loan's timeline and
the claim's history, the allocation with the caps that cut a party and where the overflow went,
and the review and settlement forms), and what each party owes.

Every figure is the API's; every refusal is the API's (roles, maker-checker, the rule book), shown
beside the form that was refused with what was entered kept. A form is shown to the roles that can
ever use it, as presentation only."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from console import i18n
from console.client import PAGE_ITEMS_MAX, Api, Refused, TooMany
from console.errors import SENTENCES, sentence as rule_sentence
from console.i18n import N_, _, role_name
from console.pages.dashboard import party_names
from console.session import Session
from console.web import (
    DOWNLOAD_ROWS_MAX,
    SHOWN_ROWS_MAX,
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
from ledger.money import format_fen

router = APIRouter(include_in_schema=False)

STATUSES = {
    "filed": N_("Filed, awaiting review"),
    "awaiting_second_approval": N_("Awaiting the second approval"),
    "approved": N_("Approved, being settled"),
    "settled": N_("Settled"),
    "rejected": N_("Rejected"),
}
OPEN = ("filed", "awaiting_second_approval")
PAGE_ITEMS = 50  # claims on a page of the queue, unless the address asks for another number
PAYERS = (Role.FUND_MANAGER, Role.GOVERNMENT, Role.GUARANTOR, Role.INSURER)

# Each form: the API route it posts to, its fields (name on the page → name in the API's body), and
# the refusals that concern one field of it rather than the whole form.
FORMS: dict[str, dict[str, Any]] = {
    "approve": {
        "route": "approvals",
        "fields": {"amount": "amount", "approved_on": "approved_on"},
        "codes": {
            "approval_exceeds_claim": "amount",
            "invalid_amount": "amount",
            "invalid_date": "approved_on",
        },
    },
    "reject": {
        "route": "rejection",
        "fields": {"reason": "reason", "rejected_on": "rejected_on"},
        "codes": {"reason_required": "reason", "invalid_date": "rejected_on"},
    },
    "pay": {
        "route": "payments",
        "fields": {"party_id": "party_id", "pay_amount": "amount", "paid_on": "paid_on"},
        "codes": {
            "overpayment": "pay_amount",
            "fund_insufficient": "pay_amount",
            "invalid_amount": "pay_amount",
            "invalid_date": "paid_on",
            "not_a_member": "party_id",
            "unknown_party": "party_id",
            "wrong_cover": "party_id",
        },
    },
}


def status_label(status: str) -> str:
    return _(STATUSES.get(status, status))


def claim_url(scheme_id: str, claim_id: str) -> str:
    return f"/schemes/{quote(scheme_id)}/claims/{quote(claim_id, safe=':')}"


def loan_url(scheme_id: str, bank_id: str, loan_ref: str) -> str:
    """The loan's page (console/pages/loans.py)."""
    return f"/schemes/{quote(scheme_id)}/loans/{quote(bank_id)}/{quote(loan_ref)}"


def today_in_china() -> str:
    return datetime.now(i18n.CHINA).date().isoformat()


# The queue -----------------------------------------------------------------------------------


@router.get("/schemes/{scheme_id}/claims", response_class=HTMLResponse)
async def queue(
    request: Request,
    scheme_id: str,
    session: SessionDep,
    status: str = "",
    cursor: str = "",
    limit: str = "",
) -> Response:
    """The queue: for a fund manager, by default, the claims that await one (filed, or awaiting the
    second approval); for everyone else, by default, all their claims at every status; oldest
    first; any one status, or every status (`all`), on request."""
    path = f"/v1/schemes/{scheme_id}/claims"
    asked = status or ("open" if session.actor.role == Role.FUND_MANAGER else "all")
    status = "" if asked == "all" else asked
    fmt = wants_download(request)
    async with api(request, session) as a:
        names = party_names(await a.get(f"/v1/schemes/{scheme_id}/members"))
        columns = _queue_columns(scheme_id, names)
        summary = await _queue_summary(a, scheme_id)
        if fmt and request.query_params.get("table") == "summary" and summary is not None:
            return download(fmt, f"{scheme_id}-claims-by-status", _summary_columns(request), summary)
        if fmt:
            rows = await a.pages(path, status=status)
            return download(fmt, f"{scheme_id}-claims", columns, rows)
        found = await a.get(path, limit=_page_items(limit), status=status, cursor=cursor)
    next_cursor = found.get("next_cursor")
    return page(
        request,
        "claims/queue.html",
        session=session,
        title=_("Claims queue"),
        scheme_id=scheme_id,
        columns=columns,
        rows=found["items"],
        chosen=asked,
        statuses=[(key, _(label)) for key, label in STATUSES.items()],
        summary=summary,
        summary_columns=_summary_columns(request),
        summary_url=lambda **changes: url_with(request, table="summary", cursor=None, **changes),
        next_url=url_with(request, cursor=next_cursor) if next_cursor else None,
        first_url=url_with(request, cursor=None) if cursor else None,
    )


def _page_items(asked: str) -> int:
    """The claims on a page: the number the address asks for, within the API's bounds."""
    return max(1, min(int(asked), PAGE_ITEMS_MAX)) if asked.isdigit() else PAGE_ITEMS


async def _queue_summary(a: Api, scheme_id: str) -> list[dict[str, Any]] | None:
    """The claims at each status (the fund manager's and the regulator's report); None for a role
    the API does not give it to."""
    try:
        return (await a.get(f"/v1/schemes/{scheme_id}/reports/claims-queue"))["statuses"]
    except Refused as refused:
        if refused.status == 403:
            return None
        raise


def _queue_columns(scheme_id: str, names: dict[str, str]) -> list[Column]:
    return [
        Column(_("Claim"), lambda c: c["claim_id"], link=lambda c: claim_url(scheme_id, c["claim_id"])),
        Column(_("Bank"), lambda c: names.get(c["bank_id"], c["bank_id"])),
        Column(
            _("Loan"),
            lambda c: c["loan_ref"],
            link=lambda c: loan_url(scheme_id, c["bank_id"], c["loan_ref"]),
        ),
        Column(_("Status"), lambda c: status_label(c["status"])),
        Column(_("Claimed"), lambda c: c["claimed"], "amount"),
        Column(_("Approved"), lambda c: c["approved"], "amount"),
        Column(_("Filed on"), lambda c: c["filed_on"], "date"),
        Column(_("Age (days)"), lambda c: c["age_days"], "int"),
    ]


def _summary_columns(request: Request) -> list[Column]:
    def only(s: dict[str, Any]) -> str:
        return url_with(request, status=s["status"], cursor=None, table=None, format=None)

    return [
        Column(_("Status"), lambda s: status_label(s["status"]), link=only),
        Column(_("Number of claims"), lambda s: s["claims"], "int"),
        Column(_("Claimed"), lambda s: s["claimed"], "amount"),
        Column(_("Approved"), lambda s: s["approved"], "amount"),
        Column(_("Oldest (days since filing)"), lambda s: s["oldest_age_days"], "int"),
    ]


# The claim page ------------------------------------------------------------------------------


@router.get("/schemes/{scheme_id}/claims/{claim_id}", response_class=HTMLResponse)
async def claim_page(request: Request, scheme_id: str, claim_id: str, session: SessionDep) -> Response:
    return await _claim_page(request, scheme_id, claim_id, session)


async def _claim_page(
    request: Request,
    scheme_id: str,
    claim_id: str,
    session: Session,
    *,
    form: str | None = None,
    errors: FormErrors | None = None,
    entered: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    async with api(request, session) as a:
        seen = await _claim_and_loan(a, scheme_id, claim_id)
    claim, names = seen["claim"], seen["names"]
    tables = {
        "allocation": allocation_rows(claim, seen["approved"], names),
        "settlement": settlement_rows(claim, names),
        "loan-timeline": loan_history_rows(seen["loan_history"] or [], names),
        "claim-history": claim_history_rows(seen["history"], names),
    }
    fmt, chosen = wants_download(request), request.query_params.get("table")
    if fmt and chosen in tables and request.method == "GET":
        columns, rows = tables[chosen]
        return download(fmt, f"{claim_id}-{chosen}", columns, rows)
    values = _form_values(claim, session, form, entered)
    forms = _forms_shown(claim, session)
    if form and errors and form not in forms:
        # the claim moved on since the form was shown (another manager acted): the form is gone
        # from the page, its refusal is not
        message = errors.general or next(iter(errors.fields.values()), None) or _("Refused")
        session.flash.append(("error", message))
    return page(
        request,
        "claims/claim.html",
        session=session,
        title=_("Claim %(claim)s") % {"claim": claim_id},
        scheme_id=scheme_id,
        claim=claim,
        version=seen["version"],
        loan=seen["loan"],
        loan_url=loan_url(scheme_id, claim["bank_id"], claim["loan_ref"]),
        second_approval_from=(seen["rules"] or {}).get("document", {}).get("second_approval_from"),
        names=names,
        status_label=status_label,
        cover_label=lambda cover: COVERS.get(cover, cover),
        tables=tables,
        caps=cap_notes(claim, seen["approved"], seen["loan"], seen["rules"], names),
        forms=forms,
        payable=_payable(claim, session),
        form=form,
        errors={form: errors} if form and errors else {},
        values=values,
        keys={name: new_idempotency_key() for name in FORMS},
        action=lambda name: claim_url(scheme_id, claim_id) + f"/{name}",
        dl=lambda table: _table_link(scheme_id, claim_id, table),
        status=status,
    )


def _table_link(scheme_id: str, claim_id: str, table: str) -> Callable[..., str]:
    """A table's download link: the claim page's own address (also from the page re-shown after a
    refused form, whose address is the form's)."""
    base = claim_url(scheme_id, claim_id)
    return lambda **changes: f"{base}?{urlencode({'table': table} | changes)}"


async def _claim_and_loan(a: Api, scheme_id: str, claim_id: str) -> dict[str, Any]:
    """The claim (with its version, the ETag), its history, its loan and the loan's history, the
    rule version it was (or will be) allocated under, and the members' names. The loan is None for
    a principal the API does not show it to."""
    path = f"/v1/schemes/{scheme_id}/claims/{quote(claim_id, safe='')}"
    answer = await a.call("GET", path)
    claim = answer.json()
    history, members = await asyncio.gather(
        a.get(f"{path}/history"), a.get(f"/v1/schemes/{scheme_id}/members")
    )
    loan = loan_history = None
    try:
        loan, loan_history = await asyncio.gather(
            a.get(claim["links"]["loan"]), a.get(claim["links"]["loan"] + "/history")
        )
    except Refused as refused:
        if refused.status not in (403, 404):
            raise
    number = claim["rule_version"] or (loan or {}).get("rule_version")
    rules = await a.get(f"/v1/schemes/{scheme_id}/rule-versions/{number}") if number else None
    approved = next((e for e in history if e["fact"] == "Approved"), None)
    return {
        "claim": claim,
        "version": answer.headers.get("etag", "").strip('"') or str(claim["version"]),
        "history": history,
        "approved": approved,
        "loan": loan,
        "loan_history": loan_history,
        "rules": rules,
        "names": party_names(members),
    }


def _payable(claim: dict[str, Any], session: Session | None = None) -> list[dict[str, Any]]:
    """The parties that still owe the claim's bank part of their share; for a party's principal,
    its own share only (a party pays for itself; the fund manager records any party's payment)."""
    owing = [p for p in claim["parties"] if p["party_id"] != claim["bank_id"] and p["owed_to_bank"] != "0.00"]
    if session is not None and session.actor.role != Role.FUND_MANAGER:
        owing = [p for p in owing if p["party_id"] == session.actor.party_id]
    return owing


def _forms_shown(claim: dict[str, Any], session: Session) -> set[str]:
    """The forms this principal's role can ever use on this claim as it stands (the API decides the
    rest: maker-checker, a party paying only its own share)."""
    role = session.actor.role
    shown = set()
    if role == Role.FUND_MANAGER and claim["status"] in OPEN:
        shown |= {"approve", "reject"}
    if role in PAYERS and claim["status"] == "approved" and _payable(claim, session):
        shown.add("pay")
    return shown


def _form_values(
    claim: dict[str, Any], session: Session, form: str | None, entered: dict[str, str] | None
) -> dict[str, dict[str, str]]:
    """What each form shows: what was entered in the form that was refused, else its defaults (the
    amount claimed, or the first approval's for the second; today's date; the principal's own
    party first for a payment)."""
    today = today_in_china()
    first = claim.get("first_approval")
    own = session.actor.party_id
    payable = _payable(claim)
    party = (
        own
        if own and any(p["party_id"] == own for p in payable)
        else (payable[0]["party_id"] if payable else "")
    )
    owed = next((p["owed_to_bank"] for p in payable if p["party_id"] == party), "")
    values = {
        "approve": {"amount": first["amount"] if first else claim["claimed"], "approved_on": today},
        "reject": {"reason": "", "rejected_on": today},
        "pay": {"party_id": party, "pay_amount": owed, "paid_on": today},
    }
    if form and entered is not None:
        values[form] = entered
    return values


# The forms -----------------------------------------------------------------------------------


@router.post("/schemes/{scheme_id}/claims/{claim_id}/approve", response_class=HTMLResponse)
async def approve(request: Request, scheme_id: str, claim_id: str, session: FormSession) -> Response:
    return await _submit(request, scheme_id, claim_id, session, "approve")


@router.post("/schemes/{scheme_id}/claims/{claim_id}/reject", response_class=HTMLResponse)
async def reject(request: Request, scheme_id: str, claim_id: str, session: FormSession) -> Response:
    return await _submit(request, scheme_id, claim_id, session, "reject")


@router.post("/schemes/{scheme_id}/claims/{claim_id}/pay", response_class=HTMLResponse)
async def pay(request: Request, scheme_id: str, claim_id: str, session: FormSession) -> Response:
    return await _submit(request, scheme_id, claim_id, session, "pay")


async def _submit(request: Request, scheme_id: str, claim_id: str, session: Session, form: str) -> Response:
    """One of the claim's forms: its values sent to the API as the principal, with the form's
    Idempotency-Key and the claim's version read (If-Match); then back to the claim page, or the
    page again with the refusal beside the form."""
    spec = FORMS[form]
    sent = await request.form()
    entered = {name: str(sent.get(name, "")).strip() for name in spec["fields"]}
    body = {api_name: _api_value(api_name, entered[name]) for name, api_name in spec["fields"].items()}
    headers = {"Idempotency-Key": str(sent.get("idempotency_key", "")) or new_idempotency_key()}
    version = str(sent.get("version", ""))
    if version.isdigit():
        headers["If-Match"] = f'"{version}"'
    path = f"/v1/schemes/{scheme_id}/claims/{quote(claim_id, safe='')}/{spec['route']}"
    try:
        async with api(request, session) as a:
            written = (await a.call("POST", path, json=body, headers=headers)).json()
            names = party_names(await a.get(f"/v1/schemes/{scheme_id}/members"))
    except Refused as refused:
        if refused.status == 401:
            raise
        errors = form_errors(refused, spec)
        return await _claim_page(
            request,
            scheme_id,
            claim_id,
            session,
            form=form,
            errors=errors,
            entered=entered,
            status=refused.status,
        )
    session.flash.append(("ok", _done(form, written, entered, names)))
    return redirect(claim_url(scheme_id, claim_id))


def _api_value(name: str, value: str) -> str:
    """An amount as the API reads it: thousands separators and spaces a person types are dropped."""
    if name == "amount":
        return value.replace(",", "").replace("，", "").replace(" ", "")
    return value


def _done(form: str, written: dict[str, Any], entered: dict[str, str], names: dict[str, str]) -> str:
    if form == "approve" and written.get("status") == "awaiting_second_approval":
        return _("First approval recorded: the claim now awaits the second approval of another fund manager.")
    if form == "approve":
        return _("Approved: the loss is allocated among the parties below.")
    if form == "reject":
        return _("The claim is rejected.")
    return _("Payment of %(amount)s yuan by %(party)s recorded.") % {
        "amount": i18n.yuan(_api_value("amount", entered["pay_amount"])),
        "party": names.get(entered["party_id"], entered["party_id"]),
    }


def form_errors(refused: Refused, spec: dict[str, Any]) -> FormErrors:
    """The refusal beside the field it concerns (by the API's field errors, or by its code), else
    as the form's own message, in the user's language."""
    to_form = {api_name: name for name, api_name in spec["fields"].items()}
    # A field the rule book has a sentence for is refused in that sentence alone: what was entered
    # stands in the field beside it, and the validator's own words are English.
    known = refused.code in SENTENCES and refused.code != "invalid_request"
    by_field = {
        to_form[k]: rule_sentence(refused.code) if known else refusal_message(refused, v)
        for k, v in refused.field_errors().items()
        if k in to_form
    }
    if by_field:
        return FormErrors(by_field, None)
    message = explained(refused)
    field = spec["codes"].get(refused.code)
    return FormErrors({field: message}, None) if field else FormErrors({}, message)


def explained(refused: Refused) -> str:
    """A refusal in the user's language: with its figures, for the refusals of these forms whose
    figures say it all; else the rule book's sentence; a malformed request or an unexpected error
    with the ledger's own sentence after it."""
    figures = refused.problem.get("figures") or {}
    code = refused.code
    money = {k: i18n.yuan(v) for k, v in figures.items() if isinstance(v, str) and k != "principal_id"}
    try:
        if code == "approval_exceeds_claim":
            return _("The approved amount %(amount)s is above the %(claimed)s claimed.") % money
        if code == "same_checker":
            sentence = _("%(principal)s gave the first approval: another fund manager must give the second.")
            return sentence % {"principal": figures["principal_id"]}
        if code == "invalid_amount" and "expected" in figures:
            return (
                _("The second approval confirms the first approval's amount, %(expected)s, unchanged.")
                % money
            )
        if code == "overpayment":
            return _("%(amount)s is above the %(owed)s still owed.") % money
        if code == "fund_insufficient":
            return _("The fund's balance, %(balance)s, does not cover %(amount)s.") % money
        if code == "invalid_date" and "earliest" in figures:
            return (
                _("The date %(value)s is before %(earliest)s: business dates never go backwards.") % figures
            )
        if code == "invalid_transition" and "state" in figures:
            return _("The claim is now “%(status)s”: this is no longer possible. Reload the page.") % {
                "status": status_label(figures["state"])
            }
    except (KeyError, ValueError, TypeError):
        pass
    # the rule book's sentence: the figures it concerns are on the page, and the ledger's own
    # sentence is English
    if code in SENTENCES and code not in ("invalid_request", "internal_error"):
        return rule_sentence(code)
    return refusal_message(refused)


# The claim's tables --------------------------------------------------------------------------

LOAN_FACTS = {
    "Enrolled": N_("Enrolled"),
    "Disbursed": N_("Disbursed"),
    "Repaid": N_("Repayment"),
    "RepaymentReversed": N_("Repayment reversed"),
    "Defaulted": N_("Defaulted"),
    "Withdrawn": N_("Withdrawn"),
    "WrittenOff": N_("Written off"),
    "PremiumRecorded": N_("Premium recorded"),
    "GuaranteeFeeRecorded": N_("Guarantee fee recorded"),
    "PremiumReversed": N_("Premium reversed"),
    "GuaranteeFeeReversed": N_("Guarantee fee reversed"),
    "ClaimFiled": N_("Claim filed"),
}
CLAIM_FACTS = {
    "Filed": N_("Claim filed"),
    "FirstApproved": N_("First approval"),
    "Approved": N_("Approved and allocated"),
    "Rejected": N_("Rejected"),
    "SettlementPaid": N_("Settlement payment"),
    "SettlementReversed": N_("Settlement payment reversed"),
    "RecoveryRecorded": N_("Recovery recorded"),
    "RecoveryReversed": N_("Recovery reversed"),
    "RecoveryPartPaid": N_("Recovery part paid"),
    "RecoveryPartPaymentReversed": N_("Recovery part payment reversed"),
}
COVERS = {"guaranteed": N_("guaranteed"), "insured": N_("insured"), "direct": N_("direct")}
CAPS = {
    "per_claim_max": N_("at most %(limit)s yuan per claim"),
    "per_bank_per_year_max": N_("at most %(limit)s yuan per bank per year"),
    "annual_max": N_("at most %(limit)s yuan per year"),
    "premium_multiple_max_bp": N_("at most %(limit)s%% of the year's premiums"),
    "fee_multiple_max_bp": N_("at most %(limit)s%% of the year's guarantee fees"),
}


def _yuan_of(fen: int | None) -> str | None:
    return None if fen is None else format_fen(fen)


def _percent_of_bp(bp: int) -> str:
    return f"{bp // 100}.{bp % 100:02d}"


def allocation_rows(
    claim: dict[str, Any], approved: dict[str, Any] | None, names: dict[str, str]
) -> tuple[list[Column], list[Any]]:
    """How the approved loss was shared (§5): each party's share by the split, what its caps cut,
    the overflow it took on, and what it was allocated. Empty until the final approval."""
    parts = approved["data"]["parts"] if approved else []
    columns = [
        Column(_("Party"), lambda p: names.get(p["party_id"], p["party_id"])),
        Column(_("Share key"), lambda p: _share_key(p["key"])),
        Column(_("Share (%)"), lambda p: _percent_of_bp(p["bp"]), "amount"),
        Column(_("By the share"), lambda p: _yuan_of(p["split_fen"]), "amount"),
        Column(_("Cut by its caps"), lambda p: _yuan_of(p["cut_fen"]), "amount"),
        Column(_("Overflow taken on"), lambda p: _yuan_of(p["overflow_fen"]), "amount"),
        Column(_("Allocated"), lambda p: _yuan_of(p["allocated_fen"]), "amount"),
    ]
    return columns, parts


def _share_key(key: str) -> str:
    """A split key in words: a role, or a government fund named by its id."""
    return role_name(key if key in ("bank", "guarantor", "insurer") else "government")


def settlement_rows(claim: dict[str, Any], names: dict[str, str]) -> tuple[list[Column], list[Any]]:
    """Each party's allocation against what it has paid the bank, and the recovery parts."""
    bank = claim["bank_id"]
    columns = [
        Column(_("Party"), lambda p: names.get(p["party_id"], p["party_id"])),
        Column(_("Allocated"), lambda p: p["allocated"], "amount"),
        Column(_("Paid to the bank"), lambda p: None if p["party_id"] == bank else p["paid"], "amount"),
        Column(
            _("Still owed to the bank"),
            lambda p: None if p["party_id"] == bank else p["owed_to_bank"],
            "amount",
        ),
        Column(_("Recovery parts"), lambda p: p["recovered"], "amount"),
        Column(_("Recovery parts the bank still owes"), lambda p: p["owed_by_bank"], "amount"),
    ]
    return columns, claim["parties"]


def cap_notes(
    claim: dict[str, Any],
    approved: dict[str, Any] | None,
    loan: dict[str, Any] | None,
    rules: dict[str, Any] | None,
    names: dict[str, str],
) -> list[str]:
    """In words: each party a cap cut (by how much, and the caps of its share in the rule version
    the claim was allocated under), and who took on what the caps cut."""
    if not approved:
        return []
    parts = approved["data"]["parts"]
    cut = [p for p in parts if p["cut_fen"]]
    if not cut:
        return [_("No cap cut any party's share: each party bears its share of the split.")]
    caps: dict[str, Any] = {}
    if loan and rules:
        caps = rules["document"]["covers"].get(loan["cover"], {}).get("caps") or {}
    notes = []
    for p in cut:
        figures = {
            "party": names.get(p["party_id"], p["party_id"]),
            "split": i18n.yuan(format_fen(p["split_fen"])),
            "cut": i18n.yuan(format_fen(p["cut_fen"])),
            "allocated": i18n.yuan(format_fen(p["split_fen"] - p["cut_fen"])),
            "number": claim["rule_version"],
        }
        limits = [
            _cap_text(name, value) for name, value in (caps.get(p["key"]) or {}).items() if value is not None
        ]
        if limits:
            note = _(
                "%(party)s's share by the split, %(split)s, was cut by %(cut)s to %(allocated)s; "
                "its caps in rule version %(number)s: %(caps)s."
            ) % (figures | {"caps": _("; ").join(limits)})
        else:
            note = (
                _("%(party)s's share by the split, %(split)s, was cut by %(cut)s to %(allocated)s.") % figures
            )
        notes.append(note)
    takers = [
        _("%(party)s took on %(amount)s")
        % {
            "party": names.get(p["party_id"], p["party_id"]),
            "amount": i18n.yuan(format_fen(p["overflow_fen"])),
        }
        for p in parts
        if p["overflow_fen"]
    ]
    total = i18n.yuan(format_fen(sum(p["cut_fen"] for p in cut)))
    notes.append(
        _("Where the %(total)s cut went: %(takers)s.") % {"total": total, "takers": _("; ").join(takers)}
    )
    return notes


def _cap_text(name: str, value: Any) -> str:
    if name not in CAPS:
        return f"{name}: {value}"
    limit = _percent_of_bp(int(value)).removesuffix(".00") if name.endswith("_bp") else i18n.yuan(str(value))
    return _(CAPS[name]) % {"limit": limit}


def _history_columns(facts: dict[str, str], after: Column, names: dict[str, str]) -> list[Column]:
    return [
        Column(_("Business date"), lambda e: e["business_date"], "date"),
        Column(_("Event"), lambda e: _(facts.get(e["fact"], e["fact"]))),
        Column(_("Details"), lambda e: _details(e, names)),
        after,
        Column(_("Recorded by"), lambda e: f"{e['principal_id']} ({role_name(e['role'])})"),
        Column(_("Recorded at"), lambda e: e["recorded_at"], "instant"),
    ]


def loan_history_rows(history: list[dict[str, Any]], names: dict[str, str]) -> tuple[list[Column], list[Any]]:
    after = Column(_("Outstanding after"), lambda e: _yuan_of(e["figures"].get("outstanding_fen")), "amount")
    return _history_columns(LOAN_FACTS, after, names), history


def claim_history_rows(
    history: list[dict[str, Any]], names: dict[str, str]
) -> tuple[list[Column], list[Any]]:
    after = Column(_("Status after"), lambda e: status_label(e["figures"].get("status", "")))
    return _history_columns(CLAIM_FACTS, after, names), history


def _details(entry: dict[str, Any], names: dict[str, str]) -> str:
    """What a fact recorded, in words, with its amounts."""
    d = entry["data"]

    def money(key: str) -> str:
        return i18n.yuan(format_fen(d[key])) if isinstance(d.get(key), int) else "—"

    def party() -> str:
        return names.get(d.get("party_id", ""), d.get("party_id", ""))

    fact = entry["fact"]
    texts: dict[str, Callable[[], str]] = {
        "Enrolled": lambda: (
            _("Principal %(principal)s, %(term)s months at %(rate)s%%, %(cover)s")
            % {
                "principal": money("principal_fen"),
                "term": d.get("term_months"),
                "rate": _percent_of_bp(d.get("rate_bp", 0)),
                "cover": _(COVERS.get(d.get("cover", ""), d.get("cover", ""))),
            }
        ),
        "Disbursed": lambda: _("Disbursed %(amount)s") % {"amount": money("amount_fen")},
        "Repaid": lambda: (
            _("Principal %(principal)s, interest %(interest)s")
            % {"principal": money("principal_fen"), "interest": money("interest_fen")}
        ),
        "Defaulted": lambda: (
            _("%(days)s days overdue; %(amount)s outstanding")
            % {"days": d.get("overdue_days"), "amount": money("outstanding_fen")}
        ),
        "WrittenOff": lambda: _("%(amount)s outstanding written off") % {"amount": money("outstanding_fen")},
        "PremiumRecorded": lambda: (
            _("%(party)s: %(amount)s") % {"party": party(), "amount": money("amount_fen")}
        ),
        "GuaranteeFeeRecorded": lambda: (
            _("%(party)s: %(amount)s") % {"party": party(), "amount": money("amount_fen")}
        ),
        "ClaimFiled": lambda: str(d.get("claim_id", "")),
        "Filed": lambda: _("Claimed %(amount)s") % {"amount": money("claimed_fen")},
        "FirstApproved": lambda: (
            _("Approved %(amount)s, awaiting the second approval") % {"amount": money("amount_fen")}
        ),
        "Approved": lambda: (
            _("Approved %(amount)s under rule version %(number)s")
            % {"amount": money("amount_fen"), "number": d.get("rule_version")}
        ),
        "Rejected": lambda: _("Reason: %(reason)s") % {"reason": d.get("reason", "")},
        "SettlementPaid": lambda: (
            _("%(party)s paid %(amount)s") % {"party": party(), "amount": money("amount_fen")}
        ),
        "RecoveryRecorded": lambda: (
            _("Gross %(gross)s, costs %(costs)s, net %(net)s")
            % {"gross": money("gross_fen"), "costs": money("costs_fen"), "net": money("net_fen")}
        ),
        "RecoveryPartPaid": lambda: (
            _("To %(party)s: %(amount)s") % {"party": party(), "amount": money("amount_fen")}
        ),
    }
    if fact in texts:
        return texts[fact]()
    if "reason" in d:  # a reversal or a withdrawal
        reversed_ = f"{d['fact_id']}: " if "fact_id" in d else ""
        return reversed_ + _("Reason: %(reason)s") % {"reason": d["reason"]}
    return ""


# What each party owes ------------------------------------------------------------------------


@router.get("/schemes/{scheme_id}/owed", response_class=HTMLResponse)
async def owed(request: Request, scheme_id: str, session: SessionDep) -> Response:
    base = f"/v1/schemes/{scheme_id}"
    fmt, chosen = wants_download(request), request.query_params.get("table")
    async with api(request, session) as a:
        report, latest, members = await asyncio.gather(
            a.get(f"{base}/reports/owed"),
            a.get(f"{base}/reports/settlements", limit=SHOWN_ROWS_MAX),
            a.get(f"{base}/members"),
        )
        payments, more = latest["payments"], latest.get("next_cursor")
        if fmt and chosen == "payments":  # the download holds every payment, page after page
            while more:
                page_ = await a.get(f"{base}/reports/settlements", limit=PAGE_ITEMS_MAX, cursor=more)
                payments, more = payments + page_["payments"], page_.get("next_cursor")
                if len(payments) > DOWNLOAD_ROWS_MAX:
                    raise TooMany(DOWNLOAD_ROWS_MAX)
    names = party_names(members)
    tables = _owed_tables(scheme_id, report, payments, names)
    if fmt and chosen in tables:
        columns, rows = tables[chosen]
        return download(fmt, f"{scheme_id}-{chosen}", columns, rows)
    return page(
        request,
        "claims/owed.html",
        session=session,
        title=_("What each party owes"),
        scheme_id=scheme_id,
        tables=tables,
        more_payments=bool(more),
        today=report["today"],
        dl=lambda table: lambda **changes: url_with(request, table=table, **changes),
    )


def _owed_tables(
    scheme_id: str, report: dict[str, Any], payments: list[dict[str, Any]], names: dict[str, str]
) -> dict[str, tuple[list[Column], list[Any]]]:
    def name(key: str) -> Callable[[dict[str, Any]], str]:
        return lambda row: names.get(row[key], row[key])

    def claim_link(row: dict[str, Any]) -> str:
        return claim_url(scheme_id, row["claim_id"])

    debt = [Column(_("Owed by"), name("debtor")), Column(_("Owed to"), name("creditor"))]
    amount = Column(_("Amount owed"), lambda d: d["amount"], "amount")
    claim = Column(_("Claim"), lambda d: d["claim_id"], link=claim_link)
    return {
        "parties": (_party_columns(names), party_totals(report["per_claim"])),
        "net": ([*debt, Column(_("Net amount owed"), lambda d: d["amount"], "amount")], report["net"]),
        "pairs": ([*debt, amount], report["totals"]),
        "per-claim": ([claim, *debt, amount], report["per_claim"]),
        "payments": (
            [
                Column(_("Paid on"), lambda p: p["paid_on"], "date"),
                Column(_("Claim"), lambda p: p["claim_id"], link=claim_link),
                Column(_("Paid by"), name("party_id")),
                Column(_("Paid to"), name("bank_id")),
                Column(_("Amount"), lambda p: p["amount"], "amount"),
                Column(_("Reversed"), _reversal),
            ],
            _latest_first(payments),
        ),
    }


def _reversal(payment: dict[str, Any]) -> str:
    """A reversed payment's reversal: its date and reason (a payment that stands: nothing)."""
    if not payment["reversed_on"]:
        return ""
    return _("On %(day)s: %(reason)s") % {"day": payment["reversed_on"], "reason": payment["reason"] or ""}


def _latest_first(payments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """By payment date, the latest first; payments of one day latest recorded first (the API lists
    them latest recorded first)."""
    ordered = sorted(enumerate(payments), key=lambda ip: (ip[1]["paid_on"], -ip[0]), reverse=True)
    return [p for _i, p in ordered]


def party_totals(per_claim: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each party's total owed to others and by others over every open debt, and the difference
    (what it is owed less what it owes), by party id."""
    owes: dict[str, Decimal] = {}
    owed_to: dict[str, Decimal] = {}
    for d in per_claim:
        owes[d["debtor"]] = owes.get(d["debtor"], Decimal(0)) + Decimal(d["amount"])
        owed_to[d["creditor"]] = owed_to.get(d["creditor"], Decimal(0)) + Decimal(d["amount"])
    zero = Decimal("0.00")
    return [
        {
            "party_id": p,
            "owes": f"{owes.get(p, zero):.2f}",
            "owed": f"{owed_to.get(p, zero):.2f}",
            "net": f"{owed_to.get(p, zero) - owes.get(p, zero):.2f}",
        }
        for p in sorted(set(owes) | set(owed_to))
    ]


def _party_columns(names: dict[str, str]) -> list[Column]:
    return [
        Column(_("Party"), lambda t: names.get(t["party_id"], t["party_id"])),
        Column(_("Owes others"), lambda t: t["owes"], "amount"),
        Column(_("Is owed by others"), lambda t: t["owed"], "amount"),
        Column(_("Net (owed to it less what it owes)"), lambda t: t["net"], "amount"),
    ]
