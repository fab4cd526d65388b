"""The audit API, for regulators and fund managers: the complete history, filtered, with what each
event carries; any aggregate as it stood; signed tree heads; inclusion and consistency proofs; the
log verified as `riskpool audit verify` verifies it; and, for a regulator, the export that
`riskpool audit export` writes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from tempfile import SpooledTemporaryFile
from typing import IO, Annotated, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse

from api.deps import POSITION_MAX, CaughtUp, Cursor, Limit, Principal, SystemDep
from api.routes import READ, problems
from api.schemas.audit import (
    AggregateAsOf,
    AuditAmount,
    AuditEvent,
    AuditEventsPublic,
    ConsistencyProof,
    InclusionProof,
    PublicKey,
    TreeHeadPublic,
    VerificationFinding,
    VerificationPublic,
)
from api.schemas.common import Day, Ref, decode_cursor, encode_cursor
from ledger import access
from ledger.actors import Role, require_role
from ledger.errors import InvalidRequest, UnknownFact, UnknownScheme
from ledger.ids import ID_CHARS_MAX, REFERENCE_CHARS_MAX
from projections.audit import model as audit_model
from projections.audit.export import ExportRefused, export
from projections.audit.heads import heads, latest
from projections.audit.merkle import Tree
from projections.audit.reading import states_at
from projections.audit.verify import first_difference
from projections.runner import ProjectionTimeout
from riskpool.bootstrap import System

router = APIRouter(prefix="/v1/audit", tags=["audit"])
log = logging.getLogger("riskpool.audit")


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
    from_position: Annotated[
        int | None, Query(ge=1, le=POSITION_MAX, description="log positions from this one")
    ] = None,
    to_position: Annotated[
        int | None, Query(ge=1, le=POSITION_MAX, description="log positions up to this one")
    ] = None,
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
            from_position=from_position,
            to_position=to_position,
        )
    states = states_at(system.ledger.recorder, [found["position"] for found in rows])
    items = []
    for found in rows:
        fields = {k: v for k, v in found.items() if k in AuditEvent.model_fields}
        state = states.get(found["position"])
        party, reason, amounts = audit_model.carried(state) if state is not None else (None, None, [])
        items.append(
            AuditEvent(
                **fields
                | {
                    "leaf_hash": found["hash"],
                    "reversed_by": found["reversed_position"],
                    "business_date": str(found["business_date"]),
                    "party_id": party,
                    "reason": reason,
                    "amounts": [AuditAmount(**a) for a in amounts],
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


# Verifying the log reads and hashes every stored event: about 200,000 events a second on one core
# (BENCHMARKS.md, "Audit verify"), so seconds to minutes for a large log. Its cost is bounded here:
# - one run at a time in the process;
# - a run's result is reused while it is younger than VERIFY_MIN_SECONDS and ten times its own run
#   time, and, while the log and its signed heads have not moved, younger than VERIFY_REUSE_SECONDS
#   (and ten times its run time): verification takes at most a tenth of one core however often it
#   is asked;
# - once a result is too old, the next request starts a new run in the background and is answered
#   with the last result (`reused`, `running`): no request waits for a run but the very first.
VERIFY_MIN_SECONDS = 10.0
VERIFY_REUSE_SECONDS = 60.0
VERIFY_SHARE = 10  # a run's result stands for at least this many times its run time
VERIFY_FINDINGS_MAX = 100


class _Verifications:
    def __init__(self) -> None:
        self.lock = threading.Lock()  # guards what follows
        self.first = threading.Lock()  # held by the first run, which requests wait for
        self.last: VerificationPublic | None = None
        self.when = float("-inf")
        self.log: tuple[int, int] = (-1, -1)  # (the log's end, the latest head's sequence) it verified
        self.running = False

    def stale(self, log: tuple[int, int]) -> bool:
        if self.last is None:
            return True
        age, floor = time.monotonic() - self.when, VERIFY_SHARE * self.last.seconds
        if age < max(VERIFY_MIN_SECONDS, floor):
            return False
        return log != self.log or age >= max(VERIFY_REUSE_SECONDS, floor)


def _verifications(request: Request) -> _Verifications:
    state = request.app.state
    found = getattr(state, "audit_verifications", None)
    if found is None:
        found = state.audit_verifications = _Verifications()
    return found


@router.get(
    "/verification",
    response_model=VerificationPublic,
    responses=READ,
    summary="The log verified as `riskpool audit verify` verifies it: the last run's result, a new run "
    "started in the background once it is old (at most a tenth of a core is spent verifying)",
)
def get_verification(request: Request, system: SystemDep, actor: Principal) -> VerificationPublic:
    access.require_auditor(actor)
    runs = _verifications(request)
    now = _log_now(system)
    with runs.lock:
        if runs.last is not None:
            if runs.stale(now) and not runs.running:
                runs.running = True
                threading.Thread(
                    target=_verify_in_background, args=(system, runs), name="audit-verify", daemon=True
                ).start()
            return runs.last.model_copy(update={"reused": True, "running": runs.running})
    with runs.first:  # no result yet: this request runs the first (the others wait for it)
        if runs.last is None:
            _verify(system, runs)
    assert runs.last is not None
    return runs.last


def _log_now(system: System) -> tuple[int, int]:
    head = latest(system.store.engine)
    return (system.ledger.recorder.max_notification_id() or 0, head.sequence if head else 0)


def _verify_in_background(system: System, runs: _Verifications) -> None:
    try:
        _verify(system, runs)
    except Exception:  # a failed run leaves the last result; the next request tries again
        log.exception("verifying the log failed")
    finally:
        with runs.lock:
            runs.running = False


def _verify(system: System, runs: _Verifications) -> None:
    """Run what `riskpool audit verify` runs, and keep its result."""
    log_then = _log_now(system)
    started = time.monotonic()
    result = system.verify()
    seconds = time.monotonic() - started
    found = VerificationPublic(
        ok=result.ok,
        events=result.events,
        sealed=result.sealed,
        unsealed=result.unsealed,
        heads_checked=result.heads_checked,
        findings=[
            VerificationFinding(position=f.position, until=f.until, kind=f.kind, detail=f.detail)
            for f in result.findings[:VERIFY_FINDINGS_MAX]
        ],
        findings_total=len(result.findings),
        first_difference=None if result.ok else first_difference(result),
        notices=result.notices[:VERIFY_FINDINGS_MAX],
        log_end=log_then[0],
        checked_at=datetime.now(UTC).isoformat(),
        seconds=round(seconds, 3),
        reused=False,
        running=False,
    )
    with runs.lock:
        runs.last, runs.when, runs.log = found, time.monotonic(), log_then


EXPORT_ATTEMPTS = 3
EXPORT_IN_MEMORY_BYTES = 16 * 1024 * 1024  # a larger export is spooled to a temporary file
EXPORT_CHUNK_BYTES = 256 * 1024
# JSON Lines has no registered media type; the file is served as bytes to save (a generated client
# reads it as a file; `application/x-ndjson` is a type generators refuse), its name ending .jsonl.
EXPORT_MEDIA = "application/octet-stream"


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses=problems(401, 403, 404, 409, 422, 503)
    | {
        200: {
            "description": "JSON Lines: one line per event, then the signed tree head (check it with "
            "tools/verify_export.py)",
            "content": {EXPORT_MEDIA: {"schema": {"type": "string", "format": "binary"}}},
            "headers": {
                "Content-Disposition": {
                    "description": "the file's name",
                    "schema": {
                        "type": "string",
                        "examples": ['attachment; filename="riskpool-export-3796.jsonl"'],
                    },
                }
            },
        }
    },
    summary="The history as `riskpool audit export` writes it, sealed by a tree head signed now (regulator)",
)
def export_history(
    system: SystemDep,
    actor: Principal,
    scheme_id: Annotated[
        Ref | None, Query(description="only this scheme's events, with their proofs")
    ] = None,
) -> StreamingResponse:
    """As the CLI exports: the tree brought up to the end of the log and a head sealed over it
    (the one sealed last, if the tree has not grown since), then every event up to that head. The
    export is written whole before the first byte is sent (a failure is a problem answer, never a
    cut file); should the runner project new events meanwhile, which the export would not match,
    it is sealed and written again."""
    require_role(actor, Role.REGULATOR, action="export the audit trail")
    spool: IO[bytes] = SpooledTemporaryFile(max_size=EXPORT_IN_MEMORY_BYTES, mode="w+b")  # noqa: SIM115
    try:
        head = _export_sealed(system, spool, scheme_id)
    except BaseException:
        spool.close()
        raise
    name = f"riskpool-export-{scheme_id or 'all'}-{head.size}.jsonl"
    return StreamingResponse(
        _chunks(spool),
        media_type=EXPORT_MEDIA,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _export_sealed(system: System, spool: IO[bytes], scheme_id: str | None) -> Any:
    import io

    for _ in range(EXPORT_ATTEMPTS):
        system.runner.wait_for(system.ledger.recorder.max_notification_id() or 0, timeout=10)
        head = system.runner.seal()
        if head is None:
            raise UnknownFact("the log is empty: there is nothing to export")
        spool.seek(0)
        spool.truncate()
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="\n", write_through=True)
        try:
            export(system.ledger.recorder, system.store.engine, head, text, scheme_id=scheme_id)
        except ExportRefused as refused:
            if _tree_size(system) == head.size:  # not the tree moving: the scheme has no event
                raise UnknownScheme(str(refused)) from None
            continue
        finally:
            text.detach()
        if _tree_size(system) == head.size:
            spool.seek(0)
            return head
    raise ProjectionTimeout("the log grew during each attempt to export it: try again")


def _tree_size(system: System) -> int:
    with system.store.engine.connect() as conn:
        return Tree(conn).size


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(EXPORT_CHUNK_BYTES):
            yield chunk
    finally:
        spool.close()
