"""The audit API, for regulators and fund managers: the complete history, filtered; any aggregate
as it stood; signed tree heads; inclusion and consistency proofs."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from fastapi import APIRouter, Path, Query

from api.deps import POSITION_MAX, CaughtUp, Cursor, Limit, Principal, SystemDep
from api.routes import READ, problems
from api.schemas.audit import (
    AggregateAsOf,
    AuditEvent,
    AuditEventsPublic,
    ConsistencyProof,
    InclusionProof,
    PublicKey,
    TreeHeadPublic,
)
from api.schemas.common import Day, Ref, decode_cursor, encode_cursor
from ledger import access
from ledger.errors import InvalidRequest, UnknownFact
from ledger.ids import ID_CHARS_MAX, REFERENCE_CHARS_MAX
from projections.audit import model as audit_model
from projections.audit.heads import heads, latest
from projections.audit.merkle import Tree

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get(
    "/events",
    response_model=AuditEventsPublic,
    responses=READ,
    summary="The event history, filtered by scheme, loan, claim, party, fact, actor and dates",
)
def list_audit_events(
    system: SystemDep,
    actor: Principal,
    _: CaughtUp,
    limit: Limit = 100,
    cursor: Cursor = None,
    scheme_id: Annotated[Ref | None, Query()] = None,
    bank_id: Annotated[Ref | None, Query()] = None,
    loan_ref: Annotated[Ref | None, Query()] = None,
    claim_id: Annotated[str | None, Query(max_length=ID_CHARS_MAX)] = None,
    party_id: Annotated[Ref | None, Query(description="events that concern this party")] = None,
    fact: Annotated[str | None, Query(max_length=REFERENCE_CHARS_MAX, examples=["RepaymentReversed"])] = None,
    principal_id: Annotated[
        str | None, Query(max_length=REFERENCE_CHARS_MAX, description="events this principal caused")
    ] = None,
    from_date: Annotated[Day | None, Query(description="business dates from this day")] = None,
    to_date: Annotated[Day | None, Query(description="business dates up to this day")] = None,
) -> AuditEventsPublic:
    access.require_auditor(actor)
    after = decode_cursor(cursor, (int,))
    filters = {
        name: value
        for name, value in zip(
            audit_model.FILTERS, (scheme_id, bank_id, loan_ref, claim_id, fact, principal_id), strict=True
        )
        if value is not None
    }
    with system.store.engine.connect() as conn:
        rows = audit_model.events(
            conn,
            filters,
            party_id=party_id,
            from_date=from_date,
            to_date=to_date,
            after=after[0] if after else None,
            limit=limit,
        )
    items = []
    for found in rows:
        fields = {k: v for k, v in found.items() if k in AuditEvent.model_fields}
        items.append(
            AuditEvent(
                **fields
                | {
                    "leaf_hash": found["hash"],
                    "reversed_by": found["reversed_position"],
                    "business_date": str(found["business_date"]),
                }
            )
        )
    last = [items[-1].position] if len(items) == limit else None
    return AuditEventsPublic(items=items, next_cursor=encode_cursor(last) if last else None)


@router.get(
    "/aggregates/{originator_id}",
    response_model=AggregateAsOf,
    responses=READ,
    summary="Any aggregate as it stood at a version, or on a business date",
)
def get_aggregate(
    system: SystemDep,
    actor: Principal,
    _: CaughtUp,
    originator_id: str = Path(pattern=r"^[0-9a-f]{32}$"),
    version: Annotated[int | None, Query(ge=1, le=POSITION_MAX)] = None,
    business_date: Annotated[Day | None, Query()] = None,
) -> AggregateAsOf:
    access.require_auditor(actor)
    if version is None and business_date is not None:
        with system.store.engine.connect() as conn:
            version = audit_model.version_on(conn, originator_id, business_date)
        if version is None:
            raise UnknownFact(f"aggregate {originator_id} did not exist on {business_date}")
    try:
        found = system.ledger.repository.get(UUID(originator_id), version=version)
    except AggregateNotFoundError:
        raise UnknownFact(f"no aggregate {originator_id} at version {version}") from None
    secret = getattr(type(found), "SECRET_FIELDS", frozenset())
    state = {
        k.lstrip("_"): _json(v)
        for k, v in vars(found).items()
        if k != "_pending_events" and k.lstrip("_") not in secret
    }
    return AggregateAsOf(
        originator_id=originator_id, aggregate=type(found).__name__, version=found.version, state=state
    )


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    return value if isinstance(value, (str, int, bool)) or value is None else str(value)


@router.get(
    "/tree-heads",
    response_model=list[TreeHeadPublic],
    responses=READ,
    summary="The signed tree heads after a sequence number, oldest first, a page at a time",
)
def list_tree_heads(
    system: SystemDep,
    actor: Principal,
    limit: Limit = 100,
    after_sequence: Annotated[int, Query(ge=0, le=POSITION_MAX, description="heads after this one")] = 0,
) -> list[TreeHeadPublic]:
    access.require_auditor(actor)
    found = heads(system.store.engine, after_sequence=after_sequence, limit=limit)
    return [TreeHeadPublic(**h.as_dict()) for h in found]


@router.get(
    "/tree-heads/latest", response_model=TreeHeadPublic, responses=READ, summary="The latest tree head"
)
def get_latest_tree_head(system: SystemDep, actor: Principal) -> TreeHeadPublic:
    access.require_auditor(actor)
    head = latest(system.store.engine)
    if head is None:
        raise UnknownFact("no tree head has been sealed yet")
    return TreeHeadPublic(**head.as_dict())


@router.post(
    "/tree-heads",
    response_model=TreeHeadPublic,
    status_code=201,
    responses=problems(401, 403, 404, 409),
    summary="Seal a tree head of the whole log now (keep it as your digest); 409 seal_refused if the "
    "tree no longer extends the last signed head",
)
def seal_tree_head(system: SystemDep, actor: Principal) -> TreeHeadPublic:
    access.require_auditor(actor)
    system.runner.wait_for(system.ledger.recorder.max_notification_id() or 0, timeout=10)
    head = system.runner.seal()
    if head is None:
        raise UnknownFact("the log is empty")
    return TreeHeadPublic(**head.as_dict())


@router.get(
    "/proofs/inclusion",
    response_model=InclusionProof,
    responses=READ,
    summary="That the event at a position is in the tree of a given size",
)
def get_inclusion_proof(
    system: SystemDep,
    actor: Principal,
    _: CaughtUp,
    position: Annotated[int, Query(ge=1, le=POSITION_MAX)],
    tree_size: Annotated[int, Query(ge=1, le=POSITION_MAX)],
) -> InclusionProof:
    access.require_auditor(actor)
    with system.store.engine.connect() as conn:
        leaf = audit_model.leaf_at(conn, position)
        tree = Tree(conn)
        if leaf is None or leaf.leaf_index >= tree_size or tree_size > tree.size:
            raise InvalidRequest(
                f"position {position} is not in a tree of {tree_size} (the tree has {tree.size})"
            )
        path = tree.inclusion(leaf.leaf_index, tree_size)
        return InclusionProof(
            position=position,
            leaf_index=leaf.leaf_index,
            leaf_hash=leaf.hash,
            tree_size=tree_size,
            root=tree.root(tree_size).hex(),
            path=[p.hex() for p in path],
        )


@router.get(
    "/proofs/consistency",
    response_model=ConsistencyProof,
    responses=READ,
    summary="That the tree of to_size extends the tree of from_size, unchanged",
)
def get_consistency_proof(
    system: SystemDep,
    actor: Principal,
    _: CaughtUp,
    from_size: Annotated[int, Query(ge=1, le=POSITION_MAX)],
    to_size: Annotated[int, Query(ge=1, le=POSITION_MAX)],
) -> ConsistencyProof:
    access.require_auditor(actor)
    with system.store.engine.connect() as conn:
        tree = Tree(conn)
        if not from_size <= to_size <= tree.size:
            raise InvalidRequest(f"sizes must satisfy from_size <= to_size <= {tree.size}")
        return ConsistencyProof(
            from_size=from_size,
            to_size=to_size,
            from_root=tree.root(from_size).hex(),
            to_root=tree.root(to_size).hex(),
            proof=[p.hex() for p in tree.consistency(from_size, to_size)],
        )


@router.get(
    "/public-key", response_model=PublicKey, summary="The Ed25519 key that signs tree heads (no key needed)"
)
def get_public_key(system: SystemDep) -> PublicKey:
    return PublicKey(algorithm="Ed25519", public_key=system.runner.signer.public_hex)
