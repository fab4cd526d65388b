"""One projection runner per store at a time: the runner's lease.

Two `riskpool serve` processes on one store would otherwise both apply every batch, and all but one
would fail on the tracking position and retry forever. The lease is the store's own lock: a
PostgreSQL session advisory lock (per schema), or an exclusive `flock` on a file beside an SQLite
read-model file. It is held for as long as the runner runs and released when its process ends,
however it ends; whoever does not hold it waits quietly and follows the tables.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

PG_LOCK = "SELECT pg_try_advisory_lock(hashtext(current_schema() || '/riskpool-runner'))"


class Lease:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.held = False
        self._connection: Connection | None = None
        self._descriptor: int | None = None

    @property
    def needed(self) -> bool:
        """A store in this process's memory has no other process to keep out."""
        return self.engine.dialect.name == "postgresql" or self._lock_file() is not None

    def _lock_file(self) -> Path | None:
        database = self.engine.url.database
        if self.engine.dialect.name != "sqlite" or not database or database == ":memory:":
            return None
        return Path(database).with_name(Path(database).name + ".runner-lock")

    def acquire(self) -> bool:
        """Take the lease if nobody holds it; never waits."""
        if self.held:
            return True
        if self.engine.dialect.name == "postgresql":
            self.held = self._acquire_postgres()
        elif (path := self._lock_file()) is not None:
            self.held = self._acquire_file(path)
        else:
            self.held = True
        return self.held

    def _acquire_postgres(self) -> bool:
        connection = self.engine.connect()
        try:
            taken = bool(connection.execute(text(PG_LOCK)).scalar())
            connection.commit()  # the lock is the session's: it outlives the transaction
        except Exception:
            connection.close()
            raise
        if taken:
            self._connection = connection
        else:
            connection.close()
        return taken

    def _acquire_file(self, path: Path) -> bool:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return False
        self._descriptor = descriptor
        return True

    def still_held(self) -> bool:
        """False once the session that holds a PostgreSQL lease is gone (the lock went with it)."""
        if not self.held or self._connection is None:
            return self.held
        try:
            self._connection.execute(text("SELECT 1")).scalar()
            self._connection.commit()
        except Exception:
            self.release()
            return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            # Not back to the pool with the lock: end the session, and its advisory lock with it.
            self._connection.invalidate()
            self._connection.close()
            self._connection = None
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None
        self.held = False
