"""The composition root: builds the ledger and its read side from settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from ledger.calendar import Clock, today_in_china
from ledger.service import Ledger
from projections.audit.heads import Signer
from projections.runner import Runner
from projections.store import ProjectionStore, make_engine
from riskpool.settings import Settings


def build_ledger(settings: Settings | None = None, *, clock: Clock = today_in_china) -> Ledger:
    settings = settings or Settings()
    return Ledger(env=settings.event_store_env(), clock=clock, key_pepper=settings.key_pepper.encode())


@dataclass
class System:
    """The ledger, its projections' store, and the runner that keeps them up to date."""

    settings: Settings
    ledger: Ledger
    store: ProjectionStore
    runner: Runner

    def close(self) -> None:
        self.runner.stop()
        self.store.engine.dispose()
        self.ledger.close()


def build_system(settings: Settings | None = None, *, clock: Clock = today_in_china) -> System:
    settings = settings or Settings()
    ledger = build_ledger(settings, clock=clock)
    url = settings.read_models_url()
    if url == "sqlite://":
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        engine = make_engine(url, pool_size=settings.pool_size)
    store = ProjectionStore(engine)
    store.create()
    key = settings.audit_key_path()
    signer = Signer.from_file(key) if key is not None else Signer.ephemeral()
    return System(settings, ledger, store, Runner(ledger, store, signer=signer))
