"""The read models' tables (SQLAlchemy Core). Every row is derived from the event log alone.

Aggregates are keyed by their uuid (hex) because later events carry only that; the caller's
references (scheme id, bank + loan ref, claim id) are unique indexes beside it. Money is int fen.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    text,
)

metadata = MetaData()
Id = String(64)
Ref = String(200)


def fen(name: str) -> Column:
    return Column(name, BigInteger, nullable=False, default=0)


def count(name: str) -> Column:
    return Column(name, Integer, nullable=False, default=0)


tracking = Table(
    "rp_tracking", metadata, Column("name", Id, primary_key=True), Column("position", BigInteger)
)

schemes = Table(
    "rp_schemes",
    metadata,
    Column("scheme_uuid", Id, primary_key=True),
    Column("scheme_id", Id, nullable=False, unique=True),
    Column("name", String(400), nullable=False),
    Column("demo", Boolean, nullable=False),
    Column("created_on", Date, nullable=False),
    fen("exposure_fen"),
    fen("paid_in_fen"),
    count("rule_versions"),
    Column("targets", JSON, nullable=False),
)

parties = Table(
    "rp_parties",
    metadata,
    Column("party_id", Id, primary_key=True),
    Column("role", Id, nullable=False),
    Column("name", String(400), nullable=False),
)

members = Table(
    "rp_members",
    metadata,
    Column("scheme_id", Id, primary_key=True),
    Column("party_id", Id, primary_key=True),
    Column("role", Id, nullable=False),
    Column("name", String(400), nullable=False),
    Column("admitted_on", Date, nullable=False),
)

rule_versions = Table(
    "rp_rule_versions",
    metadata,
    Column("scheme_id", Id, primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("effective_from", Date, nullable=False),
    Column("published_on", Date, nullable=False),
    Column("leverage_multiple", Integer, nullable=False),
    Column("document", JSON, nullable=False),
)

loans = Table(
    "rp_loans",
    metadata,
    Column("loan_uuid", Id, primary_key=True),
    Column("scheme_id", Id, nullable=False),
    Column("bank_id", Id, nullable=False),
    Column("loan_ref", Ref, nullable=False),
    Column("borrower_name", String(400), nullable=False),
    Column("borrower_uscc", String(18), nullable=False),
    Column("product", Id, nullable=False),
    Column("tags", JSON, nullable=False),
    fen("principal_fen"),
    Column("rate_bp", Integer, nullable=False),
    Column("term_months", Integer, nullable=False),
    Column("cover", Id, nullable=False),
    Column("cover_party_id", Id),
    Column("rule_version", Integer, nullable=False),
    Column("state", Id, nullable=False),
    Column("enrolled_on", Date, nullable=False),
    Column("disbursed_on", Date),
    Column("defaulted_on", Date),
    Column("closed_on", Date),
    fen("principal_repaid_fen"),
    fen("interest_repaid_fen"),
    fen("exposure_fen"),
    Column("outstanding_at_default_fen", BigInteger),
    count("claims_filed"),
    Column("current_claim_id", Ref),
    Column("version", Integer, nullable=False),
    Index("rp_loans_ref", "scheme_id", "bank_id", "loan_ref", unique=True),
)

loan_book = Table(
    "rp_loan_book",
    metadata,
    Column("scheme_id", Id, primary_key=True),
    Column("bank_id", Id, primary_key=True),
    Column("state", Id, primary_key=True),
    Column("product", Id, primary_key=True),
    Column("cover", Id, primary_key=True),
    count("loans"),
    fen("principal_fen"),
    fen("exposure_fen"),
)

banks = Table(
    "rp_banks",
    metadata,
    Column("scheme_id", Id, primary_key=True),
    Column("bank_id", Id, primary_key=True),
    fen("disbursed_fen"),
    fen("defaulted_fen"),
)

lending = Table(
    "rp_lending",
    metadata,
    Column("scheme_id", Id, primary_key=True),
    Column("year", Integer, primary_key=True),
    fen("disbursed_fen"),
    count("loans"),
    count("firms_new"),
    fen("contributed_fen"),
)

firms = Table(
    "rp_firms",
    metadata,
    Column("scheme_id", Id, primary_key=True),
    Column("borrower_uscc", String(18), primary_key=True),
    Column("first_disbursed_on", Date, nullable=False),
)

claims = Table(
    "rp_claims",
    metadata,
    Column("claim_uuid", Id, primary_key=True),
    Column("scheme_id", Id, nullable=False),
    Column("claim_id", Ref, nullable=False),
    Column("bank_id", Id, nullable=False),
    Column("loan_ref", Ref, nullable=False),
    Column("status", Id, nullable=False),
    fen("claimed_fen"),
    Column("approved_fen", BigInteger),
    fen("recovered_net_fen"),
    Column("filed_on", Date, nullable=False),
    Column("first_approved_on", Date),
    Column("first_checker", Id),
    fen("first_approved_fen"),
    Column("approved_on", Date),
    Column("rejected_on", Date),
    Column("settled_on", Date),
    Column("rule_version", Integer),
    Column("reason", String(2000)),
    Column("parties", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Index("rp_claims_ref", "scheme_id", "claim_id", unique=True),
    Index("rp_claims_queue", "scheme_id", "status", "filed_on", "claim_id"),
    Index("rp_claims_by_filing", "scheme_id", "filed_on", "claim_id"),
)

claim_parties = Table(
    "rp_claim_parties",
    metadata,
    Column("claim_uuid", Id, primary_key=True),
    Column("party_id", Id, primary_key=True),
    Column("scheme_id", Id, nullable=False),
    Column("claim_id", Ref, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("share_key", Id, nullable=False),
    Column("bp", Integer, nullable=False),
    fen("split_fen"),
    fen("cut_fen"),
    fen("overflow_fen"),
    fen("allocated_fen"),
    fen("paid_fen"),
    fen("recovered_fen"),
    fen("recovery_paid_fen"),
)

facts = Table(
    "rp_facts",
    metadata,
    Column("scheme_id", Id, primary_key=True),
    Column("fact_id", Ref, primary_key=True),
    Column("kind", Id, nullable=False),
    Column("party_id", Id, nullable=False),
    Column("counterparty_id", Id, nullable=False),
    Column("claim_id", Ref, nullable=False),
    fen("amount_fen"),
    Column("details", JSON, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("reversed_position", BigInteger),
    Column("reversed_on", Date),
    Column("reason", String(2000)),
)

OPEN_PAYABLE = "kind = 'payable' AND balance_fen != 0"

accounts = Table(
    "rp_accounts",
    metadata,
    Column("scheme_id", Id, primary_key=True),
    Column("party_id", Id, primary_key=True),
    Column("kind", Id, primary_key=True),
    Column("counterparty_id", Id, primary_key=True),
    Column("claim_id", Ref, primary_key=True),
    fen("balance_fen"),
    # The owed matrix reads the payables still open: a few rows however many claims were settled.
    Index(
        "rp_accounts_open_payables",
        "scheme_id",
        "claim_id",
        "party_id",
        "counterparty_id",
        sqlite_where=text(OPEN_PAYABLE),
        postgresql_where=text(OPEN_PAYABLE),
    ),
)

party_totals = Table(
    "rp_party_totals",
    metadata,
    Column("scheme_id", Id, primary_key=True),
    Column("party_id", Id, primary_key=True),
    Column("kind", Id, primary_key=True),
    fen("balance_fen"),
)

party_figures = Table(
    "rp_party_figures",
    metadata,
    Column("scheme_id", Id, primary_key=True),
    Column("party_id", Id, primary_key=True),
    fen("settlements_paid_fen"),
    fen("recovery_parts_received_fen"),
)

journal = Table(
    "rp_journal",
    metadata,
    Column("position", BigInteger, primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("scheme_id", Id, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("fact", Id, nullable=False),
    Column("fact_id", Ref, nullable=False),
    Column("party_id", Id, nullable=False),
    Column("kind", Id, nullable=False),
    Column("counterparty_id", Id, nullable=False),
    Column("claim_id", Ref, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Index("rp_journal_scheme", "scheme_id", "position"),
)

breakers = Table(
    "rp_breakers",
    metadata,
    Column("scheme_id", Id, primary_key=True),
    Column("breaker", Id, primary_key=True),
    Column("kind", Id, nullable=False),
    Column("party_id", Id, nullable=False),
    Column("tripped", Boolean, nullable=False),
    fen("figure_fen"),
    fen("base_fen"),
    Column("threshold_bp", Integer, nullable=False),
    Column("tripped_on", Date, nullable=False),
    Column("trigger", Ref, nullable=False),
    Column("reset_on", Date),
    Column("reset_reason", String(2000)),
)

# The Merkle tree over the notification log (RFC 9162), and the index of every event for audits.
leaves = Table(
    "rp_leaves",
    metadata,
    Column("leaf_index", BigInteger, primary_key=True),
    Column("position", BigInteger, nullable=False, unique=True),
    Column("hash", String(64), nullable=False),
)

merkle_nodes = Table(
    "rp_merkle_nodes",
    metadata,
    Column("level", Integer, primary_key=True),
    Column("node_index", BigInteger, primary_key=True),
    Column("hash", String(64), nullable=False),
)

merkle_peaks = Table(
    "rp_merkle_peaks",
    metadata,
    Column("level", Integer, primary_key=True),
    Column("node_index", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

merkle_size = Table(
    "rp_merkle_size",
    metadata,
    Column("name", Id, primary_key=True),
    Column("size", BigInteger, nullable=False, default=0),
)

# Each scheme's own Merkle tree over its events, in log order (the events of no scheme, such as
# parties and keys, under ""): only its right edge is kept, enough for its root, which every tree
# head commits to so that a one-scheme export proves it is complete.
scheme_trees = Table(
    "rp_scheme_trees",
    metadata,
    Column("scheme_id", Id, primary_key=True),
    Column("size", BigInteger, nullable=False, default=0),
    Column("peaks", JSON, nullable=False, default=[]),
)

audit_events = Table(
    "rp_audit_events",
    metadata,
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
)

audit_event_parties = Table(
    "rp_audit_event_parties",
    metadata,
    Column("party_id", Id, primary_key=True),
    Column("position", BigInteger, primary_key=True),
)

# Tables only ever appended to: the batch inserts its new rows, nothing is read back.
APPENDED = [journal, leaves, merkle_nodes, audit_events, audit_event_parties]

# Tables whose rows the projector reads back and updates (all but the append-only journal).
KEYED = [
    schemes,
    parties,
    members,
    rule_versions,
    loans,
    loan_book,
    banks,
    lending,
    firms,
    claims,
    claim_parties,
    facts,
    accounts,
    party_totals,
    party_figures,
    breakers,
    merkle_peaks,
    merkle_size,
    scheme_trees,
]
