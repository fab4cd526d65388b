"""The report queries of rule book §9 under one roof, for readers outside projections/ (the printed
report, the error switch, the scheme routes, the features). Each query is defined once, in its
read model's module, and only named here."""

from __future__ import annotations

from projections.models.breakers import states as breakers
from projections.models.claims import QUEUE_STATUSES, QueueStatus, queue as claims_queue
from projections.models.journal import (
    Debt,
    Fund,
    LossRatio,
    Owed,
    PartyBalances,
    TrialBalanceBroken,
    balances,
    funds,
    loss_ratios,
    owed,
    trial_balance,
)
from projections.models.loans import book_groups as loan_book
from projections.models.schemes import Exposure, exposure, scheme_row
from projections.models.targets import TargetProgress, progress as targets

__all__ = [
    "QUEUE_STATUSES",
    "Debt",
    "Exposure",
    "Fund",
    "LossRatio",
    "Owed",
    "PartyBalances",
    "QueueStatus",
    "TargetProgress",
    "TrialBalanceBroken",
    "balances",
    "breakers",
    "claims_queue",
    "exposure",
    "funds",
    "loan_book",
    "loss_ratios",
    "owed",
    "scheme_row",
    "targets",
    "trial_balance",
]
