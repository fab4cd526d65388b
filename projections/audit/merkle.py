"""The Merkle tree over the log: the leaf of an event, and roots and proofs read from the tree.

Every complete subtree is stored as it completes (leaves in rp_leaves, interior nodes in
rp_merkle_nodes; the audit model, projections/audit/model.py, grows it), so the root at any size
and any inclusion or consistency proof take O(log² n) look-ups, whatever the age of the log.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable, Sequence

from eventsourcing.persistence import Notification
from sqlalchemy import select
from sqlalchemy.engine import Connection

from projections.audit.tables import leaves, merkle_nodes, merkle_peaks, merkle_size, scheme_trees
from projections.rows import Rows
from tools.verify_export import (
    EMPTY_ROOT,
    LEAF,
    Frontier,
    canonical_bytes,
    largest_power_of_two_below,
    leaf_hash,
    node_hash,
)

LOG = "log"


def event_leaf(notification: Notification) -> bytes:
    return leaf_hash(
        canonical_bytes(
            notification.id,
            notification.originator_id.bytes,
            notification.originator_version,
            notification.topic,
            notification.state,
        )
    )


class _Topics(dict):  # type: ignore[type-arg]
    """Each topic's length-prefixed UTF-8 bytes, as canonical_bytes writes them, made once a topic."""

    def __missing__(self, topic: str) -> bytes:
        encoded = topic.encode("utf-8")
        self[topic] = prefixed = len(encoded).to_bytes(4, "big") + encoded
        return prefixed


_TOPICS = _Topics()
# How canonical_bytes begins: position, aggregate id, version; one `pack` makes the three (and
# refuses, as `to_bytes` does, a negative or too large number).
_HEAD = struct.Struct(">Q16sQ")


def event_leaves(notifications: Iterable[Notification]) -> list[bytes]:
    """The leaf of each event, as `event_leaf` makes it, in one comprehension: no function call per
    event but the two SHA-256 and `pack` (a batch of catch-up hashes tens of thousands)."""
    if len(_TOPICS) > 10_000:  # a topic is a class: a few dozen, unless something is wrong
        _TOPICS.clear()
    sha256, head, topics = hashlib.sha256, _HEAD.pack, _TOPICS
    return [
        sha256(
            LEAF
            + head(n.id, n.originator_id.bytes, n.originator_version)
            + topics[n.topic]
            + sha256(n.state).digest()
        ).digest()
        for n in notifications
    ]


def grow(rows: Rows, added: Sequence[tuple[int, bytes]]) -> int:
    """Add the leaves of the events at these positions, in order, to the tree; returns the leaf
    index of the first. Every subtree they complete is appended as a node; the right edge (the
    last node of each level) and the size are written once, however many leaves moved them."""
    size_row = rows.get_or_new(merkle_size, LOG)
    first = size = size_row["size"]
    edge: dict[int, tuple[int, bytes]] = {}  # level: (index, hash) of its last node, as moved here
    added_leaves, added_nodes = [], []
    for position, leaf in added:
        node, level, at = leaf, 0, size
        added_leaves.append((size, position, leaf.hex()))  # (leaf_index, position, hash)
        size += 1
        while at & 1:  # a right child: combine with the left sibling, the last node of this level
            left_at, left = edge[level] if level in edge else _stored_edge(rows, level)
            assert left_at == at - 1, "the tree's right edge is out of step"
            edge[level] = (at, node)
            node, level, at = node_hash(left, node), level + 1, at >> 1
            added_nodes.append((level, at, node.hex()))  # (level, node_index, hash)
        edge[level] = (at, node)
    rows.extend_values(leaves, added_leaves)
    rows.extend_values(merkle_nodes, added_nodes)
    for level, (at, node) in edge.items():
        rows.get_or_new(merkle_peaks, level).update(node_index=at, hash=node.hex())
    size_row["size"] = size
    return first


def _stored_edge(rows: Rows, level: int) -> tuple[int, bytes]:
    peak = rows.require(merkle_peaks, level)
    return peak["node_index"], bytes.fromhex(peak["hash"])


def scheme_roots(conn: Connection) -> dict[str, tuple[int, str]]:
    """Every scheme's (number of events, root) as the tables hold them now."""
    return {
        r.scheme_id: (r.size, Frontier(r.size, [bytes.fromhex(p) for p in r.peaks]).root().hex())
        for r in conn.execute(select(scheme_trees))
    }


class Tree:
    """Read access to the stored tree, for roots and proofs."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.size = conn.execute(select(merkle_size.c.size).where(merkle_size.c.name == LOG)).scalar() or 0

    def node(self, level: int, index: int) -> bytes:
        if level == 0:
            query = select(leaves.c.hash).where(leaves.c.leaf_index == index)
        else:
            query = select(merkle_nodes.c.hash).where(
                merkle_nodes.c.level == level, merkle_nodes.c.node_index == index
            )
        found = self.conn.execute(query).scalar()
        assert found is not None, f"no stored node ({level}, {index}): the tree is incomplete"
        return bytes.fromhex(found)

    def nodes(self, level: int, start: int, end: int) -> dict[int, bytes]:
        """The stored nodes of a level (above the leaves) with index in [start, end)."""
        assert level > 0
        found = self.conn.execute(
            select(merkle_nodes.c.node_index, merkle_nodes.c.hash).where(
                merkle_nodes.c.level == level,
                merkle_nodes.c.node_index >= start,
                merkle_nodes.c.node_index < end,
            )
        )
        return {index: bytes.fromhex(node) for index, node in found}

    def mth(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for the ranges proofs use (start aligned to the range's size)."""
        width = end - start
        if width == 0:
            return EMPTY_ROOT
        if width & (width - 1) == 0 and start % width == 0:
            return self.node(width.bit_length() - 1, start // width)
        k = largest_power_of_two_below(width)
        return node_hash(self.mth(start, start + k), self.mth(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        assert 0 <= size <= self.size, f"the tree has {self.size} leaves, not {size}"
        return self.mth(0, size)

    def inclusion(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 §2.1.3.1 PATH(index, D[0:size])."""
        assert 0 <= index < size <= self.size
        return inclusion_path(index, 0, size, self.mth)

    def consistency(self, old: int, new: int) -> list[bytes]:
        """RFC 9162 §2.1.4.1 PROOF(old, D[0:new])."""
        assert 0 < old <= new <= self.size
        return _subproof(old, 0, new, True, self.mth)


Mth = Callable[[int, int], bytes]


def inclusion_path(m: int, start: int, end: int, mth: Mth) -> list[bytes]:
    n = end - start
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return [*inclusion_path(m, start, start + k, mth), mth(start + k, end)]
    return [*inclusion_path(m - k, start + k, end, mth), mth(start, start + k)]


def _subproof(m: int, start: int, end: int, whole: bool, mth: Mth) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if whole else [mth(start, end)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return [*_subproof(m, start, start + k, whole, mth), mth(start + k, end)]
    return [*_subproof(m - k, start + k, end, False, mth), mth(start, start + k)]
