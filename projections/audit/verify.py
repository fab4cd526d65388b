"""`riskpool audit verify`: does the event store still hold exactly the log that was signed?

Every leaf is recomputed from the stored events and compared with the leaf the tree recorded when
the event was first projected; the first difference is located and named (edited, deleted,
inserted, reordered, truncated). The chain of signed tree heads is checked against the signer's own
record, kept outside the database: a head deleted, altered or signed by another key is named, and
so is a log longer than one sealing interval with no head at all. Every head's root and scheme
index are checked against the roots of the recomputed leaves. Heads a witness or a regulator kept
(digests) are proved to be extended by the current log.

The store is read a page of thousands of rows at a time through the database driver itself
(projections/audit/reading.py) and hashed in tight loops: a verifier's time is SHA-256's.
"""

from __future__ import annotations

import hashlib
import struct
import sys
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice, repeat
from operator import itemgetter
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy import Connection, Engine, select

from projections import tables as t
from projections.audit.heads import BLOCK_EVENTS, BLOCK_LEVEL, TreeHead, heads
from projections.audit.merkle import Tree
from projections.audit.reading import Event, Leaf, LeafPage, Leaves, close_items, events as read_events
from tools.verify_export import (
    EMPTY_ROOT,
    LEAF,
    NO_SCHEME,
    NODE,
    Frontier,
    canonical_bytes,
    leaf_hash,
    rotation_endorsed,
    schemes_root,
)

PAGE = 10_000  # progress is reported every PAGE events
LEAF_BYTES = len(EMPTY_ROOT)  # a leaf hash is a SHA-256
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
    stored = heads(engine)
    chain = signed if signed is not None else stored
    _check_chain(result, chain, public_key)
    if signed is not None:
        _compare_with_record(result, signed, stored)
    wanted = {h.size for h in [*chain, *digests]}
    replay = _Replay(result, recorder, engine, wanted, blocks or {}, advance)
    replay.run()
    roots, scheme_index_roots, positions = replay.roots, replay.scheme_index_roots, replay.positions
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


class _Topics(dict):
    """Each topic's length-prefixed UTF-8 bytes, as canonical_bytes writes them, made once a topic."""

    def __missing__(self, topic: str) -> bytes:
        encoded = topic.encode("utf-8")
        self[topic] = prefixed = len(encoded).to_bytes(4, "big") + encoded
        return prefixed


# How canonical_bytes begins: position, aggregate id, version; one `pack` makes the three.
_HEAD = struct.Struct(">Q16sQ")
_position, _id = itemgetter(0), itemgetter(1)
# What a page of stored values may hold that the fast path does not take, and `_step` judges as
# `event_leaf` would (findings, or the very error `event_leaf` raises).
_UNUSUAL = (struct.error, TypeError, ValueError, AttributeError)


def _leaves(events: list[Event], ids: list[bytes], topics: _Topics) -> list[bytes]:
    """The leaf of each event, as `event_leaf` makes it, in one comprehension: no function call per
    event but the two SHA-256 (and `pack`, which refuses what `to_bytes` refuses)."""
    sha256, head, leaf = hashlib.sha256, _HEAD.pack, LEAF
    return [
        sha256(leaf + head(p, i, v) + topics[t] + sha256(s).digest()).digest()
        for (p, _, v, t, s), i in zip(events, ids, strict=True)
    ]


def _block_roots(leaves: list[bytes], count: int | None = None) -> list[bytes]:
    """The root of each block of 32 consecutive leaves among the first `count` (all, if None; a
    multiple of 32), level by level: five comprehensions for any number of blocks. Each level is
    taken in pairs from one iterator, not from two slices: no copy of the level is made."""
    sha256, node = hashlib.sha256, NODE
    level: Iterable[bytes] = leaves if count is None else islice(leaves, count)
    for _ in range(BLOCK_LEVEL):
        pairs = iter(level)
        level = [sha256(node + a + b).digest() for a, b in zip(pairs, pairs, strict=True)]
    return level  # type: ignore[return-value]


