"""Schemes: creation, members, rule versions (and the what-if), targets, contributions,
breaker resets and reversals."""

from __future__ import annotations

from fastapi import APIRouter, Path

from api.deps import POSITION_MAX, Cursor, Limit, Principal, Read, ReadCall, SystemDep, WriteCall
from api.routes import READ, WRITE
from api.schemas.common import Ref, Written, decode_cursor, encode_cursor, yuan
from api.schemas.reports import SchemesPublic
from api.schemas.schemes import (
    AllocationPartPublic,
    BreakerReset,
    ContributionCreate,
    MemberCreate,
    MemberPublic,
    ReversalCreate,
    RuleVersionCreate,
    RuleVersionPublic,
    SchemeCreate,
    SchemePublic,
    TargetsUpdate,
    WhatIf,
    WhatIfPublic,
)
from ledger import access
from ledger.commands import (
    AdmitMember,
    CreateScheme,
    PublishRules,
    RecordContribution,
    ResetBreaker,
    Reverse,
    SetTargets,
)
from ledger.errors import InvalidRequest, UnknownScheme
from ledger.ids import ID_CHARS_MAX, parse_fact_id
from ledger.rules import LoanTerms
from projections import reports
from projections.models import schemes as scheme_model

router = APIRouter(prefix="/v1/schemes", tags=["schemes"])
SchemeId = Ref


def scheme_links(scheme_id: str) -> dict[str, str]:
    base = f"/v1/schemes/{scheme_id}"
    return {
        "self": base,
        "members": f"{base}/members",
        "rule_versions": f"{base}/rule-versions",
        "claims": f"{base}/claims",
        "owed": f"{base}/reports/owed",
    }


@router.post(
    "", status_code=201, responses=WRITE, response_model=Written, summary="Create a scheme (fund manager)"
)
async def create_scheme(body: SchemeCreate, call: WriteCall):
    receipt = await call.handle(CreateScheme(body.scheme_id, body.name, body.created_on))
    return call.answer(receipt, scheme_links(body.scheme_id))


@router.get("", response_model=SchemesPublic, responses=READ, summary="List the schemes")
def list_schemes(read: ReadCall, limit: Limit = 100, cursor: Cursor = None) -> SchemesPublic:
    after = decode_cursor(cursor, (str,))
    with read.engine.connect() as conn:
        items = [_scheme(row, read) for row in scheme_model.page(conn, after[0] if after else None, limit)]
    return SchemesPublic(
        items=items, next_cursor=encode_cursor([items[-1].scheme_id]) if len(items) == limit else None
    )


@router.get("/{scheme_id}", response_model=SchemePublic, responses=READ, summary="One scheme")
def get_scheme(scheme_id: SchemeId, read: ReadCall) -> SchemePublic:
    with read.engine.connect() as conn:
        return _scheme(reports.scheme_row(conn, scheme_id), read)


def _scheme(row: dict, read: Read) -> SchemePublic:
    """A scheme as this key may see it, now or as of a date or position: its pool-wide figures are
    for those the rule book lets see them (ledger/actors.py), never for a bank, guarantor or insurer."""
    figures = access.sees_scheme_figures(read.actor)
    return SchemePublic(
        scheme_id=row["scheme_id"],
        name=row["name"],
        demo=row["demo"],
        created_on=str(row["created_on"]),
        rule_versions=row["rule_versions"],
        exposure=yuan(row["exposure_fen"]) if figures else None,
        paid_in=yuan(row["paid_in_fen"]) if figures else None,
        links=scheme_links(row["scheme_id"]),
    )


@router.post(
    "/{scheme_id}/members",
    status_code=201,
    responses=WRITE,
    response_model=Written,
    summary="Admit a party (fund manager)",
)
async def admit_member(scheme_id: SchemeId, body: MemberCreate, call: WriteCall):
    receipt = await call.handle(AdmitMember(scheme_id, body.party_id, body.admitted_on))
    return call.answer(receipt, {"members": f"/v1/schemes/{scheme_id}/members"})


@router.get("/{scheme_id}/members", response_model=list[MemberPublic], responses=READ, summary="The members")
def list_members(scheme_id: SchemeId, read: ReadCall) -> list[MemberPublic]:
    with read.engine.connect() as conn:
        reports.scheme_row(conn, scheme_id)
        rows = scheme_model.members_of(conn, scheme_id)
        return [
            MemberPublic(party_id=r.party_id, role=r.role, name=r.name, admitted_on=str(r.admitted_on))
            for r in rows
        ]


@router.post(
    "/{scheme_id}/rule-versions",
    status_code=201,
    responses=WRITE,
    response_model=Written,
    summary="Publish a rule version (fund manager); refused with every problem listed",
)
async def publish_rule_version(scheme_id: SchemeId, body: RuleVersionCreate, call: WriteCall):
    receipt = await call.handle(PublishRules(scheme_id, body.document, body.published_on))
    number = receipt.details["rule_version"]
    return call.answer(receipt, {"rule_version": f"/v1/schemes/{scheme_id}/rule-versions/{number}"})


