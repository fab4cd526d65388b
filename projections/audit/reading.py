"""Reading a whole store fast, for `audit verify`: the events, and the leaves the tree recorded, in
order, a page of thousands at a time, through the database driver itself.

The library's `select_notifications` builds a `Notification` and a `UUID` for every event, and
SQLAlchemy a `Row` for every leaf: at the rate SHA-256 runs, that is most of what `verify` would
spend. Here each page of events is one keyset-paginated query on a raw connection (`sqlite3` on the
recorder's file, a connection of the recorder's own psycopg pool), its rows left as the driver's
tuples; and each page of leaves is one query whose answer is a single row: the page's positions,
leaf hashes and schemes each joined into one string by the database, to be compared whole with
what the events hash to. Only a page is held at a time: memory does not grow with the log.

The events read are what `select_notifications` returns, row for row: the same table, from
position one, in position order. A store these readers do not know (in memory, or ids kept as
text) is read through the library, into the same tuples.
"""

from __future__ import annotations

import queue
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import closing
from typing import Any, NamedTuple

from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy import Engine
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from projections import tables as t

PAGE = 10_000  # rows a query: enough that a query's own cost vanishes; a few megabytes of events

# (position, aggregate id, aggregate version, topic, stored state). The aggregate id is its 16
# bytes, or, from SQLite, the text the library keeps (`Events.hex_ids`).
Event = tuple[int, Any, int, str, bytes]
# (leaf index, position, leaf hash as hex, the scheme the audit index gives the position, or None)
Leaf = tuple[int, int, str, str | None]


class Events(NamedTuple):
    pages: Iterator[list[Event]]
    hex_ids: bool  # ids come as SQLite keeps them: text, 32 hex digits when the library wrote them


def events(recorder: ApplicationRecorder, page: int | None = None) -> Events:
    """Every stored event from position one, in position order, `page` events (PAGE) at a time."""
    page = page or PAGE
    # The library's modules for the stores, if loaded (a recorder of one has loaded it): importing
    # the PostgreSQL one, and psycopg with it, would cost an SQLite verify a tenth of a second.
    sqlite_, postgres = sys.modules.get("eventsourcing.sqlite"), sys.modules.get("eventsourcing.postgres")
    datastore = getattr(recorder, "datastore", None)
    if getattr(datastore, "originator_id_type", None) == "uuid":
        if (
            sqlite_ is not None
            and isinstance(recorder, sqlite_.SQLiteApplicationRecorder)
            and not datastore.pool.is_sqlite_memory_mode
        ):
            return Events(_sqlite_pages(recorder, page), hex_ids=True)
        if postgres is not None and isinstance(recorder, postgres.PostgresApplicationRecorder):
            return Events(Prefetched(_postgres_pages(recorder, page)), hex_ids=False)
    return Events(_library_pages(recorder, page), hex_ids=False)


def _sqlite_pages(recorder: Any, page: int) -> Iterator[list[Event]]:
    # A connection of its own, opened as the library opens its own (the name may be a URI): one of
    # the recorder's pool would hold the pool's reader lock, which writers wait behind.
    pool = recorder.datastore.pool
    statement = (
        f"SELECT rowid, originator_id, originator_version, topic, state FROM {recorder.events_table_name} "
        "WHERE rowid > ? ORDER BY rowid LIMIT ?"
    )
    with closing(sqlite3.connect(pool.db_name, uri=True, timeout=pool.lock_timeout or 5)) as db:
        after = 0
        while rows := db.execute(statement, (after, page)).fetchall():
            after = rows[-1][0]
            yield rows


