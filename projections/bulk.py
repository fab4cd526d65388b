"""How a batch's rows reach the database: each table's new rows in one bulk insert, its changed rows
in one bulk upsert, straight to the driver.

A batch writes several rows per event, and SQLAlchemy's per-row parameter processing costs more
than the database's own work; so the statements are built here once per table, rows go to the
driver as tuples in column order, and only what the driver cannot take is converted here (JSON
serialised; a date becomes ISO text on SQLite in the driver itself, below). PostgreSQL takes new
rows by binary COPY, and many changed rows by COPY into a temporary table merged with one
INSERT … ON CONFLICT, which is several times faster than a statement per row.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from projections.rows import primary_key

ROWS_PER_CALL_MAX = 5_000
UPSERTS_ONE_BY_ONE_MAX = 64  # fewer changed rows than this: not worth a temporary table


class TableWriter:
    def __init__(self, table: Table, *, postgres: bool) -> None:
        self.table, self.postgres = table, postgres
        names = [column.name for column in table.columns]
        keys = primary_key(table)
        columns = ", ".join(names)
        marks = ", ".join(["%s" if postgres else "?"] * len(names))
        rest = [name for name in names if name not in keys]
        action = "UPDATE SET " + ", ".join(f"{n} = excluded.{n}" for n in rest) if rest else "NOTHING"
        conflict = f" ON CONFLICT ({', '.join(keys)}) DO {action}"
        self.insert_sql = f"INSERT INTO {table.name} ({columns}) VALUES ({marks})"
        self.upsert_sql = self.insert_sql + conflict
        # Binary COPY: no text to format here nor to parse in the server; it needs each column's type.
        self.copy_sql = f"COPY {table.name} ({columns}) FROM STDIN (FORMAT BINARY)"
        self.types = [_pg_type(column) for column in table.columns] if postgres else []
        self.temporary = f"rp_merge_{table.name}"
        self.copy_temporary_sql = f"COPY {self.temporary} ({columns}) FROM STDIN (FORMAT BINARY)"
        self.merge_sql = (
            f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {self.temporary}" + conflict
        )
        self.in_order = itemgetter(*names)
        self.converters = [
            (index, convert)
            for index, column in enumerate(table.columns)
            if (convert := _converter(column, postgres=postgres)) is not None
        ]

    def values(self, rows: Iterable[dict[str, Any]]) -> list[Sequence[Any]]:
        """Each row's values in column order."""
        return self.converted([self.in_order(row) for row in rows])

    def converted(self, rows: list[Sequence[Any]]) -> list[Sequence[Any]]:
        """Values in column order as the driver takes them."""
        if not self.converters:
            return rows
        converters, found = self.converters, []
        for row in rows:
            values = list(row)
            for index, convert in converters:
                if (value := values[index]) is not None:
                    values[index] = convert(value)
            found.append(values)
        return found

    def insert(self, connection: Connection, rows: list[Sequence[Any]]) -> None:
        """Rows the table does not hold yet, as `values` or `converted` gives them."""
        if self.postgres:
            self._copy(connection, self.copy_sql, rows)
        else:
            self._many(connection, self.insert_sql, rows)

    def upsert(self, connection: Connection, rows: list[Sequence[Any]]) -> None:
        """Rows the table may hold already: inserted, or written over."""
        if not self.postgres or len(rows) < UPSERTS_ONE_BY_ONE_MAX:
            self._many(connection, self.upsert_sql, rows)
            return
        connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {self.temporary} "
            f"(LIKE {self.table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        self._copy(connection, self.copy_temporary_sql, rows)
        connection.exec_driver_sql(self.merge_sql)

    def _many(self, connection: Connection, sql: str, rows: list[Sequence[Any]]) -> None:
        """executemany on the driver's own cursor, in the connection's transaction."""
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            for start in range(0, len(rows), ROWS_PER_CALL_MAX):
                cursor.executemany(sql, rows[start : start + ROWS_PER_CALL_MAX])
        finally:
            cursor.close()

    def _copy(self, connection: Connection, sql: str, rows: list[Sequence[Any]]) -> None:
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
            copy.set_types(self.types)
            for values in rows:
                copy.write_row(values)


def _pg_type(column: Any) -> str:
    """The column's PostgreSQL type by the name the driver knows it (VARCHAR(64): varchar)."""
    return column.type.compile(dialect=postgresql.dialect()).split("(")[0].lower()


def _converter(column: Any, *, postgres: bool) -> Callable[[Any], Any] | None:
    if isinstance(column.type, JSON):
        if postgres:
            from psycopg.types.json import Json, Jsonb

            return Jsonb if isinstance(column.type, postgresql.JSONB) else Json
        return _json_text
    return None


_EMPTY = {list: "[]", dict: "{}"}


def _json_text(value: Any) -> str:
    """json.dumps, as SQLAlchemy's JSON type writes it; an empty list or object (most loans' tags)
    is printed without the call, which costs more than the rest of the row's conversion."""
    if not value:
        found = _EMPTY.get(type(value))
        if found is not None:
            return found
    return json.dumps(value)


# SQLite stores a date as its ISO text, as SQLAlchemy's Date type writes it; the driver converts
# it in C, without a Python loop over every row. (The adapter Python ≤ 3.11 registers by default
# does the same, and later versions deprecate: this one is explicit.)
sqlite3.register_adapter(date, date.isoformat)
