"""Loans: enrolment (one, or a whole tape), their facts, and what a party may see of them."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from api.deps import Cursor, Limit, Principal, ReadCall, SystemDep, WriteCall, fingerprint
from api.routes import READ, READ_ONE, WRITE
from api.schemas.common import Ref, Written, decode_cursor, encode_cursor, yuan
from api.schemas.loans import (
    CoverIncomeCreate,
    DefaultCreate,
    DisbursementCreate,
    HistoryEntryPublic,
    LoanCreate,
    LoanPublic,
    RepaymentCreate,
    WithdrawalCreate,
    WriteOffCreate,
)
from api.schemas.reports import LoansPublic
from ledger import access
from ledger.actors import Actor
from ledger.commands import (
    DeclareDefault,
    Disburse,
    EnrolLoan,
    EnrolTape,
    RecordFee,
    RecordPremium,
    Repay,
    Withdraw,
    WriteOff,
)
from ledger.domain.loan import STATES as loan_states
from ledger.errors import Forbidden, InvalidRequest
from ledger.service import Enrolment
from ledger.service.queries import HistoryEntry
from ledger.tape import COLUMNS, TAPE_BYTES_MAX, read_tape
from ledger.text import NAME_CHARS_MAX, character_problem, shown
from projections.models import loans as loan_model, schemes as scheme_model

router = APIRouter(prefix="/v1/schemes/{scheme_id}", tags=["loans"])
TAPE_ROW = "HB2019-0001,鹤壁星河电子科技有限公司,91350100M000100Y43,tech_loan,ip_pledge,2000000.00,435,24,2019-02-01,direct,"  # noqa: E501
TAPE_EXAMPLE = ",".join(COLUMNS) + "\n" + TAPE_ROW + "\n"
USCC_PART_PATTERN = r"^[0-9A-Za-z]{1,18}$"  # the start of a USCC, to search by


def loan_path(scheme_id: str, bank_id: str, loan_ref: str) -> str:
    return f"/v1/schemes/{scheme_id}/banks/{bank_id}/loans/{loan_ref}"


@router.post(
    "/banks/{bank_id}/loans",
    status_code=201,
    responses=WRITE,
    response_model=Written,
    summary="Enrol a loan (its bank)",
)
async def enrol_loan(scheme_id: Ref, bank_id: Ref, body: LoanCreate, call: WriteCall):
    fields = {name: getattr(body, name) for name in LoanCreate.model_fields} | {"tags": tuple(body.tags)}
    receipt = await call.handle(EnrolLoan(scheme_id, bank_id, Enrolment(**fields)))
    return call.answer(receipt, {"loan": loan_path(scheme_id, bank_id, body.loan_ref)})


@router.post(
    "/banks/{bank_id}/loan-tapes",
    status_code=201,
    responses=WRITE,
    response_model=Written,
    summary="Enrol a bank's loan tape (CSV, UTF-8): every row, or none with a report of each bad row",
    description=(
        "Send the tape as a `multipart/form-data` upload with the CSV in the field `file` (as a "
        "generated client or a browser form does), or as the raw body with `Content-Type: text/csv`. "
        "Its columns are, in this order: `" + "`, `".join(COLUMNS) + "`. An `Idempotency-Key` "
        "covers the CSV's bytes, however they were sent."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": "the tape: CSV, UTF-8, a header row then one loan a row",
                            }
                        },
                    },
                    "example": {"file": TAPE_EXAMPLE},
                }
            },
        }
    },
)
async def upload_loan_tape(scheme_id: Ref, bank_id: Ref, request: Request, call: WriteCall):
    # A key revoked since it was last seen is refused before a tape of up to 64 MB is read.
    await run_in_threadpool(call.confirm)
    data = await _tape_bytes(request)

    call.call = replace(call.call, fingerprint=fingerprint(request, data))
    # Reading a large tape takes a second and enrolling it more: both off the event loop (the
    # reading in a worker thread, the enrolling in the pipeline's), so no other request waits.
    tape = await run_in_threadpool(read_tape, data)
    receipt = await call.handle(EnrolTape(scheme_id, bank_id, tape))
    return call.answer(receipt, {"loans": f"/v1/schemes/{scheme_id}/loans?bank_id={bank_id}"})


async def _tape_bytes(request: Request) -> bytes:
    """The CSV of a tape: the `file` field of a multipart upload, or the raw body."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return await request.body()
    try:
        form = await request.form(max_files=1, max_fields=1, max_part_size=TAPE_BYTES_MAX)
    except HTTPException as error:  # Starlette's answer to a malformed multipart body
        raise InvalidRequest(f"the multipart upload cannot be read: {error.detail}", field="file") from None
    upload = form.get("file")
    if upload is None:
        raise InvalidRequest("a multipart tape upload needs its CSV in the field 'file'", field="file")
    return upload.encode() if isinstance(upload, str) else await upload.read()


