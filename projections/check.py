"""Compare every live read model with a fresh replay of the log to the same position, row for row."""

from __future__ import annotations

from sqlalchemy import Engine, Table, select

from ledger.service import Ledger
from projections.models.journal import TrialBalanceBroken, trial_balance
from projections.models.schemes import schemes
from projections.replay import in_memory, replay
from projections.rows import primary_key
from projections.store import ProjectionStore, tracking

DIFFERENCES_SHOWN_MAX = 50


def differences(ledger: Ledger, store: ProjectionStore) -> list[str]:
    """Every row that differs between the live tables and a rebuild of each model to its position
    (models at different positions are replayed separately), and every scheme whose full trial
    balance is not zero."""
    found: list[str] = []
    with store.engine.connect() as conn:
        for scheme_id in conn.execute(select(schemes.c.scheme_id)).scalars():
            try:
                trial_balance(conn, scheme_id, in_full=True)
            except TrialBalanceBroken as broken:
                found.append(str(broken))
    positions = store.positions()
    for position in sorted(set(positions.values())):
        models = [model for model in store.models if positions[model.name] == position]
        rows, _ = replay(ledger, position=position, models=models)
        fresh = in_memory(rows, position, models)
        for model in models:
            for table in model.tables:
                found += _compare(table, store.engine, fresh)
            found += _compare(tracking, store.engine, fresh, where=model.name)
        fresh.dispose()
        if len(found) >= DIFFERENCES_SHOWN_MAX:
            break
    return found[:DIFFERENCES_SHOWN_MAX]


def _compare(table: Table, live: Engine, fresh: Engine, *, where: str | None = None) -> list[str]:
    order = [table.c[name] for name in primary_key(table)]
    query = select(table).order_by(*order)
    if where is not None:
        query = query.where(table.c.name == where)
    with live.connect() as a, fresh.connect() as b:
        left = {
            tuple(row[c.name] for c in order): dict(row) for row in (r._mapping for r in a.execute(query))
        }
        right = {
            tuple(row[c.name] for c in order): dict(row) for row in (r._mapping for r in b.execute(query))
        }
    found = []
    for key in sorted(set(left) | set(right), key=repr):
        if left.get(key) != right.get(key):
            found.append(f"{table.name} {key}: live {left.get(key)} != rebuilt {right.get(key)}")
    return found
