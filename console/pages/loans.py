"""A bank's work, and anyone's view of the loans they may see: the loans list (searched by
reference, borrower name, USCC, state and bank), one loan (its figures, timeline, claims and what
is owed on them; filing a claim), and uploading a monthly loan tape.

What a principal sees is what the API answers it: a bank its own loans, a government party loans
without their borrower ("—"), another bank's loan not at all (`unknown_loan`, 404).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from console import i18n
from console.client import Api, Refused
from console.errors import explain
from console.i18n import N_, _, role_name
from console.session import Session
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
from ledger.tape import COLUMNS as TAPE_COLUMNS

router = APIRouter(include_in_schema=False)

PAGE_ROWS = 50  # loans on one page of the list
REFUSED_ROWS_MAX = 1_000  # the most refused rows the API lists, and the page and its download
REFERENCE_SHOWN_CHARS = 64  # a reference is at most 64 characters (ledger/ids.py); a longer cell is cut
MATCH_LIMIT = 500  # loans read to find one by reference as of a date (the exact one sorts first)
SEARCH = ("loan_ref", "borrower_name", "borrower_uscc", "state", "bank_id")
THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+(\.\d*)?")

LOAN_STATES = {
    "enrolled": N_("enrolled"),
    "disbursed": N_("disbursed"),
    "repaid": N_("repaid"),
    "defaulted": N_("defaulted"),
    "withdrawn": N_("withdrawn"),
    "written_off": N_("written off"),
}
CLAIM_STATUSES = {
    "filed": N_("filed"),
    "awaiting_second_approval": N_("awaiting the second approval"),
    "approved": N_("approved"),
    "settled": N_("settled"),
    "rejected": N_("rejected"),
}
COVERS = {"direct": N_("direct"), "guaranteed": N_("guaranteed"), "insured": N_("insured")}
FACTS = {  # a loan's facts (its history's `fact`), as the timeline names them
    "Enrolled": N_("Enrolment"),
    "Disbursed": N_("Disbursement"),
    "Repaid": N_("Repayment"),
    "RepaymentReversed": N_("Repayment reversed"),
    "Defaulted": N_("Default declared"),
    "Withdrawn": N_("Withdrawal"),
    "WrittenOff": N_("Write-off"),
    "PremiumRecorded": N_("Premium received"),
    "GuaranteeFeeRecorded": N_("Guarantee fee received"),
    "PremiumReversed": N_("Premium reversed"),
    "GuaranteeFeeReversed": N_("Guarantee fee reversed"),
    "ClaimFiled": N_("Claim filed"),
}
# The tape's columns (ledger/tape.py, in its order): what each holds, its format, an example.
TAPE_LAYOUT = {
    "loan_ref": (
        N_("Loan reference"),
        N_("letters, digits, '.', '_' or '-'; unique for your bank"),
        "HB2026-0001",
    ),
    "borrower_name": (
        N_("Borrower name"),
        N_("the firm's registered name, at most 200 characters"),
        "鹤壁星河电子科技有限公司",
    ),
    "borrower_uscc": (
        N_("Borrower USCC"),
        N_("18 characters with a valid check character (GB 32100-2015)"),
        "91350100M000100Y43",
    ),
    "product": (N_("Product"), N_("a reference, e.g. tech_loan or ip_pledge_loan"), "tech_loan"),
    "tags": (N_("Tags"), N_("optional; several separated by ';'"), "ip_pledge;first_loan"),
    "principal": (
        N_("Principal (yuan)"),
        N_("yuan with at most two decimals, no thousands separators"),
        "2000000.00",
    ),
    "rate_bp": (N_("Annual rate (basis points)"), N_("a whole number: 435 is 4.35%"), "435"),
    "term_months": (N_("Term (months)"), N_("a whole number of months"), "24"),
    "enrolled_on": (N_("Enrolment date"), N_("YYYY-MM-DD, not in the future"), "2026-11-02"),
    "cover": (N_("Cover"), N_("direct, guaranteed or insured"), "guaranteed"),
    "cover_party_id": (
        N_("Guarantor or insurer"),
        N_("the guarantor's or insurer's party id; empty for a direct loan"),
        "hebi-tech-guarantee",
    ),
}
REQUIRED_ALWAYS = N_("required")
REQUIRED = {"tags": N_("optional"), "cover_party_id": N_("for a guaranteed or insured loan")}
# Where a refused row's code points when its message does not name the cell (ledger/tape.py).
CODE_COLUMNS = {
    "invalid_uscc": "borrower_uscc",
    "invalid_amount": "principal",
    "invalid_date": "enrolled_on",
    "no_rules_in_force": "enrolled_on",
    "duplicate_loan": "loan_ref",
    "not_a_member": "cover_party_id",
    "wrong_cover": "cover_party_id",
}
MESSAGE_COLUMNS = {"borrower name": "borrower_name", "loan reference": "loan_ref", "tag": "tags"}
SEARCH_RULES = {
    "loan_ref": N_("A loan reference is letters, digits, '.', '_' or '-', starting with a letter or digit."),
    "borrower_uscc": N_("A USCC is at most 18 letters and digits."),
    "borrower_name": N_("A borrower name is at most 200 characters, without control characters."),
}


def loans_path(scheme_id: str) -> str:
    return f"/schemes/{quote(scheme_id)}/loans"


def loan_page_path(scheme_id: str, bank_id: str, loan_ref: str) -> str:
    return f"{loans_path(scheme_id)}/{quote(bank_id)}/{quote(loan_ref)}"


def claim_page_path(scheme_id: str, claim_id: str) -> str:
    return f"/schemes/{quote(scheme_id)}/claims/{quote(claim_id, safe=':')}"


def api_loan(scheme_id: str, bank_id: str, loan_ref: str) -> str:
    return f"/v1/schemes/{quote(scheme_id)}/banks/{quote(bank_id)}/loans/{quote(loan_ref)}"


def named(table: dict[str, str], value: str | None) -> str | None:
    """A state, status or cover in the user's language (an unknown value as it is)."""
    return None if value is None else _(table.get(value, value))


