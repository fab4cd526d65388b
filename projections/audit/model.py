"""The audit read model: every event becomes a leaf of the Merkle tree over the log and of its
scheme's tree, and a row of the audit index (tables in projections/audit/tables.py).

It works a batch at a time: the leaves are hashed and the tree grown in memory, and each interior
node, leaf and index row is appended once; the tree's right edge, its size and each scheme's edge
are written once per batch, however many events moved them.
"""

from __future__ import annotations

from collections.abc import Sequence

from projections.audit import merkle
from projections.audit.index import index
from projections.audit.tables import audit_event_parties, audit_events, model, scheme_trees
from projections.model import Recorded
from projections.rows import Rows
from tools.verify_export import Frontier

__all__ = ["model"]


@model.handles_batches
def grow(rows: Rows, batch: Sequence[Recorded]) -> None:
    leaves = merkle.event_leaves(notification for _, _, notification in batch)
    leaf_index = merkle.grow(
        rows, [(recorded.position, leaf) for recorded, leaf in zip(batch, leaves, strict=True)]
    )
    frontiers: dict[str, Frontier] = {}
    indexed, concerned = [], []
    subjects = rows.subjects
    for (position, event, _), leaf in zip(batch, leaves, strict=True):
        row, parties, scheme_id = index(event, position, leaf_index, subjects)
        leaf_index += 1
        indexed.append(row)
        if len(parties) == 1:
            concerned.append((*parties, position))  # (party_id, position)
        elif parties:
            concerned += [(party, position) for party in sorted(parties)]
        frontier = frontiers.get(scheme_id)
        if frontier is None:
            stored = rows.get_or_new(scheme_trees, scheme_id)
            peaks = [bytes.fromhex(peak) for peak in stored["peaks"]]
            frontier = frontiers[scheme_id] = Frontier(stored["size"], peaks)
        frontier.append(leaf)
    rows.extend_values(audit_events, indexed)
    rows.extend_values(audit_event_parties, concerned)
    for scheme_id, frontier in frontiers.items():
        peaks = [peak.hex() for peak in frontier.peaks]
        rows.require(scheme_trees, scheme_id).update(size=frontier.size, peaks=peaks)
