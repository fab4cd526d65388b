"""The aggregates: parties, schemes, loans and claims, with their explicit event classes."""

from ledger.domain.claim import Claim
from ledger.domain.loan import Loan
from ledger.domain.party import Party
from ledger.domain.scheme import Scheme

__all__ = ["Claim", "Loan", "Party", "Scheme"]
