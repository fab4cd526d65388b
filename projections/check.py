"""Compare the live read models with a fresh replay of the log, row for row."""

from __future__ import annotations

from sqlalchemy import Engine, select

from ledger.service import Ledger
from projections import tables as t
from projections.replay import in_memory, replay
from projections.reports import TrialBalanceBroken, trial_balance
from projections.rows import primary_key
from projections.store import ProjectionStore

DIFFERENCES_SHOWN_MAX = 50


def differences(ledger: Ledger, store: ProjectionStore) -> list[str]:
    """Every row that differs between the live tables and a rebuild to the same position."""
    position = store.position()
    rows, _ = replay(ledger, position=position)
    fresh = in_memory(rows, position)
    found: list[str] = []
    with store.engine.connect() as conn:
        for scheme_id in conn.execute(select(t.schemes.c.scheme_id)).scalars():
            try:
                trial_balance(conn, scheme_id, in_full=True)
            except TrialBalanceBroken as broken:
                found.append(str(broken))
    for table in [*t.KEYED, *t.APPENDED, t.tracking]:
        found += _compare(table, store.engine, fresh)
        if len(found) >= DIFFERENCES_SHOWN_MAX:
            break
    fresh.dispose()
    return found[:DIFFERENCES_SHOWN_MAX]


def _compare(table: t.Table, live: Engine, fresh: Engine) -> list[str]:
    order = [table.c[name] for name in primary_key(table)]
    with live.connect() as a, fresh.connect() as b:
        left = {
            tuple(row[c.name] for c in order): dict(row)
            for row in (r._mapping for r in a.execute(select(table).order_by(*order)))
        }
        right = {
            tuple(row[c.name] for c in order): dict(row)
            for row in (r._mapping for r in b.execute(select(table).order_by(*order)))
        }
    found = []
    for key in sorted(set(left) | set(right), key=repr):
        if left.get(key) != right.get(key):
            found.append(f"{table.name} {key}: live {left.get(key)} != rebuilt {right.get(key)}")
    return found
