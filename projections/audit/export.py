"""`riskpool audit export`: the history as JSON Lines a regulator can check with their own tools.

One line per event (position, leaf index, ids, type, the stored state as exact bytes and as JSON,
attribution, business date and recorded time as the state says them, its scheme and its index in
that scheme's own tree, leaf hash; an API key's events carry only their state's SHA-256, since the
state holds the key's secret hash; with a scheme filter, each event's inclusion proof in the whole
log), then the signed tree head, with consistency proofs from every earlier tree head, the key
rotations since the first head, and, for a one-scheme export, the scheme's count and root with the
proof that the head commits to them. tools/verify_export.py checks it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import IO, Any

from eventsourcing.persistence import ApplicationRecorder, Notification
from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection

from ledger.domain.key import ApiKey
from projections.audit.heads import TreeHead, heads
from projections.audit.merkle import Tree, event_leaf, inclusion_path, scheme_roots
from projections.audit.tables import audit_events
from tools.verify_export import NO_SCHEME, readable, root as merkle_root, scheme_entries

PAGE = 5_000
CONSISTENCY_PROOFS_MAX = 1_000
# The state of an event that holds a secret is withheld: its SHA-256 still places it in the log.
SECRET_FIELDS = ApiKey.SECRET_FIELDS
WITHHELD = "the stored state holds an API key's secret hash: only its SHA-256 is exported"


class ExportRefused(Exception):
    pass


def export(
    recorder: ApplicationRecorder,
    engine: Engine,
    head: TreeHead,
    out: IO[str],
    *,
    scheme_id: str | None = None,
) -> int:
    """Write every event up to `head` (or those of one scheme) and the head itself; returns the
    number of events written. `head` must be the newest head (the scheme index is read as of it)."""
    written = 0
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        tree = Tree(conn)
        if tree.size != head.size:
            raise ExportRefused(f"the tree has {tree.size} events, not the {head.size} of {head}")
        for leaf_index, notification, info in _sealed(recorder, conn, head.size):
            scheme = info.get("scheme_id") or NO_SCHEME
            scheme_index = counts.get(scheme, 0)
            counts[scheme] = scheme_index + 1
            if scheme_id is not None and scheme != scheme_id:
                continue
            line = _line(leaf_index, notification, scheme, scheme_index)
            if scheme_id is not None:
                line["inclusion_proof"] = [h.hex() for h in tree.inclusion(leaf_index, head.size)]
            out.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
            written += 1
        all_heads = heads(engine)
        earlier = [h.size for h in all_heads if h.size < head.size][-CONSISTENCY_PROOFS_MAX:]
        proofs = {str(size): [p.hex() for p in tree.consistency(size, head.size)] for size in earlier}
        scheme = _scheme_commitment(conn, scheme_id) if scheme_id is not None else None
    rotations = [h.as_dict() for h in all_heads if h.previous_key and h.sequence <= head.sequence]
    out.write(
        json.dumps(
            head.as_dict()
            | {
                "record": "tree_head",
                "complete": scheme_id is None,
                "scheme": scheme,
                "consistency_from": proofs,
                "rotations": rotations,
            },
            ensure_ascii=False,
        )
        + "\n"
    )
    return written


def _scheme_commitment(conn: Connection, scheme_id: str) -> dict[str, Any]:
    """The scheme's count and root, and the proof that the head's scheme index holds them."""
    trees = scheme_roots(conn)
    entries = scheme_entries(trees)
    size, scheme_root = trees.get(scheme_id, (0, ""))
    position = next((i for i, (scheme, _) in enumerate(entries) if scheme == scheme_id), None)
    if position is None:
        raise ExportRefused(f"the log has no event of scheme {scheme_id!r}")
    leaves = [entry for _, entry in entries]
    proof = inclusion_path(position, 0, len(leaves), lambda start, end: merkle_root(leaves[start:end]))
    return {
        "scheme_id": scheme_id,
        "size": size,
        "root": scheme_root,
        "entry_index": position,
        "entries": len(leaves),
        "proof": [p.hex() for p in proof],
    }


def _sealed(
    recorder: ApplicationRecorder, conn: Connection, size: int
) -> Iterator[tuple[int, Notification, dict]]:
    leaf_index, start = 0, 1
    while leaf_index < size and (page := recorder.select_notifications(start=start, limit=PAGE)):
        positions = [n.id for n in page]
        info = {
            r.position: dict(r._mapping)
            for r in conn.execute(select(audit_events).where(audit_events.c.position.in_(positions)))
        }
        for notification in page:
            if leaf_index == size:
                return
            yield leaf_index, notification, info.get(notification.id, {})
            leaf_index += 1
        start = page[-1].id + 1


def _line(leaf_index: int, n: Notification, scheme_id: str, scheme_index: int) -> dict[str, Any]:
    line = {
        "record": "event",
        "position": n.id,
        "leaf_index": leaf_index,
        "originator_id": n.originator_id.hex,
        "version": n.originator_version,
        "topic": n.topic,
        "fact": n.topic.rsplit(".", 1)[-1],
        "scheme_id": scheme_id,
        "scheme_index": scheme_index,
        "leaf_hash": event_leaf(n).hex(),
    }
    if SECRET_FIELDS & json.loads(n.state).keys():
        return line | {"state_sha256": hashlib.sha256(n.state).hexdigest(), "withheld": WITHHELD}
    return line | {"state_hex": n.state.hex(), **readable(n.state)}