@router.get(
    "/loans",
    response_model=LoansPublic,
    responses=READ,
    summary="Loans this key may see: a bank its own, an insurer or guarantor those it covers",
)
def list_loans(
    scheme_id: Ref,
    read: ReadCall,
    limit: Limit = 100,
    cursor: Cursor = None,
    bank_id: Annotated[Ref | None, Query()] = None,
    state: Annotated[Literal[loan_states] | None, Query()] = None,
    loan_ref: Annotated[
        Ref | None, Query(description="loans whose reference starts with this (letters in any case)")
    ] = None,
    borrower_name: Annotated[
        str | None,
        Query(
            max_length=NAME_CHARS_MAX,
            description="loans whose borrower's name holds this (not for a key that may not see borrowers)",
        ),
    ] = None,
    borrower_uscc: Annotated[
        str | None,
        Query(
            pattern=USCC_PART_PATTERN,
            description="loans whose borrower's USCC starts with this (not for a key that may not see "
            "borrowers)",
        ),
    ] = None,
) -> LoansPublic:
    after = decode_cursor(cursor, (str, str))
    search = _borrower_search(read.actor, borrower_name, borrower_uscc)
    with read.engine.connect() as conn:
        scheme_model.scheme_row(conn, scheme_id)
        rows = loan_model.page(
            conn,
            scheme_id,
            access.loans(read.actor),
            bank_id=bank_id,
            state=state,
            loan_ref=loan_ref,
            **search,
            after=(after[0], after[1]) if after else None,
            limit=limit,
        )
    items = [_from_row(r, read.actor) for r in rows]
    last = [rows[-1]["bank_id"], rows[-1]["loan_ref"]] if len(rows) == limit else None
    return LoansPublic(items=items, next_cursor=encode_cursor(last) if last else None)


def _borrower_search(actor: Actor, name: str | None, uscc: str | None) -> dict[str, str | None]:
    """A search by borrower, refused to a key that may not see borrowers (which loans match would
    tell it who borrowed)."""
    if not name and not uscc:
        return {}
    if not access.sees_borrowers(actor):
        raise Forbidden(f"a {actor.role} principal may not search loans by borrower", role=actor.role.value)
    if name and (problem := character_problem(name)) is not None:
        raise InvalidRequest(f"borrower_name {shown(name)} {problem}", field="borrower_name")
    return {"borrower_name": (name.strip() or None) if name else None, "borrower_uscc": uscc or None}


def _from_row(r: dict, actor: Actor) -> LoanPublic:
    """A loan as this actor may see it: a government party sees no borrower (ledger/actors.py)."""
    borrower = access.sees_borrowers(actor)
    return LoanPublic(
        scheme_id=r["scheme_id"],
        bank_id=r["bank_id"],
        loan_ref=r["loan_ref"],
        borrower_name=r["borrower_name"] if borrower else None,
        borrower_uscc=r["borrower_uscc"] if borrower else None,
        product=r["product"],
        tags=r["tags"],
        principal=yuan(r["principal_fen"]),
        rate_bp=r["rate_bp"],
        term_months=r["term_months"],
        cover=r["cover"],
        cover_party_id=r["cover_party_id"],
        rule_version=r["rule_version"],
        state=r["state"],
        enrolled_on=str(r["enrolled_on"]),
        disbursed_on=_day(r["disbursed_on"]),
        defaulted_on=_day(r["defaulted_on"]),
        principal_repaid=yuan(r["principal_repaid_fen"]),
        interest_repaid=yuan(r["interest_repaid_fen"]),
        outstanding=yuan(r["principal_fen"] - r["principal_repaid_fen"]),
        outstanding_at_default=yuan(r["outstanding_at_default_fen"]),
        current_claim_id=r["current_claim_id"],
        version=r["version"],
        links={"self": loan_path(r["scheme_id"], r["bank_id"], r["loan_ref"])},
    )


def _day(value: object) -> str | None:
    return None if value is None else str(value)


@router.get(
    "/banks/{bank_id}/loans/{loan_ref}",
    response_model=LoanPublic,
    responses=READ_ONE,
    summary="One loan as recorded now; its version is the ETag to send as If-Match",
)
def get_loan(
    scheme_id: Ref, bank_id: Ref, loan_ref: Ref, system: SystemDep, actor: Principal
) -> JSONResponse:
    loan = system.ledger.loan(actor, scheme_id, bank_id, loan_ref)
    row = {**vars(loan), "version": loan.version}  # the loan's declared state, as a row of the read model
    body = _from_row(row, actor)
    body.links |= {"history": f"{body.links['self']}/history"}
    return JSONResponse(body.model_dump(mode="json"), headers={"ETag": f'"{loan.version}"'})


@router.get(
    "/banks/{bank_id}/loans/{loan_ref}/history",
    response_model=list[HistoryEntryPublic],
    responses=READ,
    summary="Every fact of the loan, in order, with who recorded it",
)
def get_loan_history(
    scheme_id: Ref, bank_id: Ref, loan_ref: Ref, system: SystemDep, actor: Principal
) -> list[HistoryEntryPublic]:
    return [history_entry(e) for e in system.ledger.loan_history(actor, scheme_id, bank_id, loan_ref)]


