"""The composition root: builds the ledger (and later its read side) from settings."""

from __future__ import annotations

from ledger.calendar import Clock, today_in_china
from ledger.service import Ledger
from riskpool.settings import Settings


def build_ledger(settings: Settings | None = None, *, clock: Clock = today_in_china) -> Ledger:
    settings = settings or Settings()
    return Ledger(env=settings.event_store_env(), clock=clock)