def rate(rate_bp: int | None) -> str:
    return "—" if rate_bp is None else f"{Decimal(rate_bp) / 100:.2f}%"


def fen(value: Any) -> str | None:
    """A history's amount in fen as a yuan string."""
    if not isinstance(value, int):
        return None
    sign = "-" if value < 0 else ""
    whole, part = divmod(abs(value), 100)
    return f"{sign}{whole}.{part:02d}"


def cover_text(loan: dict[str, Any]) -> str:
    cover = named(COVERS, loan.get("cover")) or "—"
    return f"{cover} · {loan['cover_party_id']}" if loan.get("cover_party_id") else cover


def is_loans_bank(session: Session, bank_id: str) -> bool:
    actor = session.actor
    return actor.role == Role.BANK and actor.party_id == bank_id


# The loans list ----------------------------------------------------------------------------


def loan_columns(scheme_id: str, *, with_bank: bool) -> list[Column]:
    columns = [
        Column(
            _("Loan reference"),
            lambda r: r["loan_ref"],
            link=lambda r: loan_page_path(scheme_id, r["bank_id"], r["loan_ref"]),
        )
    ]
    if with_bank:
        columns.append(Column(_("Bank"), lambda r: r["bank_id"]))
    return [
        *columns,
        Column(_("Borrower"), lambda r: r["borrower_name"]),
        Column(_("USCC"), lambda r: r["borrower_uscc"]),
        Column(_("Product"), lambda r: r["product"]),
        Column(_("Cover"), lambda r: named(COVERS, r["cover"])),
        Column(_("Principal (yuan)"), lambda r: r["principal"], kind="amount"),
        Column(_("Outstanding (yuan)"), lambda r: r["outstanding"], kind="amount"),
        Column(_("State"), lambda r: named(LOAN_STATES, r["state"])),
        Column(_("Enrolled on"), lambda r: r["enrolled_on"], kind="date"),
    ]


