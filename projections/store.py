"""The read models' SQL store: each model's tables and its own position in the log, rows loaded by
key, and each batch written in one transaction together with the position every model in it
reached, so every event is applied to every model exactly once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    MetaData,
    Table,
    bindparam,
    create_engine,
    delete,
    event,
    insert,
    inspect,
    select,
    update,
)

from projections.audit.heads import attestations
from projections.bulk import TableWriter
from projections.model import Id, ReadModel
from projections.registry import MODELS
from projections.rows import Key, Rows, primary_key

LEGACY = "riskpool"  # the one position of the read models before each model kept its own

bookkeeping = MetaData()
tracking = Table(
    "rp_tracking", bookkeeping, Column("name", Id, primary_key=True), Column("position", BigInteger)
)


class TrackingMoved(Exception):
    """Another writer moved a model's position: this runner's rows are stale."""


SQLITE_CACHE_KIB = 64 * 1024  # the indexes a batch inserts into at random (uuids) stay in memory
SQLITE_CHECKPOINT_PAGES = 10_000  # a page written by many batches is copied back to the file once


def sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _: Any) -> None:
        cursor = connection.cursor()
        if ":memory:" not in url and url != "sqlite://":
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    return engine


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    if url.startswith("sqlite"):
        return sqlite_engine(url)
    return create_engine(url, pool_size=pool_size, pool_pre_ping=True)


Pending = tuple[ReadModel, Rows, int]  # a model, its rows to write, the position they start from


class ProjectionStore:
    def __init__(self, engine: Engine, models: Sequence[ReadModel] = MODELS) -> None:
        self.engine, self.models = engine, tuple(models)
        postgres = engine.dialect.name == "postgresql"
        tables = [table for model in self.models for table in model.tables]
        self.writers = {table.name: TableWriter(table, postgres=postgres) for table in tables}
        self._selects = {
            table.name: select(table).where(
                *(table.c[name] == bindparam(name) for name in primary_key(table))
            )
            for model in self.models
            for table in model.keyed
        }

    def model(self, name: str) -> ReadModel:
        found = [model for model in self.models if model.name == name]
        if not found:
            raise KeyError(f"no read model {name!r}; there are {', '.join(m.name for m in self.models)}")
        return found[0]

    def create(self) -> None:
        """Create what is missing; a model with no position yet starts from the first event.

        Read models written before each kept its own position carry on from that one position
        when all their tables were there; any other model's leftover rows are dropped.
        """
        existing = set(inspect(self.engine).get_table_names())
        bookkeeping.create_all(self.engine)
        attestations.create_all(self.engine)  # tree heads: evidence, never dropped by a rebuild
        for model in self.models:
            model.metadata.create_all(self.engine)
            for table in model.tables:  # indexes added since the tables were created
                for index in table.indexes:
                    index.create(self.engine, checkfirst=True)
        with self.engine.begin() as connection:
            known = dict(connection.execute(select(tracking.c.name, tracking.c.position)).all())
        legacy = known.get(LEGACY)
        for model in self.models:
            if model.name in known:
                continue
            names = {table.name for table in model.tables}
            inherited = legacy is not None and names <= existing
            if not inherited and names & existing:
                self._recreate(model)
            with self.engine.begin() as connection:
                connection.execute(
                    insert(tracking).values(name=model.name, position=legacy if inherited else 0)
                )
        if legacy is not None:
            with self.engine.begin() as connection:
                connection.execute(delete(tracking).where(tracking.c.name == LEGACY))

    def drop(self) -> None:
        """Every model's tables and positions (a rebuild of everything); tree heads stay."""
        for model in self.models:
            model.metadata.drop_all(self.engine)
        bookkeeping.drop_all(self.engine)

    def reset(self, name: str) -> None:
        """Empty one model's tables and put it back at position zero; the others stay as they are.
        Its position goes first: a crash half-way leaves a model with no position, whose tables
        `create` empties."""
        model = self.model(name)
        with self.engine.begin() as connection:
            connection.execute(delete(tracking).where(tracking.c.name == name))
        self._recreate(model)
        with self.engine.begin() as connection:
            connection.execute(insert(tracking).values(name=name, position=0))

    def _recreate(self, model: ReadModel) -> None:
        model.metadata.drop_all(self.engine)
        model.metadata.create_all(self.engine)

    def positions(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            found = dict(connection.execute(select(tracking.c.name, tracking.c.position)).all())
        return {model.name: found[model.name] for model in self.models}

    def position(self) -> int:
        """The furthest position a model reached: that of every model but one catching up."""
        return max(self.positions().values())

    def load(self, table: Table, key: Key) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            names = primary_key(table)
            found = connection.execute(self._selects[table.name], dict(zip(names, key, strict=True))).first()
            return None if found is None else dict(found._mapping)

    def write(
        self, pending: Sequence[Pending], end: int, before_tracking: Callable[[], None] | None = None
    ) -> None:
        """Write what changed in each model and move each model's position from where its rows
        started to `end`, all or nothing."""
        with self.engine.begin() as connection:
            for _, rows, _ in pending:
                for table, new, updated in rows.pending():
                    writer = self.writers[table.name]
                    if new:
                        writer.insert(connection, writer.values(new))
                    if updated:
                        writer.upsert(connection, writer.values(updated))
                for table, added in rows.pending_values():
                    writer = self.writers[table.name]
                    writer.insert(connection, writer.converted(added))
            if before_tracking is not None:
                before_tracking()
            for model, _, start in pending:
                moved = connection.execute(
                    update(tracking)
                    .where(tracking.c.name == model.name, tracking.c.position == start)
                    .values(position=end)
                )
                if moved.rowcount != 1:
                    raise TrackingMoved(f"the position of the {model.name} model is no longer {start}")

    def fill(self, rows: dict[str, Rows], position: int) -> None:
        """Write whole replays into empty tables, each model at `position` (a replay's tables)."""
        with self.engine.begin() as connection:
            for model in self.models:
                if model.name not in rows:
                    continue
                for table, everything in rows[model.name].everything():
                    writer = self.writers[table.name]
                    writer.insert(connection, writer.values(everything))
                for table, added in rows[model.name].pending_values():
                    writer = self.writers[table.name]
                    writer.insert(connection, writer.converted(added))
                connection.execute(
                    update(tracking).where(tracking.c.name == model.name).values(position=position)
                )
