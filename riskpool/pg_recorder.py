"""The PostgreSQL event recorder, with large saves sent outside psycopg's pipeline mode, as columns.

The library inserts a save's events as one `INSERT … SELECT FROM unnest(%s)` statement inside a
psycopg pipeline. With a large save — a loan tape of 20,000 loans and more, a parameter of tens of
megabytes — the pipeline's sync never returns: the server waits in `ClientRead` for the rest of the
message while the client waits for the result (psycopg/psycopg#685 describes the same hang). A save
of more than `PIPELINE_EVENTS_MAX` events therefore runs the same statements — the EXCLUSIVE table
lock (so that log positions follow commit order), the NOTIFY, the insert, the returned log
positions — one after the other in an ordinary transaction, where psycopg sends a large message in
blocking mode. Smaller saves keep the library's pipelined path.

A large save's events are also sent as four arrays in binary (ids, versions, topics, states)
rather than as one array of the library's composite type: psycopg writes a composite array as text
in Python, escaping every field with regular expressions (22 µs an event, more than half of a
100,000-loan tape's import), and an array of a plain type in binary in compiled code. The rows
inserted, in their order, and the positions returned are the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

PIPELINE_EVENTS_MAX = 1_000


class PostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.insert_columns_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            id_type=Identifier(self.datastore.originator_id_type),
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if len(stored_events) <= PIPELINE_EVENTS_MAX or self.datastore.enable_db_functions:
            return super().insert_events(stored_events, **kwargs)
        columns = (
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        )
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)
            self._lock_table(curs)
            self._notify_channel(curs)
            curs.execute(self.insert_columns_statement, columns)
            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
