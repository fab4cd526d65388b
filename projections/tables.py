"""Every read model's tables by name, for code outside projections/ that reads them directly (the
audit verifier, the audit, scheme and party routes). Each table belongs to one model and is
declared in its module; code of projections/ imports it from there."""

from __future__ import annotations

from projections.audit.tables import (
    audit_event_parties,
    audit_events,
    leaves,
    merkle_nodes,
    merkle_peaks,
    merkle_size,
    scheme_trees,
)
from projections.models.breakers import breakers
from projections.models.claims import claim_parties, claims
from projections.models.journal import OPEN_PAYABLE, accounts, facts, journal, party_figures, party_totals
from projections.models.loans import banks, loan_book, loans
from projections.models.parties import parties
from projections.models.schemes import members, rule_versions, schemes
from projections.models.targets import firms, lending
from projections.store import tracking

__all__ = [
    "OPEN_PAYABLE",
    "accounts",
    "audit_event_parties",
    "audit_events",
    "banks",
    "breakers",
    "claim_parties",
    "claims",
    "facts",
    "firms",
    "journal",
    "leaves",
    "lending",
    "loan_book",
    "loans",
    "members",
    "merkle_nodes",
    "merkle_peaks",
    "merkle_size",
    "parties",
    "party_figures",
    "party_totals",
    "rule_versions",
    "scheme_trees",
    "schemes",
    "tracking",
]
