"""`riskpool audit verify`: does the event store still hold exactly the log that was signed?

Every leaf is recomputed from the stored events and compared with the leaf the tree recorded when
the event was first projected; the first difference is located and named (edited, deleted,
inserted, reordered, truncated). The chain of signed tree heads is checked against the signer's own
record, kept outside the database: a head deleted, altered or signed by another key is named, and
so is a log longer than one sealing interval with no head at all. Every head's root and scheme
index are checked against the roots of the recomputed leaves. Heads a witness or a regulator kept
(digests) are proved to be extended by the current log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from eventsourcing.persistence import ApplicationRecorder, Notification
from sqlalchemy import Engine, select

from projections import tables as t
from projections.audit.heads import BLOCK_EVENTS, TreeHead, heads
from projections.audit.merkle import Tree, event_leaf
from tools.verify_export import NO_SCHEME, Frontier, root, rotation_endorsed, schemes_root

PAGE = 10_000
SEAL_INTERVAL_EVENTS = 1_000  # the runner seals at least this often (projections/runner.py)


@dataclass
class Finding:
    position: int | None
    # edited, deleted, inserted, reordered, truncated, differs, tree_head, no_heads, digest, audit_tables
    kind: str
    detail: str
    until: int | None = None  # the last position of a range the difference lies in

    def __str__(self) -> str:
        if self.position is None:
            where = ""
        elif self.until is not None and self.until != self.position:
            where = f"positions {self.position}–{self.until}: "
        else:
            where = f"position {self.position}: "
        return f"{self.kind}: {where}{self.detail}"


@dataclass
class Verification:
    events: int = 0
    sealed: int = 0
    heads_checked: int = 0
    unsealed: int = 0
    findings: list[Finding] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # new chains and key rotations, for the record

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


def _recorded(engine: Engine) -> tuple[list[tuple[int, str]], dict[int, tuple[str, int, str]]]:
    """What the tree and the audit index recorded: (position, leaf hash) in leaf order, and the
    (aggregate id, version, scheme) of every position."""
    with engine.connect() as conn:
        leaves = [
            (r.position, r.hash) for r in conn.execute(select(t.leaves).order_by(t.leaves.c.leaf_index))
        ]
        columns = (t.audit_events.c[name] for name in ("position", "originator_id", "version", "scheme_id"))
        index = {
            r.position: (r.originator_id, r.version, r.scheme_id or NO_SCHEME)
            for r in conn.execute(select(*columns))
        }
    return leaves, index


def verify_log(
    recorder: ApplicationRecorder,
    engine: Engine,
    *,
    public_key: str,
    signed: list[TreeHead] | None = None,
    blocks: dict[int, str] | None = None,
    digests: list[TreeHead] = (),  # type: ignore[assignment]
    advance: Callable[[int], None] | None = None,
) -> Verification:
    """Verify the store. `public_key` is the signer's current key; `signed` is the signer's record
    of the heads it signed (None when it is not at hand: then the store's heads are checked as a
    chain on their own) and `blocks` its record of the root of every 32 events; `digests` are heads
    kept outside the ledger."""
    result = Verification()
    leaves, index = _recorded(engine)
    stored = heads(engine)
    chain = signed if signed is not None else stored
    _check_chain(result, chain, public_key)
    if signed is not None:
        _compare_with_record(result, signed, stored)
    wanted = {h.size for h in [*chain, *digests]}
    roots, scheme_index_roots, positions = _replay(
        result, recorder, leaves, index, wanted, blocks or {}, advance
    )
    if not chain and not stored and result.events > SEAL_INTERVAL_EVENTS:
        _found(
            result,
            Finding(
                None,
                "no_heads",
                f"the log has {result.events} events and no signed tree head covers any of them "
                f"(the ledger seals at least every {SEAL_INTERVAL_EVENTS}): the heads were deleted",
            ),
        )
    _check_roots(result, chain, roots, scheme_index_roots, positions, engine)
    for digest in digests:
        _check_digest(result, digest, roots, {h.public_key for h in chain} | {public_key})
    return result


def _replay(
    result: Verification,
    recorder: ApplicationRecorder,
    leaves: list[tuple[int, str]],
    index: dict[int, tuple[str, int, str]],
    wanted: set[int],
    blocks: dict[int, str],
    advance: Callable[[int], None] | None,
) -> tuple[dict[int, bytes], dict[int, str], dict[int, int]]:
    """Recompute every leaf from the events, compare with the recorded ones, and note the root,
    the scheme index's root and the last event's position at each size a head or digest asks for."""
    where_was = {ident[:2]: position for position, ident in index.items()}
    roots: dict[int, bytes] = {}
    scheme_index_roots: dict[int, str] = {}
    positions: dict[int, int] = {}
    frontier, trees = Frontier(), {}
    block: list[tuple[int, bytes]] = []  # (position, leaf) of the block of 32 events being read
    current = _events(recorder)
    for leaf_index, (position, stored) in enumerate(leaves):
        event = next(current, None)
        while event is not None and event.id < position:  # an event the sealed log never had
            _found(result, Finding(event.id, "inserted", _what(event) + " was never recorded by the ledger"))
            event = next(current, None)
        if event is None:
            kind = "truncated" if leaf_index else "deleted"
            missing = len(leaves) - leaf_index
            detail = f"the log ends before position {position}; {missing} recorded event(s) are missing"
            _found(result, Finding(position, kind, detail))
            break
        if event.id > position:
            recorded = index.get(position)
            _found(
                result, Finding(position, "deleted", f"the event recorded here ({_ident(recorded)}) is gone")
            )
            current = _prepend(event, current)
            continue
        leaf = event_leaf(event)
        if leaf.hex() != stored:
            _found(result, _changed(event, index.get(position), where_was))
        frontier.append(leaf)
        block.append((event.id, leaf))
        if len(block) == BLOCK_EVENTS:
            _check_block(result, blocks.get(frontier.size // BLOCK_EVENTS - 1), block)
            block = []
        scheme = index.get(position, ("", 0, NO_SCHEME))[2]
        trees.setdefault(scheme, Frontier()).append(leaf)
        result.events += 1
        if frontier.size in wanted:
            roots[frontier.size] = frontier.root()
            entries = {s: (tree.size, tree.root().hex()) for s, tree in trees.items()}
            scheme_index_roots[frontier.size] = schemes_root(entries).hex()
            positions[frontier.size] = event.id
        if advance and result.events % PAGE == 0:
            advance(PAGE)
    result.sealed = len(leaves)
    result.unsealed = sum(1 for _ in current)
    return roots, scheme_index_roots, positions


def _check_block(result: Verification, signed: str | None, block: list[tuple[int, bytes]]) -> None:
    """A block of 32 events hashes as when it was signed, unless a finding already names the
    exact event in it."""
    if signed is None or root([leaf for _, leaf in block]).hex() == signed:
        return
    first, last = block[0][0], block[-1][0]
    if any(f.position is not None and first <= f.position <= last for f in result.findings):
        return
    detail = "these 32 events no longer hash to the root the signer recorded for them when it signed them"
    _found(result, Finding(first, "differs", detail, until=last))


def _prepend(first: Notification, rest: Iterator[Notification]) -> Iterator[Notification]:
    yield first
    yield from rest


def _changed(event: Notification, recorded: tuple[str, int, str] | None, where_was: dict) -> Finding:
    ident = (event.originator_id.hex, event.originator_version)
    if recorded is not None and recorded[:2] == ident:
        return Finding(event.id, "edited", f"{_what(event)} no longer hashes to the leaf recorded for it")
    if ident in where_was:
        return Finding(event.id, "reordered", f"{_what(event)} was recorded at position {where_was[ident]}")
    return Finding(
        event.id,
        "inserted",
        f"{_what(event)} was never recorded by the ledger (it stands where {_ident(recorded)} was)",
    )


def _what(event: Notification) -> str:
    fact = event.topic.rsplit(".", 1)[-1]
    return f"{fact} of aggregate {event.originator_id.hex} version {event.originator_version}"


def _ident(ident: tuple[str, int, str] | None) -> str:
    return "nothing" if ident is None else f"aggregate {ident[0]} version {ident[1]}"


def _found(result: Verification, finding: Finding) -> None:
    result.findings.append(finding)


def _head_finding(result: Verification, detail: str) -> None:
    _found(result, Finding(None, "tree_head", detail))


def _check_chain(result: Verification, chain: list[TreeHead], public_key: str) -> None:
    """Each head signed, numbered one after the other and naming the one before; a changed key
    endorsed by the one before it; the last signed by the signer's current key."""
    before: TreeHead | None = None
    for head in chain:
        result.heads_checked += 1
        if not head.verifies():
            _head_finding(result, f"{head} does not carry a valid signature of the key it names")
        if head.new_chain_reason:
            result.notices.append(
                f"a new chain was started at {head} by the operator: {head.new_chain_reason}"
            )
        elif before is not None:
            if head.sequence != before.sequence + 1:
                gap = f"#{before.sequence + 1}" + (
                    f"–#{head.sequence - 1}" if head.sequence - 1 > before.sequence + 1 else ""
                )
                _head_finding(result, f"tree head(s) {gap} between {before} and {head} are missing")
            elif head.previous != before.hash():
                _head_finding(result, f"{head} does not name {before} as the head before it")
        elif head.sequence != 1:
            _head_finding(
                result, f"the first tree head is #{head.sequence}: heads #1–#{head.sequence - 1} are missing"
            )
        expected_key = before.public_key if before is not None else head.public_key
        if head.public_key != expected_key:
            if head.previous_key == expected_key and rotation_endorsed(head.as_dict()):
                result.notices.append(f"the signing key was rotated at {head} to {head.public_key}")
            elif not head.new_chain_reason:
                _head_finding(result, f"{head} is signed by another key, not endorsed by the key before it")
        before = head
    if before is not None and before.public_key != public_key:
        _head_finding(result, f"the last tree head, {before}, is not signed by this ledger's current key")


