"""The compiled codec writes exactly what the library's JSON transcoder writes, and each reads the
other's: events stored before it came keep their bytes, and their leaf hashes."""

from __future__ import annotations

from eventsourcing.persistence import JSONTranscoder

from features.world import SCHEME, TODAY, World, fund_manager, yuan
from ledger.codec import CompiledTranscoder
from tests.integration.test_projections import busy_world, settle_and_recover


def test_the_compiled_codec_writes_the_librarys_bytes_and_reads_them_back() -> None:
    world = busy_world(World().ledger)
    settle_and_recover(world)
    world.ledger.reverse(
        fund_manager(), SCHEME, "bank-a:L2:repayment:1", "keyed twice", reversed_on=world.next_day()
    )
    compiled = world.ledger.mapper.transcoder
    assert isinstance(compiled, CompiledTranscoder)
    library = JSONTranscoder()
    world.ledger.register_transcodings(library)
    notifications = world.ledger.recorder.select_notifications(start=1, limit=10_000)
    assert len(notifications) > 30
    for notification in notifications:
        state = library.decode(notification.state)
        assert compiled.decode(notification.state) == state
        assert compiled.encode(state) == library.encode(state) == notification.state
    nested = {"a": [{"_type_": "date_iso", "_data_": "2019-01-02"}, {"b": yuan("1.00").fen}]}
    assert compiled.decode(library.encode(compiled.decode(compiled.encode(nested)))) == library.decode(
        library.encode(nested)
    )


def test_the_same_actor_and_date_are_decoded_once_and_an_empty_request_id_afresh() -> None:
    compiled = CompiledTranscoder()
    World().ledger.register_transcodings(compiled)
    state = compiled.encode({"actor": fund_manager(), "business_date": TODAY, "n": 1})
    first, second = compiled.decode(state), compiled.decode(state)
    assert first == second and first["actor"] is second["actor"]
    assert first["business_date"] is second["business_date"] == TODAY
    library = JSONTranscoder()
    World().ledger.register_transcodings(library)
    assert first == library.decode(state)
    unnamed = b'{"actor":{"_type_":"actor","_data_":{"principal_id":"fm","role":"fund_manager",'
    unnamed += b'"party_id":null,"request_id":""}}}'
    one, other = compiled.decode(unnamed)["actor"], compiled.decode(unnamed)["actor"]
    assert one.request_id.startswith("local-") and one.request_id != other.request_id
