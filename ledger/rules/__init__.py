"""The rules engine: rule version documents and the pure functions that apply them."""

from ledger.rules.checks import Publication, check_rule_version
from ledger.rules.document import RuleVersion
from ledger.rules.engine import (
    Allocation,
    AllocationPart,
    CapUsage,
    LoanTerms,
    allocate,
    claim_parties,
    resolve_split,
    rule_in_force,
    share_recovery,
)
from ledger.rules.loading import canonical, load_document

__all__ = [
    "Allocation",
    "AllocationPart",
    "CapUsage",
    "LoanTerms",
    "Publication",
    "RuleVersion",
    "allocate",
    "canonical",
    "check_rule_version",
    "claim_parties",
    "load_document",
    "resolve_split",
    "rule_in_force",
    "share_recovery",
]