class _Growing:
    """The right edge of a Merkle tree grown a block of 32 leaves at a time: the leaves of the block
    being filled, and a Frontier over the roots of the complete blocks (the tree's nodes of level
    5). The same roots as a Frontier grown leaf by leaf, for a method call a block, not a leaf."""

    __slots__ = ("blocks", "pending")

    def __init__(self) -> None:
        self.blocks = Frontier()
        self.pending: list[bytes] = []

    @property
    def size(self) -> int:
        return self.blocks.size * BLOCK_EVENTS + len(self.pending)

    def add(self, leaves: list[bytes]) -> list[bytes]:
        """Append leaves; returns the roots of the blocks they complete."""
        pending = self.pending + leaves if self.pending else leaves
        whole = len(pending) - len(pending) % BLOCK_EVENTS
        roots = _block_roots(pending, whole) if whole else []
        for block in roots:
            self.blocks.append(block)
        self.pending = pending[whole:]
        return roots

    def root(self) -> bytes:
        partial = Frontier()
        for leaf in self.pending:
            partial.append(leaf)
        return Frontier(self.size, self.blocks.peaks + partial.peaks).root()


class _Events:
    """The stored events not yet matched with a leaf, read a page at a time."""

    def __init__(self, pages: Iterator[list[Event]]) -> None:
        self.pages = pages
        self.page: list[Event] = []
        self.at = 0  # the next event's index in `page`
        self.ended = False

    def ahead(self, count: int) -> list[Event]:
        """The next `count` events (fewer where the log ends), left where they are."""
        while len(self.page) - self.at < count and not self.ended:
            more = next(self.pages, None)
            if more is None:
                self.ended = True
            else:
                self.page, self.at = self.page[self.at :] + more, 0
        return self.page[self.at : self.at + count]

    def peek(self) -> Event | None:
        found = self.ahead(1)
        return found[0] if found else None

    def take(self, count: int) -> None:
        self.at += count

    def left(self) -> int:
        """How many events are not taken, reading all that are left."""
        count = len(self.page) - self.at
        self.page, self.at = [], 0
        return count + sum(len(page) for page in self.pages)

    def close(self) -> None:
        close_items(self.pages)


