"""The Merkle tree over the log against RFC 9162's definitions, written out naively here."""

from __future__ import annotations

import hashlib
from uuid import UUID

from eventsourcing.persistence import Notification
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from projections.audit import merkle
from projections.audit.tables import model as audit
from projections.rows import Rows
from projections.store import ProjectionStore
from projections.subjects import Subjects
from tools.verify_export import (
    Frontier,
    canonical_bytes,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

SIZES = 70


def mth(d: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, as written."""
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = 1
    while k * 2 < len(d):
        k *= 2
    return node_hash(mth(d[:k]), mth(d[k:]))


def notification(i: int) -> Notification:
    return Notification(
        id=i * 3 + 1,
        originator_id=UUID(int=i % 7),
        originator_version=i,
        topic=f"t:E{i % 5}",
        state=f'{{"n":{i}}}'.encode(),
    )


def grown(n: int) -> tuple[merkle.Tree, list[bytes]]:
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    store = ProjectionStore(engine)
    store.create()
    rows = Rows(audit, Subjects(None, None))
    for i in range(n):
        event = notification(i)
        assert merkle.grow(rows, [(event.id, merkle.event_leaf(event))]) == i
    store.fill({audit.name: rows}, n)
    leaves = [
        leaf_hash(canonical_bytes(x.id, x.originator_id.bytes, x.originator_version, x.topic, x.state))
        for x in map(notification, range(n))
    ]
    return merkle.Tree(engine.connect()), leaves


def test_a_leaf_hashes_the_position_id_version_topic_and_the_states_sha256() -> None:
    data = canonical_bytes(5, UUID(int=1).bytes, 2, "t:E", b"{}")
    assert (
        data
        == (5).to_bytes(8, "big")
        + UUID(int=1).bytes
        + (2).to_bytes(8, "big")
        + b"\x00\x00\x00\x03t:E"
        + bytes.fromhex("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")  # SHA-256 of {}
    )
    assert leaf_hash(data) == hashlib.sha256(b"\x00" + data).digest()


def test_the_stored_tree_has_rfc_9162_roots_at_every_size() -> None:
    tree, leaves = grown(SIZES)
    frontier = Frontier()
    for n in range(SIZES + 1):
        assert tree.root(n) == mth(leaves[:n]) == root(leaves[:n])
        if n < SIZES:
            assert frontier.root() == mth(leaves[:n])
            frontier.append(leaves[n])


def test_every_inclusion_proof_verifies_and_proves_nothing_else() -> None:
    tree, leaves = grown(SIZES)
    for n in range(1, SIZES + 1):
        for m in range(n):
            path = tree.inclusion(m, n)
            assert verify_inclusion(m, n, leaves[m], path, mth(leaves[:n]))
            assert not verify_inclusion(m, n, leaves[m - 1] if m else leaf_hash(b"x"), path, mth(leaves[:n]))
            assert (
                not verify_inclusion((m + 1) % n if n > 1 else 1, n, leaves[m], path, mth(leaves[:n]))
                or n == 1
            )


def test_every_consistency_proof_verifies_and_a_forked_history_does_not() -> None:
    tree, leaves = grown(SIZES)
    forked = [leaf_hash(b"forged"), *leaves[1:]]
    for n in range(1, SIZES + 1):
        for m in range(1, n + 1):
            proof = tree.consistency(m, n)
            assert verify_consistency(m, n, mth(leaves[:m]), mth(leaves[:n]), proof)
            if m < n:
                assert not verify_consistency(m, n, mth(forked[:m]), mth(leaves[:n]), proof)


def test_a_tree_grown_a_batch_at_a_time_stores_what_one_grown_a_leaf_at_a_time_stores() -> None:
    leaves = [merkle.event_leaf(notification(i)) for i in range(SIZES)]

    def stored(batches: list[int]) -> dict[str, list[object]]:
        rows, grown_to = Rows(audit, Subjects(None, None)), 0
        for size in batches:
            added = [(notification(i).id, leaves[i]) for i in range(grown_to, grown_to + size)]
            assert merkle.grow(rows, added) == grown_to
            grown_to += size
        keyed = {table.name: sorted(map(dict.items, found)) for table, found in rows.everything()}
        return keyed | {table.name: list(values) for table, values in rows.pending_values()}

    one_by_one = stored([1] * SIZES)
    assert one_by_one == stored([SIZES]) == stored([3, 29, 1, 0, 16, 21])
    assert len(one_by_one["rp_merkle_nodes"]) == SIZES - bin(SIZES).count("1")  # every complete subtree