@router.get(
    "/{scheme_id}/rule-versions",
    response_model=list[RuleVersionPublic],
    responses=READ,
    summary="Every rule version, in order",
)
def list_rule_versions(scheme_id: SchemeId, read: ReadCall) -> list[RuleVersionPublic]:
    with read.engine.connect() as conn:
        reports.scheme_row(conn, scheme_id)
        return [_rule_version(r) for r in scheme_model.rule_versions_of(conn, scheme_id)]


@router.get(
    "/{scheme_id}/rule-versions/{number}",
    response_model=RuleVersionPublic,
    responses=READ,
    summary="One rule version",
)
def get_rule_version(
    scheme_id: SchemeId, read: ReadCall, number: int = Path(ge=1, le=POSITION_MAX)
) -> RuleVersionPublic:
    with read.engine.connect() as conn:
        reports.scheme_row(conn, scheme_id)
        found = scheme_model.rule_versions_of(conn, scheme_id, number)
    row = found[0] if found else None
    if row is None:
        raise UnknownScheme(f"scheme {scheme_id!r} has no rule version {number}", number=number)
    return _rule_version(row)


def _rule_version(row: object) -> RuleVersionPublic:
    return RuleVersionPublic(
        number=row.number,
        effective_from=str(row.effective_from),  # type: ignore[attr-defined]
        published_on=str(row.published_on),
        document=row.document,
    )  # type: ignore[attr-defined]


@router.post(
    "/{scheme_id}/what-if",
    response_model=WhatIfPublic,
    responses=WRITE,
    summary="The allocation a claim would get if finally approved now; records nothing",
)
def what_if(scheme_id: SchemeId, body: WhatIf, system: SystemDep, actor: Principal) -> WhatIfPublic:
    if body.loan_ref is not None:
        number, allocation = system.ledger.what_if_loan(
            actor, scheme_id, body.bank_id, body.loan_ref, body.amount, approved_on=body.approved_on
        )
    else:
        if body.principal is None or body.cover is None:
            raise InvalidRequest(
                "name a loan (loan_ref) or describe one (principal and cover)", field="loan_ref"
            )
        terms = LoanTerms(body.bank_id, body.principal.fen, tuple(body.tags), body.cover, body.cover_party_id)
        number, allocation = system.ledger.what_if(
            actor, scheme_id, terms, body.amount, approved_on=body.approved_on
        )
    parts = [
        AllocationPartPublic(
            party_id=p.party_id,
            key=p.key,
            bp=p.bp,
            split=yuan(p.split_fen),
            cut=yuan(p.cut_fen),
            overflow=yuan(p.overflow_fen),
            allocated=yuan(p.allocated_fen),
        )
        for p in allocation.parts
    ]
    return WhatIfPublic(rule_version=number, approved=yuan(allocation.approved_fen), parts=parts)


@router.put(
    "/{scheme_id}/targets",
    status_code=200,
    responses=WRITE,
    response_model=Written,
    summary="Set the programme targets",
)
async def set_targets(scheme_id: SchemeId, body: TargetsUpdate, call: WriteCall):
    receipt = await call.handle(SetTargets(scheme_id, body.targets, body.set_on))
    return call.answer(receipt, {"targets": f"/v1/schemes/{scheme_id}/reports/targets"}, status=200)


@router.post(
    "/{scheme_id}/contributions",
    status_code=201,
    responses=WRITE,
    response_model=Written,
    summary="Record a contribution to a government fund",
)
async def record_contribution(scheme_id: SchemeId, body: ContributionCreate, call: WriteCall):
    receipt = await call.handle(
        RecordContribution(scheme_id, body.party_id, body.amount, body.contributed_on)
    )
    return call.answer(receipt, {"funds": f"/v1/schemes/{scheme_id}/reports/funds"})


@router.post(
    "/{scheme_id}/breakers/{breaker}/reset",
    status_code=200,
    responses=WRITE,
    response_model=Written,
    summary="Reset a tripped circuit breaker, with a reason (fund manager)",
)
async def reset_breaker(
    scheme_id: SchemeId,
    body: BreakerReset,
    call: WriteCall,
    breaker: str = Path(max_length=ID_CHARS_MAX, examples=["bank_loss_rate:icbc-hebi"]),
):
    receipt = await call.handle(ResetBreaker(scheme_id, breaker, body.reason, body.reset_on))
    return call.answer(receipt, {"breakers": f"/v1/schemes/{scheme_id}/reports/breakers"}, status=200)


@router.post(
    "/{scheme_id}/reversals",
    status_code=201,
    responses=WRITE,
    response_model=Written,
    summary="Reverse a fact recorded by mistake, naming it and why",
)
async def reverse_fact(scheme_id: SchemeId, body: ReversalCreate, call: WriteCall):
    receipt = await call.handle(Reverse(scheme_id, body.fact_id, body.reason, body.reversed_on))
    return call.answer(receipt, {"corrected": _corrected(scheme_id, body.fact_id)})


def _corrected(scheme_id: str, fact_id: str) -> str:
    """Where the reversed fact's figures now stand: its claim, its loan, or the funds report."""
    ref = parse_fact_id(fact_id)
    if ref.claim_id is not None:
        return f"/v1/schemes/{scheme_id}/claims/{ref.claim_id}"
    if ref.loan_ref is not None:
        return f"/v1/schemes/{scheme_id}/banks/{ref.bank_id}/loans/{ref.loan_ref}"
    return f"/v1/schemes/{scheme_id}/reports/funds"
