"""The audit model's tables: the Merkle tree over the notification log (RFC 9162), each scheme's
own tree, and the index of every event for audits. Apart from projections/audit/model.py, which
fills them, because the tree's readers (merkle.py), the export and the verifier read them too.

Their columns and meaning are what tools/verify_export.py and `audit verify` rely on: unchanged.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Date, Index, Integer, String

from projections.model import Id, ReadModel, Ref

model = ReadModel("audit", whole_log=True)

leaves = model.table(
    "rp_leaves",
    Column("leaf_index", BigInteger, primary_key=True),
    Column("position", BigInteger, nullable=False, unique=True),
    Column("hash", String(64), nullable=False),
    appended=True,
)

merkle_nodes = model.table(
    "rp_merkle_nodes",
    Column("level", Integer, primary_key=True),
    Column("node_index", BigInteger, primary_key=True),
    Column("hash", String(64), nullable=False),
    appended=True,
)

# The last node of each level: the tree's right edge, from which the next leaf grows it.
merkle_peaks = model.table(
    "rp_merkle_peaks",
    Column("level", Integer, primary_key=True),
    Column("node_index", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

merkle_size = model.table(
    "rp_merkle_size",
    Column("name", Id, primary_key=True),
    Column("size", BigInteger, nullable=False, default=0),
)

# Each scheme's own Merkle tree over its events, in log order (the events of no scheme, such as
# parties and keys, under ""): only its right edge is kept, enough for its root, which every tree
# head commits to so that a one-scheme export proves it is complete.
scheme_trees = model.table(
    "rp_scheme_trees",
    Column("scheme_id", Id, primary_key=True),
    Column("size", BigInteger, nullable=False, default=0),
    Column("peaks", JSON, nullable=False, default=[]),
)

audit_events = model.table(
    "rp_audit_events",
    Column("position", BigInteger, primary_key=True),
    Column("leaf_index", BigInteger, nullable=False),
    Column("originator_id", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("aggregate", Id, nullable=False),
    Column("fact", Id, nullable=False),
    Column("scheme_id", Id),
    Column("bank_id", Id),
    Column("loan_ref", Ref),
    Column("claim_id", Ref),
    Column("fact_id", Ref),
    Column("reverses", Ref),
    Column("principal_id", Id, nullable=False),
    Column("role", Id, nullable=False),
    Column("actor_party_id", Id),
    Column("request_id", String(100), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Index("rp_audit_scheme", "scheme_id", "position"),
    Index("rp_audit_aggregate", "originator_id", "version"),
    appended=True,
)

audit_event_parties = model.table(
    "rp_audit_event_parties",
    Column("party_id", Id, primary_key=True),
    Column("position", BigInteger, primary_key=True),
    appended=True,
)
