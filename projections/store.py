"""The read models' SQL store: rows loaded by key, and each batch written in one transaction
together with the position it reached, so every event is applied exactly once."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Date, Engine, Table, bindparam, create_engine, event, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from projections import tables as t
from projections.audit.heads import attestations
from projections.rows import Key, Row, Rows, primary_key

TRACKING_NAME = "riskpool"
ROWS_PER_STATEMENT_MAX = 500
BULK_ROWS_PER_CALL_MAX = 5_000


class TrackingMoved(Exception):
    """Another writer moved the projections' position: this runner's rows are stale."""


def sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _: Any) -> None:
        cursor = connection.cursor()
        if ":memory:" not in url and url != "sqlite://":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    if url.startswith("sqlite"):
        return sqlite_engine(url)
    return create_engine(url, pool_size=pool_size, pool_pre_ping=True)


class ProjectionStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        self._upserts = {table.name: _upsert(dialect, table) for table in t.KEYED}
        postgres = engine.dialect.name == "postgresql"
        self._bulk_upserts = {table.name: Bulk(table, postgres=postgres, upsert=True) for table in t.KEYED}
        self._bulk_inserts = {table.name: Bulk(table, postgres=postgres) for table in t.APPENDED}
        self._selects = {
            table.name: select(table).where(
                *(table.c[name] == bindparam(name) for name in primary_key(table))
            )
            for table in t.KEYED
        }

    def create(self) -> None:
        t.metadata.create_all(self.engine)
        attestations.create_all(self.engine)  # tree heads: evidence, never dropped by a rebuild
        for table in t.metadata.sorted_tables:  # indexes added since the tables were created
            for index in table.indexes:
                index.create(self.engine, checkfirst=True)
        with self.engine.begin() as connection:
            known = connection.execute(
                select(t.tracking.c.position).where(t.tracking.c.name == TRACKING_NAME)
            )
            if known.first() is None:
                connection.execute(insert(t.tracking).values(name=TRACKING_NAME, position=0))

    def drop(self) -> None:
        t.metadata.drop_all(self.engine)

    def position(self) -> int:
        with self.engine.connect() as connection:
            found = connection.execute(
                select(t.tracking.c.position).where(t.tracking.c.name == TRACKING_NAME)
            )
            return found.scalar_one()

    def load(self, table: Table, key: Key) -> Row | None:
        with self.engine.connect() as connection:
            names = primary_key(table)
            found = connection.execute(self._selects[table.name], dict(zip(names, key, strict=True))).first()
            return None if found is None else dict(found._mapping)

    def write(
        self, rows: Rows, start: int, end: int, before_tracking: Callable[[], None] | None = None
    ) -> None:
        """Write what changed and move the position from `start` to `end`, all or nothing."""
        with self.engine.begin() as connection:
            for table, changed in rows.dirty():
                self._bulk_upserts[table.name].execute(connection, changed)
            for table, added in rows.new_rows():
                self._bulk_inserts[table.name].execute(connection, added)
            if before_tracking is not None:
                before_tracking()
            moved = connection.execute(
                update(t.tracking)
                .where(t.tracking.c.name == TRACKING_NAME, t.tracking.c.position == start)
                .values(position=end)
            )
            if moved.rowcount != 1:
                raise TrackingMoved(f"the projections' position is no longer {start}")

    def fill(self, rows: Rows, position: int) -> None:
        """Write a whole replay into empty tables, with its position (a rebuild)."""
        with self.engine.begin() as connection:
            for table, everything in rows.everything():
                _execute_chunked(connection, insert(table), everything)
            for table, added in rows.new_rows():
                _execute_chunked(connection, insert(table), added)
            connection.execute(
                update(t.tracking).where(t.tracking.c.name == TRACKING_NAME).values(position=position)
            )


class Bulk:
    """One table's batch insert (or upsert), straight to the driver's executemany.

    The runner writes several rows per event; SQLAlchemy's per-row parameter processing cost more
    than the database's own work. The statement is the same INSERT … ON CONFLICT DO UPDATE that
    SQLAlchemy would send; each value is converted as the column's type would convert it (JSON
    serialised, and dates as ISO text on SQLite).
    """

    def __init__(self, table: Table, *, postgres: bool, upsert: bool = False) -> None:
        names = [column.name for column in table.columns]
        mark = "%s" if postgres else "?"
        sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})"
        if upsert:
            keys = primary_key(table)
            rest = [name for name in names if name not in keys]
            action = "UPDATE SET " + ", ".join(f"{n} = excluded.{n}" for n in rest) if rest else "NOTHING"
            sql += f" ON CONFLICT ({', '.join(keys)}) DO {action}"
        self.sql = sql
        self.values = itemgetter(*names)
        self.converters = [
            (index, convert)
            for index, column in enumerate(table.columns)
            if (convert := _converter(column, postgres=postgres)) is not None
        ]

    def execute(self, connection: Connection, rows: list[Row]) -> None:
        values, converters = self.values, self.converters
        for start in range(0, len(rows), BULK_ROWS_PER_CALL_MAX):
            chunk = rows[start : start + BULK_ROWS_PER_CALL_MAX]
            if not converters:
                parameters = [values(row) for row in chunk]
            else:
                parameters = []
                for row in chunk:
                    converted = list(values(row))
                    for index, convert in converters:
                        if converted[index] is not None:
                            converted[index] = convert(converted[index])
                    parameters.append(tuple(converted))
            connection.exec_driver_sql(self.sql, parameters)


def _converter(column: Any, *, postgres: bool) -> Callable[[Any], Any] | None:
    if isinstance(column.type, JSON):
        if postgres:
            from psycopg.types.json import Json, Jsonb

            return Jsonb if isinstance(column.type, postgresql.JSONB) else Json
        return json.dumps
    if isinstance(column.type, Date) and not postgres:
        return date.isoformat
    return None


def _upsert(dialect: Any, table: Table) -> Any:
    statement = dialect.insert(table)
    keys = primary_key(table)
    values = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=values)


def _execute_chunked(connection: Connection, statement: Any, rows: list[Row]) -> None:
    for start in range(0, len(rows), ROWS_PER_STATEMENT_MAX):
        connection.execute(statement, rows[start : start + ROWS_PER_STATEMENT_MAX])
