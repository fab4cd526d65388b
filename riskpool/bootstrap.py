"""The composition root: builds the ledger and its read side from settings."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from ledger.calendar import Clock, today_in_china
from ledger.service import Ledger
from projections.audit.heads import Signer, TreeHead
from projections.audit.verify import Verification, verify_log
from projections.runner import Runner
from projections.store import ProjectionStore, make_engine
from riskpool.settings import Settings


def build_ledger(settings: Settings | None = None, *, clock: Clock = today_in_china) -> Ledger:
    settings = settings or Settings()
    return Ledger(env=settings.event_store_env(), clock=clock, key_pepper=settings.key_pepper.encode())


class System:
    """The ledger, its read models, the tree-head signer and the runner that keeps the read models
    current: each opened the first time it is used (a command opens only what it needs), all
    closed by `close()`."""

    def __init__(self, settings: Settings, *, clock: Clock = today_in_china) -> None:
        self.settings, self.clock = settings, clock

    @cached_property
    def ledger(self) -> Ledger:
        if self.settings.is_sqlite:
            keep_private(self.settings)
        return build_ledger(self.settings, clock=self.clock)

    @cached_property
    def store(self) -> ProjectionStore:
        url = self.settings.read_models_url()
        if url == "sqlite://":
            engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            if self.settings.is_sqlite:
                keep_private(self.settings)
            engine = make_engine(url, pool_size=self.settings.pool_size)
        store = ProjectionStore(engine)
        store.create()
        return store

    @cached_property
    def signer(self) -> Signer:
        key = self.settings.audit_key_path()
        copies = (self.settings.audit_heads_file,) if self.settings.audit_heads_file else ()
        return Signer.from_file(key, copies=copies) if key is not None else Signer.ephemeral()

    @cached_property
    def runner(self) -> Runner:
        return Runner(self.ledger, self.store, signer=self.signer)

    def verify(self, digests: Sequence[TreeHead] = ()) -> Verification:
        """The whole log checked against its Merkle tree and signed heads (`riskpool audit verify`,
        `GET /v1/audit/verification`), and that it extends each head kept outside (`digests`)."""
        signer = self.signer
        return verify_log(
            self.ledger.recorder,
            self.store.engine,
            public_key=signer.public_hex,
            signed=signer.signed(),
            blocks=signer.blocks(),
            digests=list(digests),
        )

    def close(self) -> None:
        opened = vars(self)
        if "runner" in opened:
            self.runner.stop()
        if "store" in opened:
            self.store.engine.dispose()
        if "ledger" in opened:
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
    return System(settings or Settings(), clock=clock)
