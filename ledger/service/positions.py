"""Where an already stored event sits in the notification log (for idempotent replays)."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

SCAN_PAGE = 10_000


def position_of(recorder: ApplicationRecorder, originator_id: UUID, version: int) -> int | None:
    """The notification id of an aggregate's event, or None if it is not stored."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        statement = (
            f"SELECT rowid FROM {recorder.events_table_name} WHERE originator_id=? AND originator_version=?"
        )
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, (originator_id.hex, version))
            row = cursor.fetchone()
            return None if row is None else row[0]
    if type(recorder).__module__ == "eventsourcing.postgres":
        from psycopg.sql import SQL, Identifier

        statement = SQL(
            "SELECT notification_id FROM {schema}.{table} WHERE originator_id=%s AND originator_version=%s"
        ).format(schema=Identifier(recorder.datastore.schema), table=Identifier(recorder.events_table_name))
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, (originator_id, version))
            row = cursor.fetchone()
            return None if row is None else row["notification_id"]
    return _scan(recorder, originator_id, version)


def _scan(recorder: ApplicationRecorder, originator_id: UUID, version: int) -> int | None:
    """The in-memory store has no index: look through the log (tests only)."""
    start = 1
    while page := recorder.select_notifications(start=start, limit=SCAN_PAGE):
        for n in page:
            if n.originator_id == originator_id and n.originator_version == version:
                return n.id
        start = page[-1].id + 1
    return None
