"""Claims: filing, the fund manager's review, settlement payments and recoveries."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.deps import Cursor, Limit, Principal, ReadCall, SystemDep, WriteCall
from api.routes import READ, READ_ONE, WRITE
from api.routes.loans import history_entry, loan_path
from api.schemas.claims import (
    ApprovalCreate,
    ClaimCreate,
    ClaimPartyPublic,
    ClaimPublic,
    PaymentCreate,
    RecoveryCreate,
    RecoveryPaymentCreate,
    RejectionCreate,
)
from api.schemas.common import Ref, Written, decode_cursor, encode_cursor, yuan
from api.schemas.loans import HistoryEntryPublic
from api.schemas.reports import ClaimsPublic
from ledger import access
from ledger.commands import (
    ApproveClaim,
    FileClaim,
    PayRecoveryPart,
    PaySettlement,
    RecordRecovery,
    RejectClaim,
)
from ledger.domain import Claim
from ledger.domain.claim import STATUSES as claim_statuses
from projections.models import claims as claim_model, schemes as scheme_model

router = APIRouter(prefix="/v1/schemes/{scheme_id}", tags=["claims"])


def claim_path(scheme_id: str, claim_id: str) -> str:
    return f"/v1/schemes/{scheme_id}/claims/{claim_id}"


@router.post(
    "/banks/{bank_id}/loans/{loan_ref}/claims",
    status_code=201,
    responses=WRITE,
    response_model=Written,
    summary="File a compensation claim on a defaulted loan (its bank)",
)
async def file_claim(scheme_id: Ref, bank_id: Ref, loan_ref: Ref, body: ClaimCreate, call: WriteCall):
    receipt = await call.handle(FileClaim(scheme_id, bank_id, loan_ref, body.claimed, body.filed_on))
    return call.answer(
        receipt,
        {
            "claim": claim_path(scheme_id, receipt.claim_id or ""),
            "loan": loan_path(scheme_id, bank_id, loan_ref),
        },
    )


@router.get(
    "/claims",
    response_model=ClaimsPublic,
    responses=READ,
    summary="The claims queue, oldest first: a bank sees its own claims, a party those it shares in",
)
def list_claims(
    scheme_id: Ref,
    read: ReadCall,
    limit: Limit = 100,
    cursor: Cursor = None,
    status: Annotated[
        Literal[claim_statuses] | Literal["open"] | None,
        Query(description="only claims at this status; `open`: filed or awaiting the second approval"),
    ] = None,
) -> ClaimsPublic:
    after = decode_cursor(cursor, (date, str))
    with read.engine.connect() as conn:
        scheme_model.scheme_row(conn, scheme_id)
        rows = [
            SimpleNamespace(**r)
            for r in claim_model.page(
                conn,
                scheme_id,
                read.today,
                access.claims(read.actor),
                status=status,
                after=(after[0], after[1]) if after else None,
                limit=limit,
            )
        ]
    items = [
        {
            "claim_id": r.claim_id,
            "bank_id": r.bank_id,
            "loan_ref": r.loan_ref,
            "status": r.status,
            "claimed": yuan(r.claimed_fen),
            "approved": yuan(r.approved_fen),
            "filed_on": str(r.filed_on),
            "age_days": (read.today - r.filed_on).days,
            "links": {"self": claim_path(scheme_id, r.claim_id)},
        }
        for r in rows
    ]
    last = [str(rows[-1].filed_on), rows[-1].claim_id] if len(rows) == limit else None
    return ClaimsPublic(items=items, next_cursor=encode_cursor(last) if last else None)


@router.get(
    "/claims/{claim_id}",
    response_model=ClaimPublic,
    responses=READ_ONE,
    summary="One claim as recorded now; its version is the ETag to send as If-Match",
)
def get_claim(scheme_id: Ref, claim_id: str, system: SystemDep, actor: Principal) -> JSONResponse:
    claim = system.ledger.claim(actor, scheme_id, claim_id)
    body = claim_public(scheme_id, claim)
    return JSONResponse(body.model_dump(mode="json"), headers={"ETag": f'"{claim.version}"'})


def claim_public(scheme_id: str, claim: Claim) -> ClaimPublic:
    first = claim.first_approval
    parties = [
        ClaimPartyPublic(
            party_id=p["party_id"],
            key=p["key"],
            bp=p["bp"],
            allocated=yuan(p["allocated_fen"]),
            paid=yuan(claim.paid.get(p["party_id"], 0)),
            owed_to_bank=yuan(claim.owed_to_bank(p["party_id"])),
            recovered=yuan(claim.recovered.get(p["party_id"], 0)),
            owed_by_bank=yuan(claim.owed_by_bank(p["party_id"])),
        )
        for p in claim.parts
    ]
    path = claim_path(scheme_id, claim.claim_id)
    return ClaimPublic(
        scheme_id=scheme_id,
        claim_id=claim.claim_id,
        bank_id=claim.bank_id,
        loan_ref=claim.loan_ref,
        status=claim.status,
        claimed=yuan(claim.claimed_fen),
        approved=yuan(claim.approved_fen),
        filed_on=str(claim.filed_on),
        approved_on=str(claim.approved_on) if claim.approved_on else None,
        first_approval=None
        if first is None
        else {
            "principal_id": first["principal_id"],
            "amount": yuan(first["amount_fen"]),
            "approved_on": str(first["business_date"]),
        },
        rule_version=claim.rule_version,
        reason=claim.reason,
        parties=parties,
        recovered_net=yuan(sum(r["net_fen"] for r in claim.recoveries.values() if not r["reversed"])),
        version=claim.version,
        links={
            "self": path,
            "history": f"{path}/history",
            "loan": loan_path(scheme_id, claim.bank_id, claim.loan_ref),
        },
    )


@router.get(
    "/claims/{claim_id}/history",
    response_model=list[HistoryEntryPublic],
    responses=READ,
    summary="Every fact of the claim, in order, with who recorded it",
)
def get_claim_history(
    scheme_id: Ref, claim_id: str, system: SystemDep, actor: Principal
) -> list[HistoryEntryPublic]:
    return [history_entry(e) for e in system.ledger.claim_history(actor, scheme_id, claim_id)]


@router.post(
    "/claims/{claim_id}/approvals",
    status_code=201,
    responses=WRITE,
    response_model=Written,
    summary="Approve (a fund manager); at or above the threshold a second checker confirms",
)
async def approve_claim(scheme_id: Ref, claim_id: str, body: ApprovalCreate, call: WriteCall):
    receipt = await call.handle(ApproveClaim(scheme_id, claim_id, body.amount, body.approved_on))
    return call.answer(receipt, {"claim": claim_path(scheme_id, claim_id)})


@router.post(
    "/claims/{claim_id}/rejection",
    status_code=201,
    responses=WRITE,
    response_model=Written,
    summary="Reject, with a reason (a fund manager; the second checker if awaiting)",
)
async def reject_claim(scheme_id: Ref, claim_id: str, body: RejectionCreate, call: WriteCall):
    receipt = await call.handle(RejectClaim(scheme_id, claim_id, body.reason, body.rejected_on))
    return call.answer(receipt, {"claim": claim_path(scheme_id, claim_id)})


@router.post(
    "/claims/{claim_id}/payments",
    status_code=201,
    responses=WRITE,
    response_model=Written,
    summary="Record a settlement payment of a party's share to the bank",
)
async def record_settlement_payment(scheme_id: Ref, claim_id: str, body: PaymentCreate, call: WriteCall):
    receipt = await call.handle(PaySettlement(scheme_id, claim_id, body.party_id, body.amount, body.paid_on))
    return call.answer(receipt, {"claim": claim_path(scheme_id, claim_id)})


@router.post(
    "/claims/{claim_id}/recoveries",
    status_code=201,
    responses=WRITE,
    response_model=Written,
    summary="Record a recovery (the claim's bank); its net is shared back",
)
async def record_recovery(scheme_id: Ref, claim_id: str, body: RecoveryCreate, call: WriteCall):
    receipt = await call.handle(
        RecordRecovery(scheme_id, claim_id, body.gross, body.costs, body.recovered_on)
    )
    return call.answer(receipt, {"claim": claim_path(scheme_id, claim_id)})


@router.post(
    "/claims/{claim_id}/recovery-payments",
    status_code=201,
    responses=WRITE,
    response_model=Written,
    summary="Record the bank's payment of a party's recovery part",
)
async def record_recovery_payment(
    scheme_id: Ref, claim_id: str, body: RecoveryPaymentCreate, call: WriteCall
):
    receipt = await call.handle(
        PayRecoveryPart(scheme_id, claim_id, body.party_id, body.amount, body.paid_on)
    )
    return call.answer(receipt, {"claim": claim_path(scheme_id, claim_id)})
