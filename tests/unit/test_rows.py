"""A model's rows in memory: a write to a row is what marks it for the batch's transaction, a row
new to the tables is inserted and one they may hold is upserted, and nothing else is written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Column, Integer, String

from projections.model import ReadModel, fen
from projections.rows import Rows
from projections.subjects import Subjects

model = ReadModel("test_rows")
balances = model.table(
    "rp_test_balances",
    Column("party_id", String(20), primary_key=True),
    fen("balance_fen"),
    Column("note", String(20)),
)
lines = model.table("rp_test_lines", Column("n", Integer, primary_key=True), fen("amount_fen"), appended=True)
STORED = {("bank-a",): {"party_id": "bank-a", "balance_fen": 7, "note": None}}


def rows(*, complete: bool = False) -> tuple[Rows, list[Any]]:
    loaded: list[Any] = []

    def loader(table: Any, key: Any) -> dict[str, Any] | None:
        loaded.append(key)
        found = STORED.get(key)
        return None if found is None else dict(found)

    return Rows(model, Subjects(None, None), complete=complete, loader=loader), loaded


def pending(found: Rows) -> dict[str, tuple[list[Any], list[Any]]]:
    return {table.name: (new, updated) for table, new, updated in found.pending()}


def test_a_row_read_but_not_written_is_not_written_back() -> None:
    found, loaded = rows()
    assert found.require(balances, "bank-a")["balance_fen"] == 7
    assert found.get(balances, "nobody") is None
    assert pending(found) == {} and loaded == [("bank-a",), ("nobody",)]
    found.get(balances, "bank-a")
    assert loaded == [("bank-a",), ("nobody",)]  # read once, then from memory


def test_writing_a_column_marks_the_row_and_a_row_the_tables_may_hold_is_upserted() -> None:
    found, _ = rows()
    row = found.require(balances, "bank-a")
    row["balance_fen"] += 5
    assert pending(found) == {
        "rp_test_balances": ([], [{"party_id": "bank-a", "balance_fen": 12, "note": None}])
    }
    found.written()
    assert pending(found) == {}
    row.update(note="moved")
    row |= {"balance_fen": 1}
    assert pending(found)["rp_test_balances"][1] == [
        {"party_id": "bank-a", "balance_fen": 1, "note": "moved"}
    ]


def test_a_row_new_to_the_tables_is_inserted_with_its_defaults_however_often_it_is_written() -> None:
    found, _ = rows()
    new = found.get_or_new(balances, "guar-a")
    new["balance_fen"] -= 3
    assert found.get(balances, "fund") is None  # the tables said so
    put = found.put(balances, {"party_id": "fund", "note": "put"})
    assert found.get_or_new(balances, "guar-a") is new
    assert pending(found) == {
        "rp_test_balances": (
            [
                {"party_id": "guar-a", "balance_fen": -3, "note": None},
                {"party_id": "fund", "balance_fen": 0, "note": "put"},
            ],
            [],
        )
    }
    assert put is found.require(balances, "fund")


def test_a_row_put_over_one_the_tables_hold_is_upserted_and_unknown_to_a_partial_cache_too() -> None:
    found, _ = rows()
    found.get(balances, "bank-a")
    found.put(balances, {"party_id": "bank-a", "balance_fen": 1})
    found.put(balances, {"party_id": "never-read", "balance_fen": 2})  # the tables may hold it
    new, updated = pending(found)["rp_test_balances"]
    assert new == [] and [r["party_id"] for r in updated] == ["bank-a", "never-read"]


def test_a_complete_cache_knows_a_missing_key_is_absent_without_asking() -> None:
    found, loaded = rows(complete=True)
    assert found.get(balances, "bank-a") is None and loaded == []
    found.put(balances, {"party_id": "bank-a", "balance_fen": 1})
    assert pending(found)["rp_test_balances"][0] == [{"party_id": "bank-a", "balance_fen": 1, "note": None}]


def test_appended_rows_are_kept_in_column_order_until_written() -> None:
    found, _ = rows()
    found.append(lines, {"amount_fen": 5, "n": 1})
    found.extend_values(lines, [(2, 6)])
    assert list(found.pending_values()) == [(lines, [(1, 5), (2, 6)])]
    found.written()
    assert list(found.pending_values()) == []


def test_a_projected_row_cannot_lose_a_column() -> None:
    found, _ = rows()
    row = found.require(balances, "bank-a")
    for shrink in (lambda: row.pop("note"), lambda: row.clear(), lambda: row.__delitem__("note")):
        with pytest.raises(TypeError):
            shrink()
    assert pending(found) == {}


def test_past_its_bound_the_cache_is_dropped_after_a_write_and_rows_are_loaded_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("projections.rows.CACHED_ROWS_MAX", 2)
    found, loaded = rows(complete=True)
    found.get_or_new(balances, "guar-a")
    found.written()
    assert found.complete and loaded == []  # within the bound: kept, and still the whole table
    found.get_or_new(balances, "guar-b")
    found.get_or_new(balances, "guar-c")
    found.written()
    assert not found.complete
    assert found.require(balances, "bank-a")["balance_fen"] == 7 and loaded == [("bank-a",)]
    found.put(balances, {"party_id": "guar-a", "balance_fen": 1})  # no longer known to be new
    assert pending(found)["rp_test_balances"] == (
        [],
        [{"party_id": "guar-a", "balance_fen": 1, "note": None}],
    )


def test_sqlite_json_text_is_what_sqlalchemy_writes() -> None:
    import json

    from projections.bulk import _json_text

    for value in ([], {}, ["a", "b"], {"a": [], "b": None}, ["é"], [[]], ""):
        assert _json_text(value) == json.dumps(value)
