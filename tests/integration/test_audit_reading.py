"""`audit verify` reads the store a page at a time through the driver, and hashes a page in one go
where nothing differs: on SQLite and PostgreSQL it must read every event as the library does, and
find every tampering exactly where the leaf-by-leaf replay finds it, wherever a page ends."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import StaticPool

from features.world import SCHEME, fund_manager, yuan
from ledger.service import Ledger
from projections import tables as t
from projections.audit import reading
from projections.audit.merkle import Tree
from projections.audit.verify import Verification, _StoredTree, verify_log
from projections.runner import Runner
from projections.store import ProjectionStore
from tests.integration.test_audit import audited, delete, edit, insert_forged, row, sql, swap, truncate
from tools.verify_export import canonical_bytes, leaf_hash

SMALL_PAGE = 7  # pages end everywhere: within blocks of 32, between heads, between a swapped pair


def sealed_more(store_env: dict[str, str], url: str) -> tuple[Ledger, ProjectionStore, Runner]:
    """The busy world (37 events), then 70 contributions, the first 50 projected and sealed every 25:
    heads at sizes no page ends at, and 20 events not projected yet."""
    ledger, store, runner = audited(store_env, url)
    for n in range(70):
        ledger.record_contribution(
            fund_manager(), SCHEME, "city-fund", yuan("1.00"), contributed_on=date(2020, 1, 1)
        )
        if n % 25 == 24:
            runner.catch_up()
            runner.seal()
    return ledger, store, runner


def verified(ledger: Ledger, store: ProjectionStore, runner: Runner) -> Verification:
    signer = runner.signer
    return verify_log(
        ledger.recorder,
        store.engine,
        public_key=signer.public_hex,
        signed=signer.signed(),
        blocks=signer.blocks(),
    )


def outcome(result: Verification) -> tuple:
    return (
        result.events,
        result.sealed,
        result.unsealed,
        result.heads_checked,
        [str(f) for f in result.findings],
        result.notices,
    )


def by_page_size(monkeypatch: pytest.MonkeyPatch, verify: Callable[[], Verification]) -> Verification:
    """Verify with pages of SMALL_PAGE and with pages of the default size; both must find the same."""
    whole = verify()
    monkeypatch.setattr(reading, "PAGE", SMALL_PAGE)
    paged = verify()
    assert outcome(paged) == outcome(whole)
    return paged


def test_the_reader_returns_every_stored_event_as_the_library_does_a_page_at_a_time(
    store_env: dict[str, str], read_models_url: str
) -> None:
    ledger, store, _ = audited(store_env, read_models_url)
    stored = reading.events(ledger.recorder, page=SMALL_PAGE)
    pages = list(stored.pages)
    assert pages and all(0 < len(page) <= SMALL_PAGE for page in pages)
    read = [
        (p, bytes.fromhex(i) if stored.hex_ids else i, v, t_, bytes(s))
        for page in pages
        for p, i, v, t_, s in page
    ]
    library = [
        (n.id, n.originator_id.bytes, n.originator_version, n.topic, n.state)
        for n in ledger.recorder.select_notifications(start=1, limit=100_000)
    ]
    assert read == library
    store.engine.dispose()
    ledger.close()


def test_the_leaves_are_read_a_page_at_a_time_in_leaf_order_each_with_the_scheme_of_its_position(
    store_env: dict[str, str], read_models_url: str
) -> None:
    ledger, store, _ = audited(store_env, read_models_url)
    with store.engine.connect() as conn:
        recorded = conn.execute(select(t.leaves).order_by(t.leaves.c.leaf_index)).all()
        schemes = dict(conn.execute(select(t.audit_events.c.position, t.audit_events.c.scheme_id)).all())
    leaves = reading.Leaves(store.engine, page=SMALL_PAGE)
    pages = list(leaves.pages())
    assert leaves.count == len(recorded) and sum(page.count for page in pages) == len(recorded)
    assert all(page.plain and page.count <= SMALL_PAGE for page in pages)
    assert ",".join(page.positions for page in pages) == ",".join(str(r.position) for r in recorded)
    assert ",".join(page.hashes for page in pages) == ",".join(r.hash for r in recorded)
    each = [page.schemes if page.scheme is None else ",".join([page.scheme] * page.count) for page in pages]
    assert ",".join(each) == ",".join(schemes[r.position] or "" for r in recorded)
    assert [leaves.schemes(page) for page in pages] == each
    assert {"", SCHEME} == set(",".join(each).split(","))
    assert any(page.scheme == SCHEME and page.schemes is None for page in pages)  # counted, not joined
    assert [leaf for page in pages for leaf in leaves.rows(page)] == [
        (r.leaf_index, r.position, r.hash, schemes[r.position]) for r in recorded
    ]
    store.engine.dispose()
    ledger.close()


def test_leaves_recorded_after_the_reading_began_are_not_read(
    store_env: dict[str, str], read_models_url: str
) -> None:
    ledger, store, runner = audited(store_env, read_models_url)
    leaves = reading.Leaves(store.engine, page=SMALL_PAGE)
    before = leaves.count
    ledger.record_contribution(
        fund_manager(), SCHEME, "city-fund", yuan("1.00"), contributed_on=date(2020, 1, 1)
    )
    runner.catch_up()
    with store.engine.connect() as conn:
        assert Tree(conn).size == before + 1
    assert sum(page.count for page in leaves.pages()) == before
    store.engine.dispose()
    ledger.close()


def test_an_untouched_store_is_verified_without_reading_any_leaf_row_by_row(
    store_env: dict[str, str], read_models_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger, store, runner = sealed_more(store_env, read_models_url)

    def row_by_row(self: reading.Leaves, page: reading.LeafPage) -> list:
        raise AssertionError(f"leaves {page.after + 1}–{page.last} were read row by row")

    monkeypatch.setattr(reading.Leaves, "rows", row_by_row)
    result = by_page_size(monkeypatch, lambda: verified(ledger, store, runner))
    assert result.ok and result.heads_checked == 3, [str(f) for f in result.findings]
    assert (result.events, result.sealed, result.unsealed) == (87, 87, 20)
    assert result.sealed + result.unsealed == ledger.recorder.max_notification_id()
    store.engine.dispose()
    ledger.close()


@pytest.mark.parametrize("position", [14, 15, 63, 64])  # the last and the first of a page of 7, of 32
@pytest.mark.parametrize(
    ("tamper", "kind"),
    [(edit, "edited"), (delete, "deleted"), (swap, "reordered"), (insert_forged, "inserted")],
)
def test_verify_finds_the_same_tampering_at_the_same_position_wherever_a_page_ends(
    store_env: dict[str, str],
    read_models_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tamper: Callable[[dict[str, str], int], None],
    kind: str,
    position: int,
) -> None:
    ledger, store, runner = sealed_more(store_env, read_models_url)
    tamper(store_env, position)
    result = by_page_size(monkeypatch, lambda: verified(ledger, store, runner))
    assert (result.first.kind, result.first.position) == (kind, position), [str(f) for f in result.findings]
    store.engine.dispose()
    ledger.close()


@pytest.mark.parametrize("position", [15, 64])
def test_a_log_truncated_where_a_page_ends_or_begins_is_named_truncated_there(
    store_env: dict[str, str], read_models_url: str, monkeypatch: pytest.MonkeyPatch, position: int
) -> None:
    ledger, store, runner = sealed_more(store_env, read_models_url)
    truncate(store_env, position)
    result = by_page_size(monkeypatch, lambda: verified(ledger, store, runner))
    assert (result.first.kind, result.first.position) == ("truncated", position)
    assert result.unsealed == 0 and result.events == position - 1
    store.engine.dispose()
    ledger.close()


def test_an_event_edited_with_its_leaf_recomputed_is_located_within_its_block_of_32(
    store_env: dict[str, str], read_models_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored leaf agrees with the edited event: only the signer's record of each block of 32
    locates the edit (a page of 7 ends within the block)."""
    ledger, store, runner = sealed_more(store_env, read_models_url)
    position = 40
    originator_id, version, topic, state = row(store_env, position)
    edited = bytes(state).replace(b'"', b"'", 1)
    sql(store_env, [("UPDATE stored_events SET state = %s WHERE notification_id = %s", (edited, position))])
    uuid_bytes = originator_id.bytes if hasattr(originator_id, "bytes") else bytes.fromhex(originator_id)
    leaf = leaf_hash(canonical_bytes(position, uuid_bytes, version, topic, edited)).hex()
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE rp_leaves SET hash = :leaf WHERE position = :p"), {"leaf": leaf, "p": position}
        )
    result = by_page_size(monkeypatch, lambda: verified(ledger, store, runner))
    differs = result.first
    assert differs.kind == "differs" and differs.position <= position <= differs.until
    assert differs.until - differs.position == 31
    store.engine.dispose()
    ledger.close()