@router.get("/schemes/{scheme_id}/loans", response_class=HTMLResponse)
async def loans_list(request: Request, scheme_id: str, session: SessionDep) -> Response:
    fmt = wants_download(request)
    query = request.query_params
    search = {name: query.get(name, "").strip() for name in SEARCH}
    asked = {name: value for name, value in search.items() if value}
    if session.actor.role == Role.BANK:
        asked.pop("bank_id", None)  # a bank sees its own loans only: the API's scope, not a filter
    path = f"/v1/schemes/{quote(scheme_id)}/loans"
    errors = FormErrors.none()
    rows: list[dict[str, Any]] = []
    next_cursor = None
    banks: list[dict[str, Any]] = []
    async with api(request, session) as a:
        if session.actor.role != Role.BANK and not fmt:
            members = await a.get(f"/v1/schemes/{quote(scheme_id)}/members")
            banks = [m for m in members if m.get("role") == "bank"]
        try:
            if fmt:
                rows = await a.pages(path, **asked)
            else:
                found = await a.get(path, limit=PAGE_ROWS, cursor=query.get("cursor"), **asked)
                rows, next_cursor = found["items"], found.get("next_cursor")
        except Refused as refused:
            if refused.status not in (403, 422):
                raise
            errors = search_errors(refused)
    columns = loan_columns(scheme_id, with_bank=session.actor.role != Role.BANK)
    if fmt and not errors:
        return download(fmt, "loans", columns, rows)
    number = _page_number(query.get("page"))
    return page(
        request,
        "loans/list.html",
        session=session,
        title=_("Loans"),
        scheme_id=scheme_id,
        columns=columns,
        rows=rows,
        search=search,
        searched=bool(asked),
        partial=request.headers.get("HX-Request") == "true",
        errors=errors,
        banks=banks,
        states=[(value, _(label)) for value, label in LOAN_STATES.items()],
        sees_borrowers=session.actor.role != Role.GOVERNMENT,
        is_bank=session.actor.role == Role.BANK,
        page_number=number,
        first_row=(number - 1) * PAGE_ROWS + 1,
        next_url=url_with(request, cursor=next_cursor, page=number + 1) if next_cursor else None,
        first_url=url_with(request, cursor=None, page=None) if query.get("cursor") else None,
        list_path=loans_path(scheme_id),
        tapes_url=f"/schemes/{quote(scheme_id)}/tapes",
        status=200 if not errors else (403 if errors.general and not errors.fields else 422),
    )


def _page_number(text: str | None) -> int:
    return int(text) if text and text.isdigit() and 0 < int(text) < 1_000_000 else 1


def search_errors(refused: Refused) -> FormErrors:
    """The API's refusal of a search, beside the field it names, in the user's language."""
    fields = {name: _(SEARCH_RULES[name]) for name in refused.field_errors() if name in SEARCH_RULES}
    named_field = (refused.problem.get("figures") or {}).get("field")
    if named_field in SEARCH_RULES and named_field not in fields:
        fields[named_field] = refusal_message(refused)
    general = None if fields else refusal_message(refused)
    return FormErrors(fields, general)


# One loan ---------------------------------------------------------------------------------


@dataclass
class AsOf:
    """A loan page asked for as the loan stood on a date or at a log position (the API's read)."""

    params: dict[str, str]
    error: str | None = None

    @classmethod
    def of(cls, request: Request) -> AsOf:
        on = request.query_params.get("as_of_date", "").strip()
        position = request.query_params.get("as_of_position", "").strip()
        if on:
            return cls({"as_of_date": on})
        if position:
            return cls({"as_of_position": position})
        return cls({})

    def __bool__(self) -> bool:
        return bool(self.params)

    @property
    def label(self) -> str:
        if "as_of_date" in self.params:
            return _("As it stood on {date} (end of that business day)").format(
                date=self.params["as_of_date"]
            )
        return _("As it stood at position {position} of the ledger").format(
            position=self.params.get("as_of_position", "")
        )


def timeline_columns(scheme_id: str) -> list[Column]:
    return [
        Column(_("Business date"), lambda e: e["business_date"], kind="date"),
        Column(_("What happened"), lambda e: _(FACTS.get(e["fact"], e["fact"]))),
        Column(_("Principal (yuan)"), _principal_amount, kind="amount"),
        Column(_("Interest or fee (yuan)"), _income_amount, kind="amount"),
        Column(_("Outstanding (yuan)"), lambda e: fen(e["figures"].get("outstanding_fen")), kind="amount"),
        Column(_("State"), lambda e: named(LOAN_STATES, e["figures"].get("state"))),
        Column(_("Details"), _details, link=lambda e: _claim_link(scheme_id, e)),
        Column(_("Recorded by"), _recorded_by),
        Column(_("Recorded at"), lambda e: e["recorded_at"], kind="instant"),
    ]