class _Replay:
    """Recompute every leaf from the events, compare it with the recorded one, check each block of
    32 against the signer's record, and note the root, the scheme index's root and the last
    event's position at each size a head or digest asks for.

    In an untouched store each event stands at the position its leaf was recorded for and hashes
    to it: a page of leaves is read as strings (its positions, its leaf hashes, its schemes or the
    one scheme of all), its events hashed in one comprehension, and the two compared whole
    (`_page`). A page where anything differs, or holds anything unusual, is gone through again one
    leaf at a time (`_step`), which alone makes findings other than the blocks': the same findings,
    in the same order, at the same positions as a leaf-by-leaf replay."""

    def __init__(
        self,
        result: Verification,
        recorder: ApplicationRecorder,
        engine: Engine,
        wanted: set[int],
        blocks: dict[int, str],
        advance: Callable[[int], None] | None,
    ) -> None:
        self.result, self.signed_blocks, self.advance = result, blocks, advance
        self.wanted, self.sizes = wanted, sorted(wanted)
        self.recorded = Leaves(engine)
        stored = read_events(recorder)
        self.events, self.hex_ids = _Events(stored.pages), stored.hex_ids
        self.log = _Growing()
        self.log_positions: list[int] = []  # of the leaves of the log's block being filled
        self.trees: dict[str, _Growing] = {}
        self.topics = _Topics()
        self.roots: dict[int, bytes] = {}
        self.scheme_index_roots: dict[int, str] = {}
        self.positions: dict[int, int] = {}

    def run(self) -> None:
        leaf_index = 0  # how many leaves were gone through
        pages = self.recorded.pages()
        try:
            for page in pages:
                if page.plain and self._page(page):
                    leaf_index += page.count
                    continue
                leaves = self.recorded.rows(page)
                for n, leaf in enumerate(leaves):
                    if not self._step(leaf, leaf_index + n):
                        self.result.sealed = self.recorded.count
                        return
                leaf_index += len(leaves)
            self.result.sealed = self.recorded.count
            self.result.unsealed = self.events.left()
        finally:
            close_items(pages)
            self.events.close()

    def _page(self, page: LeafPage) -> bool:
        """Take a page's events in one go if each stands at its leaf's position and hashes to its
        leaf; False (nothing taken) if not."""
        count = page.count
        events = self.events.ahead(count)
        if len(events) != count:
            return False
        positions = list(map(_position, events))
        if ",".join(map(str, positions)) != page.positions:
            return False
        try:
            ids = list(map(_id, events))
            if self.hex_ids:  # SQLite's text; anything but 32 hex digits is left to `_step`
                if set(map(len, ids)) != {32}:
                    return False
                ids = list(map(bytes.fromhex, ids))
                if set(map(len, ids)) != {16}:  # (fromhex passes over spaces; UUID does not)
                    return False
            computed = _leaves(events, ids, self.topics)
        except _UNUSUAL:
            return False
        if b"".join(computed).hex(",", LEAF_BYTES) != page.hashes:
            return False
        # The scheme of every event of the page, or of each.
        each: list[str] | None = None
        if page.schemes is None and positions[-1] - positions[0] + 1 == count:
            one = page.scheme  # (of every position from the first to the last: these)
        else:
            schemes = self.recorded.schemes(page) if page.schemes is None else page.schemes
            one = schemes.partition(",")[0]
            if schemes != ",".join(repeat(one, count)):
                each = schemes.split(",")
                if len(each) != count:
                    return False  # (a scheme id with a comma in it)
        self.events.take(count)
        start = 0
        while start < count:  # in runs that end at each size a head or digest asks for
            end = min(count, start + self._to_next_size())
            self._grow(computed[start:end], positions[start:end], one if each is None else each[start:end])
            start = end
        return True

    def _to_next_size(self) -> int:
        """How many more events until a size a head or digest asks for."""
        at = bisect_right(self.sizes, self.result.events)
        return self.sizes[at] - self.result.events if at < len(self.sizes) else sys.maxsize

    def _step(self, leaf: Leaf, leaf_index: int) -> bool:
        """One recorded leaf against the events at its position, naming each difference; False once
        the log has ended before it."""
        result, events = self.result, self.events
        _, position, stored, scheme = leaf
        event = events.peek()
        while event is not None and event[0] < position:  # an event the sealed log never had
            event = self._ided(event)
            _found(result, Finding(event[0], "inserted", _what(event) + " was never recorded by the ledger"))
            events.take(1)
            event = events.peek()
        if event is None:
            kind = "truncated" if leaf_index else "deleted"
            missing = self.recorded.count - leaf_index
            detail = f"the log ends before position {position}; {missing} recorded event(s) are missing"
            _found(result, Finding(position, kind, detail))
            return False
        if event[0] > position:
            recorded = self.recorded.entry(position)
            _found(
                result, Finding(position, "deleted", f"the event recorded here ({_ident(recorded)}) is gone")
            )
            return True
        events.take(1)
        event = self._ided(event)
        computed = leaf_hash(canonical_bytes(*event))
        if computed.hex() != stored:
            _found(result, _changed(event, self.recorded.entry(position), self.recorded.position_of))
        self._grow([computed], [event[0]], [scheme])
        return True

    def _ided(self, event: Event) -> Event:
        """The event with its aggregate id as 16 bytes, read from SQLite's text as the library reads
        it (`UUID`, which refuses what the library refuses)."""
        if not self.hex_ids:
            return event
        return (event[0], UUID(event[1]).bytes, *event[2:])

    def _grow(self, leaves: list[bytes], positions: list[int], schemes: str | list[str | None]) -> None:
        """Add matched events' leaves to the log's tree (checking each block they complete) and to
        their schemes' trees (`schemes` one for all, or one each); count them; note the roots if a
        head or digest asks for this size."""
        result = self.result
        first_block = self.log.blocks.size
        in_block = self.log_positions + positions
        for n, block in enumerate(self.log.add(leaves)):
            signed = self.signed_blocks.get(first_block + n)
            if signed is not None and block.hex() != signed:
                first = n * BLOCK_EVENTS
                _block_differs(result, in_block[first], in_block[first + BLOCK_EVENTS - 1])
        self.log_positions = in_block[len(in_block) - len(self.log.pending) :]
        if isinstance(schemes, str):
            self._scheme(schemes).add(leaves)
        else:
            grouped: dict[str, list[bytes]] = {}
            for scheme, leaf in zip(schemes, leaves, strict=True):
                grouped.setdefault(scheme or NO_SCHEME, []).append(leaf)
            for scheme, group in grouped.items():
                self._scheme(scheme).add(group)
        before = result.events
        result.events += len(leaves)
        if self.advance:
            for _ in range(result.events // PAGE - before // PAGE):
                self.advance(PAGE)
        if result.events in self.wanted:
            size = result.events
            self.roots[size] = self.log.root()
            entries = {s: (tree.size, tree.root().hex()) for s, tree in self.trees.items()}
            self.scheme_index_roots[size] = schemes_root(entries).hex()
            self.positions[size] = positions[-1]

    def _scheme(self, scheme: str | None) -> _Growing:
        scheme = scheme or NO_SCHEME
        tree = self.trees.get(scheme)
        if tree is None:
            tree = self.trees[scheme] = _Growing()
        return tree


def _block_differs(result: Verification, first: int, last: int) -> None:
    """A block of 32 events no longer hashes to the root the signer kept: named, unless a finding
    already names the exact event in it."""
    if any(f.position is not None and first <= f.position <= last for f in result.findings):
        return
    detail = "these 32 events no longer hash to the root the signer recorded for them when it signed them"
    _found(result, Finding(first, "differs", detail, until=last))


def _changed(event: Event, recorded: tuple | None, position_of: Callable[[str, int], int | None]) -> Finding:
    ident = (event[1].hex(), event[2])
    if recorded is not None and tuple(recorded[:2]) == ident:
        return Finding(event[0], "edited", f"{_what(event)} no longer hashes to the leaf recorded for it")
    where_was = position_of(*ident)
    if where_was is not None:
        return Finding(event[0], "reordered", f"{_what(event)} was recorded at position {where_was}")
    return Finding(
        event[0],
        "inserted",
        f"{_what(event)} was never recorded by the ledger (it stands where {_ident(recorded)} was)",
    )


def _what(event: Event) -> str:
    fact = event[3].rsplit(".", 1)[-1]
    return f"{fact} of aggregate {event[1].hex()} version {event[2]}"


def _ident(ident: tuple | None) -> str:
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
        tree = _StoredTree(conn)
        stored = tree.roots([h.size for h in chain[start:] if h.size <= tree.size])
    stored_root = {size: node.hex() for size, node in stored.items()}
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


class _StoredTree(Tree):
    """The stored tree, its nodes looked up together: the roots at the sizes of successive heads
    are made mostly of the same few subtrees, which are found first (hashing stand-ins), then read
    a level at a time."""

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._wanted: set[tuple[int, int]] | None = None

    def roots(self, sizes: list[int]) -> dict[int, bytes]:
        self._wanted = set()
        for size in sizes:
            self.root(size)
        levels: dict[int, list[int]] = {}
        for level, index in self._wanted:
            levels.setdefault(level, []).append(index)
        self._wanted = None
        for level, indexes in levels.items():
            if level == 0:
                query = select(t.leaves.c.leaf_index, t.leaves.c.hash).where(
                    t.leaves.c.leaf_index.in_(indexes)
                )
            else:
                query = select(t.merkle_nodes.c.node_index, t.merkle_nodes.c.hash).where(
                    t.merkle_nodes.c.level == level, t.merkle_nodes.c.node_index.in_(indexes)
                )
            self._nodes.update(
                ((level, index), bytes.fromhex(node)) for index, node in self.conn.execute(query)
            )
        return {size: self.root(size) for size in sizes}

    def node(self, level: int, index: int) -> bytes:
        if self._wanted is not None:
            self._wanted.add((level, index))
            return EMPTY_ROOT
        found = self._nodes.get((level, index))
        return found if found is not None else super().node(level, index)


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


def first_difference(result: Verification) -> str:
    """The narrowest place a finding names: an exact position, or the smallest range."""
    located = sorted(
        (f for f in result.findings if f.position is not None),
        key=lambda f: (f.until if f.until is not None else f.position, f.position),
    )
    if not located:
        return "no position is named"
    first = located[0]
    if first.until is not None and first.until != first.position:
        return f"the first difference lies between positions {first.position} and {first.until}"
    return f"the first position that differs is {first.position}"