def _postgres_pages(recorder: Any, page: int) -> Iterator[list[Event]]:
    # Binary results: a state arrives as its bytes, not as hex to decode; `uuid_send` gives an
    # aggregate id's 16 bytes, without a `UUID` object made for each.
    from psycopg.rows import tuple_row
    from psycopg.sql import SQL, Identifier

    statement = SQL(
        "SELECT notification_id, uuid_send(originator_id), originator_version, topic, state "
        "FROM {}.{} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
    ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
    after = 0
    while True:
        # A pooled connection for a page at a time: none is kept from the ledger while this reads.
        with (
            recorder.datastore.get_connection() as conn,
            conn.cursor(binary=True, row_factory=tuple_row) as cursor,
        ):
            rows = cursor.execute(statement, (after, page), prepare=True).fetchall()
        if not rows:
            return
        after = rows[-1][0]
        yield rows


def _library_pages(recorder: ApplicationRecorder, page: int) -> Iterator[list[Event]]:
    start = 1
    while notifications := recorder.select_notifications(start=start, limit=page):
        yield [(n.id, n.originator_id.bytes, n.originator_version, n.topic, n.state) for n in notifications]
        start = notifications[-1].id + 1


class LeafPage(NamedTuple):
    """A page of leaves, in leaf order: how many, the leaf indexes it lies between (`after`
    excluded, `last` included), its positions and leaf hashes each joined with commas, and the
    schemes of its positions: joined likewise ("" for none), or, when the audit index gives one
    scheme to every position from the page's first to its last, that scheme alone (and `schemes`
    is None). `plain` is False when the tables hold a value not of its column's type (an SQLite
    table written behind the ledger's back): the page is then to be read row by row."""

    count: int
    after: int
    last: int
    positions: str
    hashes: str
    schemes: str | None
    scheme: str | None
    plain: bool


# The page's leaves, by leaf index; with the scheme of each position in the audit index.
_LEAF_ROWS = (
    f"SELECT l.leaf_index AS i, l.position AS p, l.hash AS h FROM {t.leaves.name} l "
    "WHERE l.leaf_index > :after AND l.leaf_index <= :last ORDER BY l.leaf_index LIMIT :page"
)
_PAGE_ROWS = (
    f"SELECT l.leaf_index AS i, l.position AS p, l.hash AS h, a.scheme_id AS s FROM {t.leaves.name} l "
    f"LEFT JOIN {t.audit_events.name} a ON a.position = l.position "
    "WHERE l.leaf_index > :after AND l.leaf_index <= :last ORDER BY l.leaf_index LIMIT :page"
)
# SQLite's group_concat joins in the order its subquery gives the rows (3.40 has no ORDER BY in an
# aggregate; the LIMIT, which never cuts a page, keeps the subquery's ORDER BY from being dropped).
# Were that not the leaf order, the positions would not match the events' and the page would be read
# row by row.
_JOINED = {
    "sqlite": (
        f"SELECT count(*), group_concat(p, ','), group_concat(h, ',') FROM ({_LEAF_ROWS})",
        "SELECT count(*), group_concat(p, ','), group_concat(h, ','), group_concat(ifnull(s, ''), ',') "
        f"FROM ({_PAGE_ROWS})",
    ),
    "postgresql": (
        "SELECT count(*), string_agg(p::text, ',' ORDER BY i), string_agg(h, ',' ORDER BY i) "
        f"FROM ({_LEAF_ROWS}) AS page",
        "SELECT count(*), string_agg(p::text, ',' ORDER BY i), string_agg(h, ',' ORDER BY i), "
        f"string_agg(coalesce(s, ''), ',' ORDER BY i) FROM ({_PAGE_ROWS}) AS page",
    ),
}
# Counted in the audit index's own indexes (no row read): its rows in a range of positions, and
# those of one scheme.
_IN_RANGE = f"SELECT count(*) FROM {t.audit_events.name} WHERE position >= :first AND position <= :last"
_IN_SCHEME = f"{_IN_RANGE} AND scheme_id = :scheme"
# SQLite keeps whatever a column is given. Joined into a string, a position kept as text or a blob,
# or a hash or scheme kept as a blob, would read as the number or text it spells, where row by row
# it is not one: then every page is read row by row. (A blob sorts above any text, text above any
# number; the first two look-ups use an index, the last reads the table once.)
_SQLITE_PLAIN = (
    f"SELECT (SELECT typeof(max(position)) FROM {t.leaves.name}) IN ('integer', 'null') "
    f"AND (SELECT typeof(max(scheme_id)) FROM {t.audit_events.name}) IN ('text', 'null') "
    f"AND NOT EXISTS (SELECT 1 FROM {t.leaves.name} WHERE hash >= X'')"
)


class Leaves:
    """The leaves the tree recorded, in leaf order, as the tables stood when this was made (a
    runner appending meanwhile adds nothing to what is read), a page at a time or row by row; and
    the audit index's entries, looked up one at a time."""

    def __init__(self, engine: Engine, page: int | None = None) -> None:
        self.engine, self.page = engine, page or PAGE
        self._dialect = engine.dialect.name
        self.count, first, self._last = self._one(
            f"SELECT count(*), min(leaf_index), max(leaf_index) FROM {t.leaves.name}", {}
        )
        self._first = first if first is not None else 0
        self._plain = self._dialect != "sqlite" or bool(self._one(_SQLITE_PLAIN, {})[0])

    def pages(self) -> Iterator[LeafPage]:
        """The leaves, a page of leaf indexes at a time, the next page asked for while the caller
        hashes this one (not where every thread is given the one connection: an in-memory SQLite)."""
        shared = isinstance(self.engine.pool, (StaticPool, SingletonThreadPool))
        return self._pages() if shared else Prefetched(self._pages())

    def _pages(self) -> Iterator[LeafPage]:
        # A range of leaf indexes a page, not a LIMIT: a planner with no statistics on the tables
        # yet would otherwise join every leaf after the page's first, for every page.
        if not self.count:
            return
        after = self._first - 1  # (the tree's first index is zero; every row is read as it is)
        scheme = None  # the one scheme of the last page, if it had one: likely that of this page too
        with closing(self.engine.raw_connection()) as connection:
            cursor = connection.cursor()
            while after < self._last:
                last = min(after + self.page, self._last)
                found = self._of_one_scheme(cursor, after, last, scheme) if scheme else None
                if found is None:
                    found = self._joined(cursor, after, last)
                    scheme = _one_scheme(found.schemes, found.count) if found.count else None
                if found.count:
                    yield found
                after = last

    def _of_one_scheme(self, cursor: Any, after: int, last: int, scheme: str) -> LeafPage | None:
        """The page, if the audit index gives `scheme` to every position from its first to its last
        and to no other, and those are as many as its leaves; else None. (That its positions are
        just those, one each, the caller checks: they must be the events'.)"""
        statements = _JOINED.get(self._dialect)
        if statements is None:
            return None
        cursor.execute(*self._bound(statements[0], after=after, last=last, page=self.page))
        count, positions, hashes = cursor.fetchone()
        if not count:
            return LeafPage(0, after, last, "", "", "", None, self._plain)
        try:
            first_position = int(positions.partition(",")[0])
            last_position = int(positions.rpartition(",")[2])
        except ValueError:
            return None
        if last_position - first_position + 1 != count:
            return None
        for statement, parameters in ((_IN_RANGE, {}), (_IN_SCHEME, {"scheme": scheme})):
            cursor.execute(*self._bound(statement, first=first_position, last=last_position, **parameters))
            if cursor.fetchone()[0] != count:
                return None
        return LeafPage(count, after, last, positions, hashes, None, scheme, self._plain)

    def _joined(self, cursor: Any, after: int, last: int) -> LeafPage:
        statements = _JOINED.get(self._dialect)
        if statements is None:  # another database: joined here rather than there
            rows = self._rows(cursor, after, last)
            return LeafPage(
                len(rows),
                after,
                last,
                ",".join(str(row[1]) for row in rows),
                ",".join(row[2] for row in rows),
                ",".join(row[3] or "" for row in rows),
                None,
                all(isinstance(row[1], int) and isinstance(row[2], str) for row in rows),
            )
        cursor.execute(*self._bound(statements[1], after=after, last=last, page=self.page))
        count, positions, hashes, schemes = cursor.fetchone()
        return LeafPage(count, after, last, positions, hashes, schemes, None, self._plain)

    def schemes(self, page: LeafPage) -> str:
        """The scheme of each of a page's positions, joined with commas."""
        with closing(self.engine.raw_connection()) as connection:
            return self._joined(connection.cursor(), page.after, page.last).schemes  # type: ignore[return-value]

    def rows(self, page: LeafPage) -> list[Leaf]:
        """A page's leaves, row by row, as the database holds them."""
        with closing(self.engine.raw_connection()) as connection:
            return self._rows(connection.cursor(), page.after, page.last)

    def _rows(self, cursor: Any, after: int, last: int) -> list[Leaf]:
        cursor.execute(*self._bound(_PAGE_ROWS, after=after, last=last, page=self.page))
        return [tuple(row) for row in cursor.fetchall()]  # type: ignore[misc]

    def entry(self, position: int) -> tuple[str, int, str | None] | None:
        """The audit index's (aggregate id, version, scheme) of a position; None if it has none."""
        return self._one(
            f"SELECT originator_id, version, scheme_id FROM {t.audit_events.name} WHERE position = :position",
            {"position": position},
        )

    def position_of(self, originator_id: str, version: int) -> int | None:
        """Where the audit index recorded an aggregate's version (the last, were it there twice)."""
        found = self._one(
            f"SELECT max(position) FROM {t.audit_events.name} "
            "WHERE originator_id = :originator_id AND version = :version",
            {"originator_id": originator_id, "version": version},
        )
        return found[0]  # type: ignore[index]

    def _one(self, statement: str, parameters: dict[str, Any]) -> Any:
        with closing(self.engine.raw_connection()) as connection:
            cursor = connection.cursor()
            cursor.execute(*self._bound(statement, **parameters))
            found = cursor.fetchone()
        return None if found is None else tuple(found)

    def _bound(self, statement: str, **parameters: Any) -> tuple[str, Any]:
        """The statement in the driver's own parameter style (sqlite3: named; psycopg: pyformat)."""
        if self._dialect == "sqlite" or not parameters:
            return statement, parameters
        for name in parameters:
            statement = statement.replace(f":{name}", f"%({name})s")
        return statement, parameters


class Prefetched(Iterator[Any]):
    """An iterator whose next items a thread makes while the caller works on the last ones.

    For PostgreSQL, where psycopg waits for the server's answer with the GIL released: the server
    runs the next page's query (on another core, if there is one) while `verify` hashes. For
    SQLite's leaves too: a page of them is one row, which SQLite joins within the one step the
    driver runs with the GIL released, so the next page is joined while `verify` hashes (on a
    machine with a core to spare). Not for SQLite's events: its driver takes the GIL back after
    every row, and the thread would wait for the hashing thread to let go of it at every row. The
    iterator makes its own connections; `close` stops the thread (and closes the iterator) wherever
    it stands."""

    _END = object()

    def __init__(self, items: Iterator[Any], depth: int = 2) -> None:
        self._items = items
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None  # started by the first `next`

    def __next__(self) -> Any:
        if self._thread is None:
            self._thread = threading.Thread(target=self._fill, name="audit-reading", daemon=True)
            self._thread.start()
        item = self._queue.get()
        if item is self._END:
            self._queue.put(item)  # (for a later call)
            raise StopIteration
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
        else:
            close_items(self._items)

    def _fill(self) -> None:
        try:
            for item in self._items:
                if not self._put(item):
                    return
            self._put(self._END)
        except BaseException as error:  # raised in the caller's thread, by `next`
            self._put(error)
        finally:
            close_items(self._items)

    def _put(self, item: Any) -> bool:
        """Queue the item unless the caller has stopped asking (then False)."""
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False


def _one_scheme(schemes: str, count: int) -> str | None:
    """The scheme of every position of a page, if they all have the same one (and it is one)."""
    one = schemes.partition(",")[0]
    return one if one and schemes == ",".join([one] * count) else None


def close_items(items: Iterator[Any]) -> None:
    """Close a generator (its connection with it); a plain iterator has nothing to close."""
    close = getattr(items, "close", None)
    if close is not None:
        close()


def states_at(recorder: ApplicationRecorder, positions: list[int]) -> dict[int, bytes]:
    """The stored state of the event at each of these log positions (a page of the audit index),
    in one query on SQLite and PostgreSQL; through the library, one position at a time, elsewhere
    (the in-memory store). A position the store does not hold is left out."""
    if not positions:
        return {}
    sqlite_, postgres = sys.modules.get("eventsourcing.sqlite"), sys.modules.get("eventsourcing.postgres")
    if sqlite_ is not None and isinstance(recorder, sqlite_.SQLiteApplicationRecorder):
        marks = ",".join("?" * len(positions))
        statement = f"SELECT rowid, state FROM {recorder.events_table_name} WHERE rowid IN ({marks})"
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, positions)
            return {row[0]: bytes(row[1]) for row in cursor.fetchall()}
    if postgres is not None and isinstance(recorder, postgres.PostgresApplicationRecorder):
        from psycopg.rows import tuple_row
        from psycopg.sql import SQL, Identifier

        statement = SQL("SELECT notification_id, state FROM {}.{} WHERE notification_id = ANY(%s)").format(
            Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)
        )
        with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
            cursor.execute(statement, [positions], prepare=True)
            return {row[0]: bytes(row[1]) for row in cursor.fetchall()}
    found = {}
    for position in positions:
        page = recorder.select_notifications(start=position, limit=1, stop=position)
        if page:
            found[page[0].id] = page[0].state
    return found