def _principal_amount(e: dict[str, Any]) -> str | None:
    data = e["data"]
    if e["fact"] == "Enrolled":
        return fen(data.get("principal_fen"))
    if e["fact"] in ("Disbursed",):
        return fen(data.get("amount_fen"))
    if e["fact"] == "Repaid":
        return fen(data.get("principal_fen"))
    if e["fact"] in ("Defaulted", "WrittenOff"):
        return fen(data.get("outstanding_fen"))
    return None


def _income_amount(e: dict[str, Any]) -> str | None:
    if e["fact"] == "Repaid":
        return fen(e["data"].get("interest_fen"))
    if e["fact"] in ("PremiumRecorded", "GuaranteeFeeRecorded"):
        return fen(e["data"].get("amount_fen"))
    return None


def _details(e: dict[str, Any]) -> str | None:
    data = e["data"]
    fact = e["fact"]
    if fact == "Enrolled":
        return _("rule version {n}").format(n=data.get("rule_version"))
    if fact == "Defaulted":
        return _("{days} days overdue; outstanding at default").format(days=data.get("overdue_days"))
    if fact == "WrittenOff":
        return _("outstanding written off")
    if fact == "ClaimFiled":
        return data.get("claim_id")
    if fact in ("PremiumRecorded", "GuaranteeFeeRecorded"):
        return _("paid by {party}").format(party=data.get("party_id"))
    if fact.endswith("Reversed"):
        return _("reverses {fact_id}: {reason}").format(
            fact_id=data.get("fact_id"), reason=data.get("reason")
        )
    if fact == "Withdrawn":
        return data.get("reason") or None
    return None


def _claim_link(scheme_id: str, e: dict[str, Any]) -> str | None:
    claim_id = e["data"].get("claim_id") if e["fact"] == "ClaimFiled" else None
    return claim_page_path(scheme_id, claim_id) if claim_id else None


def _recorded_by(e: dict[str, Any]) -> str:
    """Who recorded a fact: the principal, and its party (or, without one, its role)."""
    return f"{e['principal_id']} · {e.get('party_id') or role_name(e['role'])}"


def claim_columns(scheme_id: str) -> list[Column]:
    return [
        Column(_("Claim"), lambda c: c["claim_id"], link=lambda c: claim_page_path(scheme_id, c["claim_id"])),
        Column(_("Status"), lambda c: named(CLAIM_STATUSES, c["status"])),
        Column(_("Claimed (yuan)"), lambda c: c["claimed"], kind="amount"),
        Column(_("Approved (yuan)"), lambda c: c.get("approved"), kind="amount"),
        Column(_("Filed on"), lambda c: c["filed_on"], kind="date"),
        Column(_("Approved on"), lambda c: c.get("approved_on"), kind="date"),
        Column(_("Reason for rejection"), lambda c: c.get("reason")),
    ]


def party_columns() -> list[Column]:
    return [
        Column(_("Party"), _party),
        Column(_("Share"), lambda p: i18n.percent(str(Decimal(p["bp"]) / 10_000))),
        Column(_("Allocated (yuan)"), lambda p: p["allocated"], kind="amount"),
        Column(_("Paid to the bank (yuan)"), lambda p: p["paid"], kind="amount"),
        Column(_("Still owed to the bank (yuan)"), lambda p: p["owed_to_bank"], kind="amount"),
        Column(_("Recovery share (yuan)"), lambda p: p["recovered"], kind="amount"),
        Column(_("Owed back by the bank (yuan)"), lambda p: p["owed_by_bank"], kind="amount"),
    ]


def _party(p: dict[str, Any]) -> str:
    if p.get("key") == "bank":
        return _("{party} (the bank's own share)").format(party=p["party_id"])
    return p["party_id"]


@dataclass
class LoanView:
    loan: dict[str, Any] | None  # as it stands (or stood, as of); None: not enrolled by then
    history: list[dict[str, Any]]
    claims: list[dict[str, Any]]