def _compare_with_record(result: Verification, signed: list[TreeHead], stored: list[TreeHead]) -> None:
    """The store must hold exactly the heads of the signer's record."""
    in_store = {h.sequence: h for h in stored}
    for head in signed:
        found = in_store.pop(head.sequence, None)
        if found is None:
            _head_finding(
                result, f"{head}, which the signer signed, is missing from the store: it was deleted"
            )
        elif found != head:
            _head_finding(result, f"the store's head #{head.sequence} is not the one the signer signed")
    for head in in_store.values():
        _head_finding(result, f"the store holds {head}, which is not in the signer's record")


def _check_roots(
    result: Verification,
    chain: list[TreeHead],
    roots: dict[int, bytes],
    scheme_index_roots: dict[int, str],
    positions: dict[int, int],
    engine: Engine,
) -> None:
    """The recomputed roots at each head's size are the signed ones. Heads before the last new
    chain attest a history the operator declared replaced: they are reported, not failed."""
    start = max((i for i, h in enumerate(chain) if h.new_chain_reason), default=0)
    for head in chain[:start]:
        if roots.get(head.size, b"").hex() != head.root:
            result.notices.append(f"{head} attests a history the new chain replaced")
    good = 0
    with engine.connect() as conn:
        tree_size = Tree(conn).size
        stored_root = {h.size: Tree(conn).root(h.size).hex() for h in chain[start:] if h.size <= tree_size}
    for head in chain[start:]:
        if head.size > result.events:
            _found(
                result,
                Finding(
                    result.events + 1 if result.events else None,
                    "truncated",
                    f"the log has {result.events} events, fewer than the {head.size} of {head}",
                ),
            )
            return
        if roots.get(head.size, b"").hex() != head.root:
            first = positions.get(good, 0) + 1
            _found(
                result,
                Finding(
                    first,
                    "tree_head",
                    f"the events now hash to another root at size {head.size} than the one signed in "
                    f"{head} (the last signed size that still matches is {good})",
                    until=positions.get(head.size),
                ),
            )
            return
        if scheme_index_roots.get(head.size) != head.schemes_root:
            _head_finding(
                result, f"the events, grouped by scheme, no longer hash to the scheme index of {head}"
            )
            return
        if stored_root.get(head.size) != head.root:
            _found(
                result,
                Finding(
                    None,
                    "audit_tables",
                    f"the stored tree no longer has the root of {head}: the audit tables were altered",
                ),
            )
        good = head.size


def _check_digest(result: Verification, digest: TreeHead, roots: dict[int, bytes], keys: set[str]) -> None:
    if digest.public_key not in keys or not digest.verifies():
        _found(result, Finding(None, "digest", f"the kept {digest} is not signed by this ledger's keys"))
        return
    if digest.size > result.events:
        _found(
            result,
            Finding(
                None,
                "digest",
                f"the log has {result.events} events, fewer than the {digest.size} of the kept {digest}: "
                "it was truncated",
            ),
        )
        return
    if roots.get(digest.size, b"").hex() != digest.root:
        _found(
            result,
            Finding(
                None,
                "digest",
                f"the log does not extend the kept {digest}: its first {digest.size} events differ",
            ),
        )
