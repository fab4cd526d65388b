"""The composition root: builds the ledger and its read side from settings."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

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


def keep_private(settings: Settings) -> None:
    """An SQLite ledger's files are its owner's alone (0600): the events and the read models are
    made so before SQLite opens them (an empty file is a new database), and SQLite makes their
    -wal and -shm files with the same mode. Files an earlier version left readable are narrowed."""
    files = [settings.sqlite_path()]
    read_models = settings.read_models_url()
    if read_models.startswith("sqlite:///"):
        files.append(Path(read_models.removeprefix("sqlite:///")))
    for path in files:
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if each.exists() and stat.S_IMODE(each.stat().st_mode) & 0o077:
                each.chmod(0o600)


def build_system(settings: Settings | None = None, *, clock: Clock = today_in_china) -> System:
    settings = settings or Settings()
    if settings.is_sqlite:
        keep_private(settings)
    ledger = build_ledger(settings, clock=clock)
    url = settings.read_models_url()
    if url == "sqlite://":
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        engine = make_engine(url, pool_size=settings.pool_size)
    store = ProjectionStore(engine)
    store.create()
    key = settings.audit_key_path()
    copies = (settings.audit_heads_file,) if settings.audit_heads_file else ()
    signer = Signer.from_file(key, copies=copies) if key is not None else Signer.ephemeral()
    return System(settings, ledger, store, Runner(ledger, store, signer=signer))