async def read_loan(a: Api, scheme_id: str, bank_id: str, loan_ref: str, as_of: AsOf) -> LoanView:
    """The loan, its history and its claims, now or as of: the loan is read live first, so that a
    loan the principal may not see is refused (404) whatever the date asked."""
    path = api_loan(scheme_id, bank_id, loan_ref)
    loan = await a.get(path)
    history = await a.get(f"{path}/history")
    if as_of:
        try:
            found = await a.get(
                f"/v1/schemes/{quote(scheme_id)}/loans",
                bank_id=bank_id,
                loan_ref=loan_ref,
                limit=MATCH_LIMIT,
                **as_of.params,
            )
        except Refused as refused:
            if refused.status == 422:
                as_of.error = refusal_message(refused)
                return LoanView(None, [], [])
            if refused.code != "unknown_scheme":
                raise
            found = {"items": []}  # the scheme did not exist yet then
        then = next((item for item in found["items"] if item["loan_ref"] == loan_ref), None)
        if then is None:
            return LoanView(None, [], [])
        history = [e for e in history if e["version"] <= then["version"]]
        loan = then
    claim_ids = [e["data"]["claim_id"] for e in history if e["fact"] == "ClaimFiled"]
    if not claim_ids:
        return LoanView(loan, history, [])
    if as_of:
        listed = await a.pages(f"/v1/schemes/{quote(scheme_id)}/claims", **as_of.params)
        by_id = {c["claim_id"]: c for c in listed}
        claims = [by_id[c] for c in claim_ids if c in by_id]
    else:
        claims = [
            await a.get(f"/v1/schemes/{quote(scheme_id)}/claims/{quote(c, safe=':')}") for c in claim_ids
        ]
    return LoanView(loan, history, claims)


def owed_on(claim: dict[str, Any]) -> dict[str, str]:
    """What the bank has been paid and is still owed on a claim: the sums of the API's per-party
    figures."""
    totals = {"paid": Decimal(0), "owed_to_bank": Decimal(0), "owed_by_bank": Decimal(0)}
    for party in claim.get("parties") or []:
        for name in totals:
            try:
                totals[name] += Decimal(party[name])
            except (InvalidOperation, KeyError, TypeError):
                continue
    return {name: f"{value:.2f}" for name, value in totals.items()}


