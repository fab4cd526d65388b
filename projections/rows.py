"""The projection's rows in memory while events are applied, and what changed.

The projector reads and writes rows here, never SQL. A live runner gives `Rows` a loader that
fetches a row from the tables the first time it is needed; a replay (a rebuild, an as-of answer)
starts from nothing and needs no loader. What changed is then written in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Table

from projections.tables import APPENDED, KEYED

Key = tuple[Any, ...]
Row = dict[str, Any]
Loader = Callable[[Table, Key], Row | None]


def primary_key(table: Table) -> list[str]:
    return [column.name for column in table.primary_key.columns]


def blank_row(table: Table) -> Row:
    """A new row: fen columns start at 0, the rest at None, until the projector fills them."""
    template = _BLANK.get(table.name)
    if template is None:
        template = _BLANK[table.name] = {
            column.name: column.default.arg if column.default is not None else None
            for column in table.columns
        }
    return dict(template)


_BLANK: dict[str, Row] = {}


class Rows:
    def __init__(self, loader: Loader | None = None) -> None:
        self.loader = loader
        self._tables = {table.name: table for table in KEYED}
        self._keys = {table.name: primary_key(table) for table in KEYED}
        self._rows: dict[str, dict[Key, Row | None]] = {table.name: {} for table in KEYED}
        self._dirty: dict[str, set[Key]] = {table.name: set() for table in KEYED}
        self.appended: dict[str, list[Row]] = {table.name: [] for table in APPENDED}

    def get(self, table: Table, *key: Any) -> Row | None:
        cached = self._rows[table.name]
        if key not in cached:
            cached[key] = self.loader(table, key) if self.loader else None
        return cached[key]

    def require(self, table: Table, *key: Any) -> Row:
        row = self.get(table, *key)
        assert row is not None, f"{table.name} has no row {key}: the log is out of order"
        return row

    def get_or_new(self, table: Table, *key: Any) -> Row:
        row = self.get(table, *key)
        if row is None:
            row = blank_row(table)
            row.update(zip(self._keys[table.name], key, strict=True))
            self._rows[table.name][key] = row
            self.changed(table, row)
        return row

    def put(self, table: Table, row: Row) -> Row:
        full = blank_row(table) | row
        key = tuple(full[name] for name in self._keys[table.name])
        self._rows[table.name][key] = full
        self._dirty[table.name].add(key)
        return full

    def changed(self, table: Table, row: Row) -> None:
        self._dirty[table.name].add(tuple(row[name] for name in self._keys[table.name]))

    def dirty(self) -> Iterator[tuple[Table, list[Row]]]:
        for name, keys in self._dirty.items():
            rows = [self._rows[name][key] for key in keys if self._rows[name][key] is not None]
            if rows:
                yield self._tables[name], rows

    def everything(self) -> Iterator[tuple[Table, list[Row]]]:
        for name, cached in self._rows.items():
            rows = [row for row in cached.values() if row is not None]
            if rows:
                yield self._tables[name], rows

    def append(self, table: Table, row: Row) -> None:
        """A new row of an append-only table (the journal, the Merkle tree, the audit index)."""
        self.appended[table.name].append(row)

    def new_rows(self) -> Iterator[tuple[Table, list[Row]]]:
        for table in APPENDED:
            if self.appended[table.name]:
                yield table, self.appended[table.name]

    def clear_dirty(self) -> None:
        for keys in self._dirty.values():
            keys.clear()
        for added in self.appended.values():
            added.clear()

    def forget(self) -> None:
        """Drop every cached row (another writer may have moved the tables)."""
        for cached in self._rows.values():
            cached.clear()
        self.clear_dirty()
