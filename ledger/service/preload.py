"""Reading a batch's aggregates in one query.

The commands of a group commit each name a loan or a claim (`Command.subjects`), most of them not
in the cache: a claim is filed on a loan enrolled months ago, by a tape in another process. Read
one by one, each is a round trip to the store while the whole batch waits (on PostgreSQL a
network round trip each; on SQLite a statement each). Here the ones not cached are read together,
their events in one query, and rebuilt as the repository would rebuild them from their events.

A hint, not a rule: the unit of work takes a preloaded aggregate as it takes one it read itself
(the version it read is checked before the batch is saved, as for any read), and anything not
preloaded (an unknown store, an id that names nothing) is found the usual way.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby
from operator import attrgetter
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder

if TYPE_CHECKING:
    from ledger.service.application import LedgerApplication

# A batch holds at most a few hundred commands; an IN list of this many stays one plan.
PRELOAD_IDS_MAX = 500


def preload(app: LedgerApplication, ids: Iterable[UUID]) -> dict[UUID, Any]:
    """The aggregates of `ids` that are not cached, rebuilt from their events, by id; those that
    do not exist are left out. A cached one is never read here, even when the batch does not
    trust the cache: the repository brings the cached object itself up to date (a fresh copy
    beside it would be saved while the cache kept the old one)."""
    from ledger.service.unit_of_work import project

    wanted = [i for i in dict.fromkeys(ids) if app.cached(i) is None][:PRELOAD_IDS_MAX]
    if len(wanted) < 2:  # one is read as fast by the repository itself
        return {}
    stored = select_events_of(app.recorder, wanted)
    if stored is None:
        return {}
    to_domain_event = app.mapper.to_domain_event
    return {
        originator_id: project(None, map(to_domain_event, events))
        for originator_id, events in groupby(stored, key=attrgetter("originator_id"))
    }


def select_events_of(recorder: Any, ids: list[UUID]) -> list[StoredEvent] | None:
    """Every stored event of these aggregates, by aggregate then version, in one query; None for
    a store this does not know (the in-memory one), which is then read aggregate by aggregate."""
    rows = _select(
        recorder,
        "originator_id, originator_version, topic, state",
        ids,
        "ORDER BY originator_id, originator_version",
    )
    if rows is None:
        return None
    return [StoredEvent(r[0], r[1], r[2], bytes(r[3])) for r in rows]


def latest_versions(recorder: Any, ids: list[UUID]) -> dict[UUID, int] | None:
    """The version of the latest stored event of each of these aggregates (those with none are
    left out), in one query; None for a store this does not know."""
    rows = _select(recorder, "originator_id, MAX(originator_version)", ids, "GROUP BY originator_id")
    return None if rows is None else {r[0]: r[1] for r in rows}


def _select(recorder: Any, columns: str, ids: list[UUID], tail: str) -> list[Any] | None:
    """`SELECT columns FROM <the events table> WHERE originator_id IN ids tail`, as tuples whose
    first column (the aggregate's id) is a UUID, on the recorder's own connection; None for a store
    other than SQLite and PostgreSQL."""
    if isinstance(recorder, SQLiteAggregateRecorder):
        marks = ",".join("?" * len(ids))
        statement = (
            f"SELECT {columns} FROM {recorder.events_table_name} WHERE originator_id IN ({marks}) {tail}"
        )
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, [i.hex for i in ids])
            convert = recorder.convert_originator_id  # SQLite keeps ids as text
            return [(convert(row[0]), *tuple(row)[1:]) for row in cursor.fetchall()]
    if isinstance(recorder, PostgresAggregateRecorder):
        from psycopg.rows import tuple_row
        from psycopg.sql import SQL, Identifier

        statement = SQL("SELECT {columns} FROM {schema}.{table} WHERE originator_id = ANY(%s) {tail}").format(
            columns=SQL(columns),
            schema=Identifier(recorder.datastore.schema),
            table=Identifier(recorder.events_table_name),
            tail=SQL(tail),
        )
        with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
            cursor.execute(statement, [ids], prepare=True)
            return cursor.fetchall()
    return None
