"""`riskpool audit verify`: does the event store still hold exactly the log that was sealed?

Every leaf is recomputed from the stored events and compared with the leaf the tree recorded
when the event was first projected; the first difference is located and named (edited, deleted,
inserted, reordered, truncated). Every signed tree head is checked: its signature, and its root
against the roots of the recomputed leaves. A digest a regulator kept is proved to be extended by
the current log with a consistency proof.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from eventsourcing.persistence import ApplicationRecorder, Notification
from sqlalchemy import Engine, select

from projections import tables as t
from projections.audit.heads import TreeHead, heads
from projections.audit.merkle import Tree, event_leaf
from tools.verify_export import Frontier, verify_consistency

PAGE = 10_000


@dataclass
class Finding:
    position: int | None
    kind: str  # edited, deleted, inserted, reordered, truncated, tree_head, digest, audit_tables
    detail: str

    def __str__(self) -> str:
        where = f"position {self.position}: " if self.position is not None else ""
        return f"{self.kind}: {where}{self.detail}"


@dataclass
class Verification:
    events: int = 0
    sealed: int = 0
    heads_checked: int = 0
    unsealed: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        return self.findings[0] if self.findings else None


def _events(recorder: ApplicationRecorder) -> Iterator[Notification]:
    start = 1
    while page := recorder.select_notifications(start=start, limit=PAGE):
        yield from page
        start = page[-1].id + 1


def _recorded(engine: Engine) -> tuple[list[tuple[int, str]], dict[int, tuple[str, int]]]:
    """What the tree and the audit index recorded: (position, leaf hash) in leaf order, and the
    (aggregate id, version) of every position."""
    with engine.connect() as conn:
        leaves = [
            (r.position, r.hash) for r in conn.execute(select(t.leaves).order_by(t.leaves.c.leaf_index))
        ]
        index = {
            r.position: (r.originator_id, r.version)
            for r in conn.execute(
                select(t.audit_events.c.position, t.audit_events.c.originator_id, t.audit_events.c.version)
            )
        }
    return leaves, index


def verify_log(
    recorder: ApplicationRecorder,
    engine: Engine,
    *,
    public_key: str,
    digest: TreeHead | None = None,
    advance: Callable[[int], None] | None = None,
) -> Verification:
    result = Verification()
    leaves, index = _recorded(engine)
    where_was = {ident: position for position, ident in index.items()}
    sealed_heads = heads(engine)
    wanted_sizes = {h.size for h in sealed_heads} | ({digest.size} if digest else set())
    roots: dict[int, bytes] = {}
    frontier = Frontier()
    current = _events(recorder)
    for leaf_index, (position, stored) in enumerate(leaves):
        event = next(current, None)
        while event is not None and event.id < position:  # an event the sealed log never had
            _found(result, Finding(event.id, "inserted", _what(event) + " was never recorded by the ledger"))
            event = next(current, None)
        if event is None:
            _found(
                result,
                Finding(
                    position,
                    "truncated" if leaf_index else "deleted",
                    f"the log ends before position {position}; {len(leaves) - leaf_index} "
                    "sealed event(s) are missing",
                ),
            )
            break
        if event.id > position:
            _found(
                result,
                Finding(
                    position,
                    "deleted",
                    f"the event recorded at position {position} ({_ident(index.get(position))}) is gone",
                ),
            )
            current = _prepend(event, current)
            continue
        leaf = event_leaf(event)
        if leaf.hex() != stored:
            _found(result, _changed(event, index.get(position), where_was))
        frontier.append(leaf)
        result.events += 1
        if frontier.size in wanted_sizes:
            roots[frontier.size] = frontier.root()
        if advance and result.events % PAGE == 0:
            advance(PAGE)
    result.sealed = len(leaves)
    result.unsealed = sum(1 for _ in current)
    _check_heads(result, sealed_heads, roots, public_key, engine)
    if digest is not None:
        _check_digest(result, digest, roots, engine)
    return result


def _prepend(first: Notification, rest: Iterator[Notification]) -> Iterator[Notification]:
    yield first
    yield from rest


def _changed(event: Notification, recorded: tuple[str, int] | None, where_was: dict) -> Finding:
    ident = (event.originator_id.hex, event.originator_version)
    if recorded == ident:
        return Finding(event.id, "edited", f"{_what(event)} no longer hashes to the leaf recorded for it")
    if ident in where_was:
        return Finding(event.id, "reordered", f"{_what(event)} was recorded at position {where_was[ident]}")
    return Finding(
        event.id,
        "inserted",
        f"{_what(event)} was never recorded by the ledger (it stands where {_ident(recorded)} was)",
    )


def _what(event: Notification) -> str:
    fact = event.topic.rsplit(":", 1)[-1]
    return f"{fact} of aggregate {event.originator_id.hex} version {event.originator_version}"


def _ident(ident: tuple[str, int] | None) -> str:
    return "nothing" if ident is None else f"aggregate {ident[0]} version {ident[1]}"


def _found(result: Verification, finding: Finding) -> None:
    result.findings.append(finding)


def _check_heads(
    result: Verification, sealed: list[TreeHead], roots: dict[int, bytes], public_key: str, engine: Engine
) -> None:
    with engine.connect() as conn:
        tree = Tree(conn)
        for head in sealed:
            result.heads_checked += 1
            if head.public_key != public_key or not head.verifies():
                _found(
                    result,
                    Finding(
                        None,
                        "tree_head",
                        f"the tree head of size {head.size} sealed at "
                        f"{head.sealed_at} does not carry a valid signature of this ledger's key",
                    ),
                )
            elif head.size > tree.size or tree.root(head.size).hex() != head.root:
                _found(
                    result,
                    Finding(
                        None,
                        "audit_tables",
                        f"the stored tree no longer has the signed root of "
                        f"size {head.size}: the audit tables were altered",
                    ),
                )
            elif head.size in roots and roots[head.size].hex() != head.root:
                _found(
                    result,
                    Finding(
                        None,
                        "tree_head",
                        f"the events now hash to another root at size {head.size} "
                        f"than the one signed at {head.sealed_at}",
                    ),
                )


def _check_digest(result: Verification, digest: TreeHead, roots: dict[int, bytes], engine: Engine) -> None:
    if not digest.verifies():
        _found(result, Finding(None, "digest", "the digest's signature does not verify"))
        return
    with engine.connect() as conn:
        tree = Tree(conn)
        if digest.size > tree.size:
            _found(
                result,
                Finding(
                    None,
                    "digest",
                    f"the log has {tree.size} sealed events, fewer than the digest's "
                    f"{digest.size}: it was truncated",
                ),
            )
            return
        proof = tree.consistency(digest.size, tree.size)
        extends = verify_consistency(digest.size, tree.size, bytes.fromhex(digest.root), tree.root(), proof)
    if not extends or roots.get(digest.size, b"").hex() != digest.root:
        _found(
            result,
            Finding(
                None,
                "digest",
                f"the log does not extend the digest of size {digest.size} "
                f"sealed at {digest.sealed_at}: its first {digest.size} events differ",
            ),
        )
