"""One model's rows in memory while events are applied, and what changed.

Handlers read and write rows here, never SQL. A row is a `Row`: writing to it records it as
changed, so that the batch writes it; nothing is marked by hand. A row the tables cannot hold yet
(the model started from empty tables, or the loader found no such key) is recorded as new and
inserted; any other changed row is upserted.

Rows stay cached between batches; past `CACHED_ROWS_MAX` the cache is dropped after a write and
rows are loaded again, one key at a time, as they are needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table

if TYPE_CHECKING:
    from projections.model import ReadModel
    from projections.subjects import Subjects

Key = tuple[Any, ...]
Loader = Callable[[Table, Key], dict[str, Any] | None]
CACHED_ROWS_MAX = 200_000  # per model: a loan row is about a kilobyte in memory
_UNKNOWN = object()


def primary_key(table: Table) -> list[str]:
    return [column.name for column in table.primary_key.columns]


class Row(dict):  # type: ignore[type-arg]
    """A row of a keyed table that records every write to it as a change of its table."""

    __slots__ = ("_changed", "_key")

    def __setitem__(self, name: str, value: Any) -> None:
        dict.__setitem__(self, name, value)
        self._changed[self._key] = self

    def update(self, *values: Any, **more: Any) -> None:  # type: ignore[override]
        dict.update(self, *values, **more)
        self._changed[self._key] = self

    def __ior__(self, values: Any) -> Row:  # type: ignore[override,misc]
        self.update(values)
        return self

    def _refuse(self, *_: Any, **__: Any) -> Any:
        raise TypeError("a projected row is never shrunk: write its columns instead")

    __delitem__ = pop = popitem = clear = setdefault = _refuse  # type: ignore[assignment]


class TableRows:
    """The cached rows of one keyed table, those changed since the last write and those new."""

    __slots__ = ("blank", "cached", "changed", "created", "key_of", "names", "table")

    def __init__(self, table: Table) -> None:
        self.table = table
        self.names = primary_key(table)
        by_name = itemgetter(*self.names)
        self.key_of: Callable[[dict[str, Any]], Key] = (
            by_name if len(self.names) > 1 else lambda row: (by_name(row),)  # type: ignore[assignment]
        )
        # A new row: fen columns start at 0, the rest at None, until a handler fills them.
        self.blank = {
            column.name: column.default.arg if column.default is not None else None
            for column in table.columns
        }
        self.cached: dict[Key, Row | None] = {}
        self.changed: dict[Key, Row] = {}
        self.created: dict[Key, Row] = {}

    def row(self, values: dict[str, Any], key: Key) -> Row:
        """A new row of this table: the defaults, then `values`; written with the next batch."""
        row = Row(self.blank)
        dict.update(row, values)
        row._changed, row._key = self.changed, key
        self.cached[key] = self.changed[key] = row
        return row


class Rows:
    """The rows of one read model. `complete` says the cache holds every row the model's tables
    hold (it started from empty tables and dropped nothing since): a key it lacks is absent, with
    no query. Otherwise `loader` reads a missing key from the tables."""

    def __init__(
        self,
        model: ReadModel,
        subjects: Subjects,
        *,
        complete: bool = True,
        loader: Loader | None = None,
    ) -> None:
        assert complete or loader is not None, "rows the cache may lack must be loadable"
        self.model, self.subjects = model, subjects
        self.complete, self.loader = complete, loader
        self.tables = {table.name: TableRows(table) for table in model.keyed}
        # Appended rows are kept as their values in column order: nothing reads them back.
        self.appended: dict[str, list[Sequence[Any]]] = {table.name: [] for table in model.appended}
        self._in_order = {table.name: itemgetter(*table.columns.keys()) for table in model.appended}

    def _cached(self, rows: TableRows, key: Key) -> Row | None:
        cached = rows.cached
        if key in cached:
            return cached[key]
        found = None
        if not self.complete:
            loaded = self.loader(rows.table, key)  # type: ignore[misc]
            if loaded is not None:
                found = Row(loaded)
                found._changed, found._key = rows.changed, key
        cached[key] = found
        return found

    def get(self, table: Table, *key: Any) -> Row | None:
        return self._cached(self.tables[table.name], key)

    def require(self, table: Table, *key: Any) -> Row:
        row = self._cached(self.tables[table.name], key)
        assert row is not None, f"{table.name} has no row {key}: the log is out of order"
        return row

    def get_or_new(self, table: Table, *key: Any) -> Row:
        rows = self.tables[table.name]
        row = self._cached(rows, key)
        if row is None:
            row = rows.created[key] = rows.row(dict(zip(rows.names, key, strict=True)), key)
        return row

    def put(self, table: Table, values: dict[str, Any]) -> Row:
        """The row with these values (and the defaults for the others), in place of any before."""
        rows = self.tables[table.name]
        key = rows.key_of(values)
        before = rows.cached.get(key, _UNKNOWN)
        # New to the tables (inserted) unless they may hold it: a row loaded, or one not cached
        # while the cache is not the whole table.
        new = before is None or key in rows.created or (before is _UNKNOWN and self.complete)
        row = rows.row(values, key)
        if new:
            rows.created[key] = row
        return row

    def append(self, table: Table, row: dict[str, Any]) -> None:
        """A new row of an append-only table (the journal, the Merkle tree, the audit index)."""
        self.appended[table.name].append(self._in_order[table.name](row))

    def extend_values(self, table: Table, values: list[Sequence[Any]]) -> None:
        """New rows of an append-only table, each its values in the table's column order."""
        self.appended[table.name].extend(values)

    def pending(self) -> Iterator[tuple[Table, list[dict[str, Any]], list[dict[str, Any]]]]:
        """Per keyed table: the rows to insert (new) and the rows to upsert."""
        for rows in self.tables.values():
            if rows.changed:
                created = rows.created
                new = list(created.values())
                updated = [row for key, row in rows.changed.items() if key not in created]
                yield rows.table, new, updated

    def pending_values(self) -> Iterator[tuple[Table, list[Sequence[Any]]]]:
        """Per append-only table: the values of the rows to insert."""
        for table in self.model.appended:
            if added := self.appended[table.name]:
                yield table, added

    def written(self) -> None:
        """The pending rows are in the tables now; drop the cache if it grew past its bound."""
        cached = 0
        for rows in self.tables.values():
            rows.changed.clear()
            rows.created.clear()
            cached += len(rows.cached)
        for added in self.appended.values():
            added.clear()
        if cached > CACHED_ROWS_MAX and self.loader is not None:
            for rows in self.tables.values():
                rows.cached.clear()
            self.complete = False

    def everything(self) -> Iterator[tuple[Table, list[dict[str, Any]]]]:
        """Every row of the keyed tables of a replay (which started from nothing), for filling
        empty tables; `pending_values` has the appended ones."""
        assert self.complete, "only a replay from the start holds every row"
        for rows in self.tables.values():
            if found := [row for row in rows.cached.values() if row is not None]:
                yield rows.table, found
