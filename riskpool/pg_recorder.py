"""The PostgreSQL event recorder, with large saves sent outside psycopg's pipeline mode.

The library inserts a save's events as one `INSERT … SELECT FROM unnest(%s)` statement inside a
psycopg pipeline. With a large save — a loan tape of 20,000 loans and more, a parameter of tens of
megabytes — the pipeline's sync never returns: the server waits in `ClientRead` for the rest of the
message while the client waits for the result (psycopg/psycopg#685 describes the same hang). A save
of more than `PIPELINE_EVENTS_MAX` events therefore runs the very same statements — the EXCLUSIVE
table lock (so that log positions follow commit order), the NOTIFY, the insert, the returned log
positions — one after the other in an ordinary transaction, where psycopg sends a large message in
blocking mode. Smaller saves keep the library's pipelined path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry

PIPELINE_EVENTS_MAX = 1_000


class PostgresRecorder(PostgresApplicationRecorder):
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if len(stored_events) <= PIPELINE_EVENTS_MAX or self.datastore.enable_db_functions:
            return super().insert_events(stored_events, **kwargs)
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)
            self._insert_stored_events(curs, stored_events, **kwargs)
            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