def test_the_roots_of_the_stored_tree_read_together_are_those_read_one_by_one(
    store_env: dict[str, str], read_models_url: str
) -> None:
    ledger, store, _ = sealed_more(store_env, read_models_url)
    with store.engine.connect() as conn:
        size = Tree(conn).size
        sizes = list(range(1, size + 1))
        assert _StoredTree(conn).roots(sizes) == {n: Tree(conn).root(n) for n in sizes}
    store.engine.dispose()
    ledger.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> tuple[dict[str, str], str]:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "ledger.db")}
    return env, f"sqlite:///{tmp_path / 'ledger.projections.db'}"


def respell_id(env: dict[str, str], position: int, spelling: Callable[[str], str]) -> None:
    """Store an event's aggregate id, in SQLite, spelled another way."""
    spelled = spelling(row(env, position)[0])
    sql(
        env, [("UPDATE stored_events SET originator_id = %s WHERE notification_id = %s", (spelled, position))]
    )


def test_an_aggregate_id_sqlite_holds_in_another_spelling_is_read_as_the_library_reads_it(
    sqlite_store: tuple[dict[str, str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite keeps ids as text; the library reads them with `UUID`, which takes capitals and
    hyphens, and refuses spaces: verify reads them the same, and refuses the same."""
    env, url = sqlite_store
    ledger, store, runner = sealed_more(env, url)
    respell_id(env, 14, str.upper)
    respell_id(env, 30, lambda hex_: str(UUID(hex_)))  # with hyphens
    assert by_page_size(monkeypatch, lambda: verified(ledger, store, runner)).ok
    respell_id(env, 22, lambda hex_: f" {hex_} ")
    with pytest.raises(ValueError, match="hexadecimal UUID"):
        verified(ledger, store, runner)
    with pytest.raises(ValueError, match="hexadecimal UUID"):
        ledger.recorder.select_notifications(start=1, limit=100)
    store.engine.dispose()
    ledger.close()


def test_a_leaf_hash_sqlite_holds_as_a_blob_is_judged_row_by_row_as_before(
    sqlite_store: tuple[dict[str, str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hash kept as a blob of the same characters is not the text the leaf was recorded as: the
    leaf-by-leaf replay names the event edited, and so must the pages."""
    env, url = sqlite_store
    ledger, store, runner = sealed_more(env, url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE rp_leaves SET hash = CAST(hash AS BLOB) WHERE position = 33"))
    assert not any(page.plain for page in reading.Leaves(store.engine).pages())
    result = by_page_size(monkeypatch, lambda: verified(ledger, store, runner))
    assert [(f.kind, f.position) for f in result.findings] == [("edited", 33)]
    store.engine.dispose()
    ledger.close()


def test_leaves_are_read_ahead_in_a_thread_unless_every_thread_is_given_the_one_connection(
    sqlite_store: tuple[dict[str, str], str],
) -> None:
    """A file's engine gives the reading thread a connection of its own; an in-memory SQLite's
    gives every thread the one connection, which the reader and the verifier cannot both use at
    once: its leaves are read in line. Both read the same pages."""
    env, url = sqlite_store
    ledger, store, _ = audited(env, url)
    ahead = reading.Leaves(store.engine, page=SMALL_PAGE).pages()
    assert isinstance(ahead, reading.Prefetched)
    memory = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as source:
        copy = memory.raw_connection()
        source.backup(copy.driver_connection)
        copy.close()
    in_line = reading.Leaves(memory, page=SMALL_PAGE).pages()
    assert not isinstance(in_line, reading.Prefetched)
    read = list(in_line)
    assert len(read) > 1 and read == list(ahead)
    memory.dispose()
    store.engine.dispose()
    ledger.close()