async def render_loan(
    request: Request,
    session: Session,
    scheme_id: str,
    bank_id: str,
    loan_ref: str,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    as_of = AsOf.of(request)
    async with api(request, session) as a:
        view = await read_loan(a, scheme_id, bank_id, loan_ref, as_of)
    timeline = timeline_columns(scheme_id)
    claims = claim_columns(scheme_id)
    fmt = wants_download(request)
    if fmt and request.method == "GET":
        table = request.query_params.get("table")
        if table == "claims":
            return download(fmt, f"claims-{loan_ref}", claims, view.claims)
        if table == "parties":
            rows = [p for c in view.claims for p in c.get("parties") or []]
            return download(fmt, f"shares-{loan_ref}", party_columns(), rows)
        return download(fmt, f"loan-{loan_ref}-timeline", timeline, view.history)
    loan = view.loan
    current = next((c for c in view.claims if loan and c["claim_id"] == loan.get("current_claim_id")), None)
    # The loan's bank may file a claim on it once it has defaulted, while it has no claim or its last
    # was rejected; a refused filing keeps its form (with the refusal) whatever the loan is now.
    mine = loan is not None and not as_of and is_loans_bank(session, bank_id)
    defaulted = loan is not None and loan.get("state") == "defaulted"
    open_claim = current is not None and current.get("status") != "rejected"
    filing = mine and (bool(errors) or (defaulted and not open_claim))
    waiting = mine and not filing and defaulted and open_claim
    return page(
        request,
        "loans/loan.html",
        session=session,
        title=_("Loan {loan_ref}").format(loan_ref=loan_ref),
        scheme_id=scheme_id,
        status=status,
        loan=loan,
        bank_id=bank_id,
        loan_ref=loan_ref,
        as_of=as_of,
        live_url=loan_page_path(scheme_id, bank_id, loan_ref),
        timeline=timeline,
        history=view.history,
        claims=claims,
        claim_rows=view.claims,
        party_columns=party_columns(),
        owed_on=owed_on,
        state_name=named(LOAN_STATES, loan.get("state")) if loan else None,
        cover=cover_text(loan) if loan else None,
        rate=rate(loan.get("rate_bp")) if loan else None,
        table_url=lambda name: lambda **changes: url_with(request, table=name, **changes),
        claim_page=lambda claim_id: claim_page_path(scheme_id, claim_id),
        filing=filing,
        waiting=waiting,
        current_claim=current,
        claim_status=lambda c: named(CLAIM_STATUSES, c.get("status")),
        values=values or {"claimed": "", "filed_on": datetime.now(i18n.CHINA).date().isoformat()},
        errors=errors or FormErrors.none(),
        idempotency_key=new_idempotency_key(),
        loans_url=loans_path(scheme_id),
        claims_url=f"/schemes/{quote(scheme_id)}/claims",
        owed_url=f"/schemes/{quote(scheme_id)}/owed",
        tapes_url=f"/schemes/{quote(scheme_id)}/tapes",
        file_url=f"{loan_page_path(scheme_id, bank_id, loan_ref)}/claims",
    )


@router.get("/schemes/{scheme_id}/loans/{bank_id}/{loan_ref}", response_class=HTMLResponse)
async def loan_page(
    request: Request, scheme_id: str, bank_id: str, loan_ref: str, session: SessionDep
) -> Response:
    return await render_loan(request, session, scheme_id, bank_id, loan_ref)


CLAIM_FIELDS = ("claimed", "filed_on")
CLAIM_CODE_FIELDS = {
    "claim_exceeds_outstanding": "claimed",
    "invalid_amount": "claimed",
    "claim_window_closed": "filed_on",
    "invalid_date": "filed_on",
}


def claim_errors(refused: Refused) -> FormErrors:
    """A refused claim: each bad field's message beside it (the API's errors of a malformed body,
    or the rule the ledger names), the rest as the form's message; in the user's language."""
    fields: dict[str, str] = {}
    for error in refused.problem.get("errors") or []:
        name = str(error.get("field", "")).removeprefix("body.")
        if name in CLAIM_FIELDS and name not in fields:
            fields[name] = explain(str(error.get("code", refused.code)), str(error.get("message", "")))
    others = [
        e
        for e in refused.problem.get("errors") or []
        if str(e.get("field", "")).removeprefix("body.") not in CLAIM_FIELDS
    ]
    if not refused.problem.get("errors") and refused.code in CLAIM_CODE_FIELDS:
        fields[CLAIM_CODE_FIELDS[refused.code]] = refusal_message(refused)
    general = None if fields and not others else refusal_message(refused)
    return FormErrors(fields, general)


def plain_amount(text: str) -> str:
    """An amount as typed, with thousands separators taken out ("1,234.50" → "1234.50"); anything
    else as it is, for the API to judge."""
    text = text.strip()
    return text.replace(",", "") if THOUSANDS.fullmatch(text) else text


@router.post("/schemes/{scheme_id}/loans/{bank_id}/{loan_ref}/claims", response_class=HTMLResponse)
async def file_claim(
    request: Request, scheme_id: str, bank_id: str, loan_ref: str, session: FormSession
) -> Response:
    form = await request.form()
    values = {name: str(form.get(name) or "") for name in CLAIM_FIELDS}
    key = str(form.get("idempotency_key") or "") or None
    body = {"claimed": plain_amount(values["claimed"]), "filed_on": values["filed_on"].strip()}
    try:
        async with api(request, session) as a:
            written = await a.post(
                f"{api_loan(scheme_id, bank_id, loan_ref)}/claims", body, idempotency_key=key
            )
    except Refused as refused:
        if refused.status in (401, 403, 404) or refused.status >= 500:
            raise  # not this principal's to file: the error page says so
        return await render_loan(
            request,
            session,
            scheme_id,
            bank_id,
            loan_ref,
            values=values,
            errors=claim_errors(refused),
            status=refused.status,
        )
    session.flash.append(
        (
            "ok",
            _("Claim {claim_id} filed for {amount} yuan; it now awaits the fund manager's review.").format(
                claim_id=written.get("claim_id"), amount=i18n.yuan(body["claimed"])
            ),
        )
    )
    return redirect(loan_page_path(scheme_id, bank_id, loan_ref))


# Loan tapes -------------------------------------------------------------------------------


def layout_columns() -> list[Column]:
    return [
        Column(_("Column"), lambda r: r[0], kind="int"),
        Column(_("Header"), lambda r: r[1]),
        Column(_("Holds"), lambda r: _(r[2])),
        Column(_("Format"), lambda r: _(r[3])),
        Column(_("Required"), lambda r: _(REQUIRED.get(r[1], REQUIRED_ALWAYS))),
        Column(_("Example"), lambda r: r[4]),
    ]


def layout_rows() -> list[tuple[int, str, str, str, str]]:
    rows = []
    for n, name in enumerate(TAPE_COLUMNS, start=1):
        holds, form, example = TAPE_LAYOUT.get(name, (name, "", ""))
        rows.append((n, name, holds, form, example))
    return rows


def refused_columns() -> list[Column]:
    return [
        Column(_("Line"), lambda r: r["row"] or None, kind="int"),
        Column(_("Loan reference in the file"), lambda r: r.get("loan_ref")),
        Column(_("Column"), lambda r: column_label(r)),
        Column(_("Code"), lambda r: r["code"]),
        Column(_("Reason"), lambda r: explain(r["code"], r["message"])),
    ]


def references_by_line(data: bytes) -> dict[int, str]:
    """Each line's loan reference (its first cell) in the file the bank sent, read as the ledger
    reads it (ledger/tape.py: the csv module's line numbers), to name the loan of a refused row."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return {}
    reader = csv.reader(io.StringIO(text, newline=""))
    found: dict[int, str] = {}
    try:
        for cells in reader:
            if cells and cells[0].strip():
                found[reader.line_num] = cells[0].strip()[:REFERENCE_SHOWN_CHARS]
    except csv.Error:
        pass
    return found


def column_of(row: dict[str, Any]) -> str | None:
    """The tape column a refused row's problem is in: the one the API names, else the one its
    message starts with, else the one its code concerns."""
    named_field = row.get("field")
    if isinstance(named_field, str) and named_field in TAPE_COLUMNS:
        return named_field
    message = str(row.get("message", ""))
    for alias, column in MESSAGE_COLUMNS.items():
        if message.startswith(alias + " "):
            return column
    first = message.split(" ", 1)[0]
    if first in TAPE_COLUMNS:
        return first
    return CODE_COLUMNS.get(str(row.get("code")))


def column_label(row: dict[str, Any]) -> str | None:
    column = column_of(row)
    if column is None:
        return None
    return f"{_(TAPE_LAYOUT[column][0])} ({column})" if column in TAPE_LAYOUT else column


def tapes_page(
    request: Request,
    session: Session,
    scheme_id: str,
    *,
    errors: FormErrors | None = None,
    refused: list[dict[str, Any]] | None = None,
    refused_total: int = 0,
    file_name: str = "",
    status: int = 200,
) -> Response:
    return page(
        request,
        "loans/tapes.html",
        session=session,
        title=_("Upload a loan tape"),
        scheme_id=scheme_id,
        status=status,
        is_bank=session.actor.role == Role.BANK,
        bank_id=session.actor.party_id,
        layout=layout_columns(),
        layout_rows=layout_rows(),
        errors=errors or FormErrors.none(),
        refused=refused,
        refused_total=refused_total,
        refused_json=json.dumps(refused or [], ensure_ascii=False),
        refused_columns=refused_columns(),
        file_name=file_name,
        idempotency_key=new_idempotency_key(),
        header_row=",".join(TAPE_COLUMNS),
        template_url=f"/schemes/{quote(scheme_id)}/tapes/template.csv",
        refused_url=f"/schemes/{quote(scheme_id)}/tapes/refused-rows",
        action=f"/schemes/{quote(scheme_id)}/tapes",
        loans_url=loans_path(scheme_id),
        claims_url=f"/schemes/{quote(scheme_id)}/claims",
    )


@router.get("/schemes/{scheme_id}/tapes", response_class=HTMLResponse)
async def tapes(request: Request, scheme_id: str, session: SessionDep) -> Response:
    fmt = wants_download(request)
    if fmt:
        return download(fmt, "loan-tape-layout", layout_columns(), layout_rows())
    async with api(request, session) as a:
        await a.get(f"/v1/schemes/{quote(scheme_id)}")  # the scheme, if this principal may see it
    return tapes_page(request, session, scheme_id)


@router.get("/schemes/{scheme_id}/tapes/template.csv")
async def tape_template(request: Request, scheme_id: str, session: SessionDep) -> Response:
    """The tape's header row, as a UTF-8 CSV a spreadsheet opens with its Chinese intact."""
    out = io.StringIO()
    out.write("\ufeff")
    csv.writer(out, lineterminator="\r\n").writerow(TAPE_COLUMNS)
    return Response(
        out.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="loan-tape-template.csv"'},
    )


@router.post("/schemes/{scheme_id}/tapes", response_class=HTMLResponse)
async def upload_tape(request: Request, scheme_id: str, session: FormSession) -> Response:
    form = await request.form()
    upload = form.get("file")
    key = str(form.get("idempotency_key") or "") or None
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors = FormErrors({"file": _("Choose the tape's CSV file to upload.")}, None)
        return tapes_page(request, session, scheme_id, errors=errors, status=422)
    data = await upload.read()
    bank_id = session.actor.party_id or ""
    path = f"/v1/schemes/{quote(scheme_id)}/banks/{quote(bank_id)}/loan-tapes"
    try:
        async with api(request, session) as a:
            answer = await a.call(
                "POST",
                path,
                files={"file": (upload.filename, data, "text/csv")},
                headers={"Idempotency-Key": key} if key else None,
            )
    except Refused as refused:
        if refused.status == 401 or refused.status >= 500:
            raise
        figures = refused.problem.get("figures") or {}
        refs = references_by_line(data)
        rows = [
            r | {"loan_ref": refs.get(r.get("row"))} for r in figures.get("rows") or [] if isinstance(r, dict)
        ]
        if rows:
            message = _(
                "The tape was refused: nothing was enrolled. "
                "Correct the rows below and upload the whole tape again."
            )
            return tapes_page(
                request,
                session,
                scheme_id,
                errors=FormErrors({}, message),
                refused=rows[:REFUSED_ROWS_MAX],
                refused_total=int(figures.get("refused_rows") or len(rows)),
                file_name=upload.filename,
                status=refused.status,
            )
        errors = FormErrors({"file": refusal_message(refused)}, None)
        return tapes_page(
            request, session, scheme_id, errors=errors, file_name=upload.filename, status=refused.status
        )
    details = (answer.json() or {}).get("details") or {}
    replayed = answer.headers.get("Idempotent-Replayed") == "true"
    message = _("Tape {file} enrolled: {loans} loans, {principal} yuan of principal in all.").format(
        file=upload.filename, loans=details.get("loans", 0), principal=i18n.yuan(details.get("principal"))
    )
    if replayed:
        message += " " + _("(This upload had already been recorded: nothing was enrolled twice.)")
    session.flash.append(("ok", message))
    return redirect(f"/schemes/{quote(scheme_id)}/tapes")


@router.post("/schemes/{scheme_id}/tapes/refused-rows")
async def refused_rows_download(request: Request, scheme_id: str, session: FormSession) -> Response:
    """The refused rows just shown, as CSV or XLSX: the page sends back what the API answered (its
    own rows; the file is made safe to open whatever they hold)."""
    form = await request.form()
    fmt = str(form.get("format") or "csv")
    try:
        sent = json.loads(str(form.get("rows") or "[]"))
    except ValueError:
        sent = []
    rows = [
        {
            "row": r.get("row") if isinstance(r.get("row"), int) else None,
            "code": str(r.get("code", "")),
            "message": str(r.get("message", "")),
        }
        | {name: r[name] for name in ("field", "loan_ref") if isinstance(r.get(name), str)}
        for r in (sent if isinstance(sent, list) else [])[:REFUSED_ROWS_MAX]
        if isinstance(r, dict)
    ]
    return download(fmt if fmt in ("csv", "xlsx") else "csv", "refused-rows", refused_columns(), rows)