def history_entry(e: HistoryEntry) -> HistoryEntryPublic:
    return HistoryEntryPublic(
        version=e.version,
        fact=e.fact,
        business_date=str(e.business_date),
        recorded_at=e.recorded_at.isoformat(),
        principal_id=e.actor.principal_id,
        role=e.actor.role.value,
        party_id=e.actor.party_id,
        request_id=e.actor.request_id,
        data={
            k: v if isinstance(v, (str, int, bool, type(None), list, dict)) else str(v)
            for k, v in e.data.items()
        },
        figures=e.figures,
    )


@router.post(
    "/banks/{bank_id}/loans/{loan_ref}/disbursement",
    status_code=201,
    responses=WRITE,
    response_model=Written,
    summary="Record the disbursement (its bank)",
)
async def record_disbursement(
    scheme_id: Ref, bank_id: Ref, loan_ref: Ref, body: DisbursementCreate, call: WriteCall
):
    receipt = await call.handle(Disburse(scheme_id, bank_id, loan_ref, body.amount, body.disbursed_on))
    return call.answer(receipt, {"loan": loan_path(scheme_id, bank_id, loan_ref)})


@router.post(
    "/banks/{bank_id}/loans/{loan_ref}/repayments",
    status_code=201,
    responses=WRITE,
    response_model=Written,
    summary="Record a repayment (its bank)",
)
async def record_repayment(
    scheme_id: Ref, bank_id: Ref, loan_ref: Ref, body: RepaymentCreate, call: WriteCall
):
    receipt = await call.handle(
        Repay(scheme_id, bank_id, loan_ref, body.principal, body.interest, body.repaid_on)
    )
    return call.answer(receipt, {"loan": loan_path(scheme_id, bank_id, loan_ref)})


@router.post(
    "/banks/{bank_id}/loans/{loan_ref}/default",
    status_code=201,
    responses=WRITE,
    response_model=Written,
    summary="Declare the loan in default (its bank)",
)
async def declare_default(scheme_id: Ref, bank_id: Ref, loan_ref: Ref, body: DefaultCreate, call: WriteCall):
    receipt = await call.handle(
        DeclareDefault(scheme_id, bank_id, loan_ref, body.overdue_days, body.defaulted_on)
    )
    return call.answer(receipt, {"loan": loan_path(scheme_id, bank_id, loan_ref)})


@router.post(
    "/banks/{bank_id}/loans/{loan_ref}/withdrawal",
    status_code=201,
    responses=WRITE,
    response_model=Written,
    summary="Withdraw the loan before disbursement (its bank)",
)
async def withdraw_loan(scheme_id: Ref, bank_id: Ref, loan_ref: Ref, body: WithdrawalCreate, call: WriteCall):
    receipt = await call.handle(Withdraw(scheme_id, bank_id, loan_ref, body.withdrawn_on, body.reason))
    return call.answer(receipt, {"loan": loan_path(scheme_id, bank_id, loan_ref)})


@router.post(
    "/banks/{bank_id}/loans/{loan_ref}/write-off",
    status_code=201,
    responses=WRITE,
    response_model=Written,
    summary="Write the loan off once its claim is settled or rejected (its bank, a fund manager)",
)
async def write_off_loan(scheme_id: Ref, bank_id: Ref, loan_ref: Ref, body: WriteOffCreate, call: WriteCall):
    receipt = await call.handle(WriteOff(scheme_id, bank_id, loan_ref, body.written_off_on))
    return call.answer(receipt, {"loan": loan_path(scheme_id, bank_id, loan_ref)})


@router.post(
    "/banks/{bank_id}/loans/{loan_ref}/premiums",
    status_code=201,
    responses=WRITE,
    response_model=Written,
    summary="Record a premium (the loan's insurer, or a fund manager naming it)",
)
async def record_premium(
    scheme_id: Ref, bank_id: Ref, loan_ref: Ref, body: CoverIncomeCreate, call: WriteCall
):
    receipt = await call.handle(
        RecordPremium(scheme_id, bank_id, loan_ref, body.amount, body.paid_on, body.party_id)
    )
    return call.answer(receipt, {"loan": loan_path(scheme_id, bank_id, loan_ref)})


@router.post(
    "/banks/{bank_id}/loans/{loan_ref}/fees",
    status_code=201,
    responses=WRITE,
    response_model=Written,
    summary="Record a guarantee fee (the loan's guarantor, or a fund manager naming it)",
)
async def record_fee(scheme_id: Ref, bank_id: Ref, loan_ref: Ref, body: CoverIncomeCreate, call: WriteCall):
    receipt = await call.handle(
        RecordFee(scheme_id, bank_id, loan_ref, body.amount, body.paid_on, body.party_id)
    )
    return call.answer(receipt, {"loan": loan_path(scheme_id, bank_id, loan_ref)})
