"""Growing the Merkle tree as the log grows, and proving things about it.

Every complete subtree is stored as it completes (leaves in rp_leaves, interior nodes in
rp_merkle_nodes), so the root at any size and any inclusion or consistency proof take O(log² n)
look-ups, whatever the age of the log.
"""

from __future__ import annotations

from collections.abc import Callable

from eventsourcing.persistence import Notification
from sqlalchemy import select
from sqlalchemy.engine import Connection

from projections import tables as t
from projections.rows import Rows
from tools.verify_export import (
    EMPTY_ROOT,
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


def append(rows: Rows, position: int, node: bytes) -> int:
    """Add the leaf of the event at `position` to the tree; returns its leaf index."""
    size = rows.get_or_new(t.merkle_size, LOG)
    index = size["size"]
    rows.append(t.leaves, {"leaf_index": index, "position": position, "hash": node.hex()})
    level, at = 0, index
    while at & 1:  # a right child: combine with the left sibling, the last node of this level
        left = rows.require(t.merkle_peaks, level)
        assert left["node_index"] == at - 1, "the tree's right edge is out of step"
        sibling = bytes.fromhex(left["hash"])
        _peak(rows, level, at, node)  # (the same row as `left`: read it first)
        node, level, at = node_hash(sibling, node), level + 1, at >> 1
        rows.append(t.merkle_nodes, {"level": level, "node_index": at, "hash": node.hex()})
    _peak(rows, level, at, node)
    size["size"] = index + 1
    rows.changed(t.merkle_size, size)
    return index


def append_to_scheme(rows: Rows, scheme_id: str, leaf: bytes) -> None:
    """Add an event's leaf to its scheme's own tree (the right edge only: enough for its root)."""
    row = rows.get_or_new(t.scheme_trees, scheme_id)
    frontier = Frontier(row["size"], [bytes.fromhex(p) for p in row["peaks"]])
    frontier.append(leaf)
    row.update(size=frontier.size, peaks=[p.hex() for p in frontier.peaks])
    rows.changed(t.scheme_trees, row)


def scheme_roots(conn: Connection) -> dict[str, tuple[int, str]]:
    """Every scheme's (number of events, root) as the tables hold them now."""
    return {
        r.scheme_id: (r.size, Frontier(r.size, [bytes.fromhex(p) for p in r.peaks]).root().hex())
        for r in conn.execute(select(t.scheme_trees))
    }


def _peak(rows: Rows, level: int, index: int, node: bytes) -> None:
    peak = rows.get_or_new(t.merkle_peaks, level)
    peak.update(node_index=index, hash=node.hex())
    rows.changed(t.merkle_peaks, peak)


class Tree:
    """Read access to the stored tree, for roots and proofs."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.size = (
            conn.execute(select(t.merkle_size.c.size).where(t.merkle_size.c.name == LOG)).scalar() or 0
        )

    def node(self, level: int, index: int) -> bytes:
        if level == 0:
            query = select(t.leaves.c.hash).where(t.leaves.c.leaf_index == index)
        else:
            query = select(t.merkle_nodes.c.hash).where(
                t.merkle_nodes.c.level == level, t.merkle_nodes.c.node_index == index
            )
        found = self.conn.execute(query).scalar()
        assert found is not None, f"no stored node ({level}, {index}): the tree is incomplete"
        return bytes.fromhex(found)

    def nodes(self, level: int, start: int, end: int) -> dict[int, bytes]:
        """The stored nodes of a level (above the leaves) with index in [start, end)."""
        assert level > 0
        found = self.conn.execute(
            select(t.merkle_nodes.c.node_index, t.merkle_nodes.c.hash).where(
                t.merkle_nodes.c.level == level,
                t.merkle_nodes.c.node_index >= start,
                t.merkle_nodes.c.node_index < end,
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
