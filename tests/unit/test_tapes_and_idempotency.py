"""Loan tapes (all rows or none, every bad row named) and idempotent, version-checked commands."""

from __future__ import annotations

import zlib

import pytest

from features.world import DEFAULT_RULES, SCHEME, World, yuan
from ledger.commands import Repay
from ledger.errors import IdempotencyConflict, LedgerError, VersionConflict
from ledger.money import Money
from ledger.service import Call
from ledger.tape import COLUMNS, TapeUnreadable, read_tape
from ledger.uscc import make_uscc


def pool() -> World:
    world = World()
    world.found_pool(
        [("bank-a", "bank"), ("bank-b", "bank"), ("city-fund", "government")], yuan("1,000,000.00")
    )
    world.publish("covers:\n  direct:\n    split: {city-fund: 4000, bank: remainder}\n")
    return world


def tape(*rows: str, bom: bool = False) -> bytes:
    text = "\n".join([",".join(COLUMNS), *rows]) + "\n"
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def row(
    ref: str, principal: str = "100000.00", *, name: str = "Fictional Firm", day: str = "2019-02-01"
) -> str:
    uscc = make_uscc(f"9141060000{zlib.crc32(ref.encode()) % 10**7:07d}")
    return f"{ref},{name},{uscc},tech_loan,ip_pledge;first_loan,{principal},450,24,{day},direct,"


def test_a_whole_tape_is_enrolled_in_one_save_with_its_exposure() -> None:
    world = pool()
    receipt = world.ledger.enrol_tape(
        world.actor("bank-a"), SCHEME, "bank-a", read_tape(tape(row("T1"), row("T2", "250000.50"), bom=True))
    )
    assert receipt.details == {"loans": 2, "principal": "350000.50"}  # 100,000.00 + 250,000.50
    assert world.scheme().exposure_fen == 35_000_050
    loan = world.ledger.loan(world.actor("bank-a"), SCHEME, "bank-a", "T2")
    assert loan.tags == ["ip_pledge", "first_loan"] and loan.state == "enrolled"


def test_a_tape_with_bad_rows_enrols_nothing_and_names_every_bad_row() -> None:
    world = pool()
    world.ledger.enrol_tape(world.actor("bank-a"), SCHEME, "bank-a", read_tape(tape(row("OLD"))))
    before = world.stored()
    rows = read_tape(
        tape(
            row("T1"),  # fine
            row("OLD"),  # line 3: already enrolled
            row("T1"),  # line 4: twice in the tape
            row("T4", "1e5"),  # line 5: an exponent
            row("T5", name='=HYPERLINK("http://x")'),  # line 6: a formula
            row("T6", day="2019-02-30"),  # line 7: no such day
            row("T7", "9999999.99"),  # line 8: past the leverage limit with the rows before
        )
    )
    with pytest.raises(LedgerError) as refused:
        world.ledger.enrol_tape(world.actor("bank-a"), SCHEME, "bank-a", rows)
    report = [(r["row"], r["code"]) for r in refused.value.figures["rows"]]
    assert report == [
        (3, "duplicate_loan"),
        (4, "duplicate_loan"),
        (5, "invalid_amount"),
        (6, "invalid_request"),
        (7, "invalid_date"),
        (8, "leverage_exceeded"),
    ]
    assert refused.value.code == "duplicate_loan" and refused.value.figures["refused_rows"] == 6
    assert world.stored() == before


def test_a_tape_whose_only_fault_is_a_loan_already_enrolled_is_refused_naming_it() -> None:
    """The first try saves without looking each loan up; the store refuses the duplicate's first
    event, and the second try names the row."""
    world = pool()
    world.ledger.enrol_tape(world.actor("bank-a"), SCHEME, "bank-a", read_tape(tape(row("OLD"))))
    before = world.stored()
    with pytest.raises(LedgerError) as refused:
        world.ledger.enrol_tape(
            world.actor("bank-a"), SCHEME, "bank-a", read_tape(tape(row("T1"), row("T2"), row("OLD")))
        )
    assert [(r["row"], r["code"]) for r in refused.value.figures["rows"]] == [(4, "duplicate_loan")]
    assert world.stored() == before
    assert world.scheme().exposure_fen == 10_000_000


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"loan_ref,principal\nT1,100\n", "header"),
        (tape(row("T1")).replace(b"Fictional", "虚构".encode("gbk")), "not UTF-8"),
        (tape(row("T1")) + b"\x00", "NUL byte"),
    ],
)
def test_an_unreadable_tape_is_refused_as_a_whole(data: bytes, why: str) -> None:
    with pytest.raises(TapeUnreadable) as refused:
        read_tape(data)
    assert refused.value.code == "invalid_request" and why in refused.value.message


def test_only_the_bank_itself_enrols_its_tape() -> None:
    world = pool()
    with pytest.raises(LedgerError) as refused:
        world.ledger.enrol_tape(world.actor("bank-b"), SCHEME, "bank-a", read_tape(tape(row("T1"))))
    assert refused.value.code == "forbidden"


def test_a_repeated_idempotent_request_returns_the_original_receipt_and_records_nothing() -> None:
    world = pool()
    world.enrol_and_disburse("bank-a", "L1", yuan("500,000.00"), "direct", None)
    bank = world.actor("bank-a")

    def repay():
        command = Repay(SCHEME, "bank-a", "L1", Money(1000), Money(0), world.day)
        return world.ledger.handle(command, Call(bank, idempotency_key="pay-2019-03", fingerprint="h1"))

    first = repay()
    stored = world.stored()
    again = repay()
    assert world.stored() == stored
    assert again.replayed and not first.replayed
    assert (again.fact_id, again.position) == (first.fact_id, first.position)
    assert world.ledger.loan(bank, SCHEME, "bank-a", "L1").principal_repaid_fen == 1000
    with pytest.raises(IdempotencyConflict):
        world.ledger.handle(
            Repay(SCHEME, "bank-a", "L1", Money(1), Money(0), world.day),
            Call(bank, idempotency_key="pay-2019-03", fingerprint="another body"),
        )
    assert world.stored() == stored


def test_a_command_on_a_version_that_moved_is_refused() -> None:
    world = pool()
    world.enrol_and_disburse("bank-a", "L1", yuan("500,000.00"), "direct", None)
    bank = world.actor("bank-a")
    version = world.ledger.loan(bank, SCHEME, "bank-a", "L1").version
    repayment = Repay(SCHEME, "bank-a", "L1", Money(1), Money(0), world.day)
    with pytest.raises(VersionConflict) as refused:
        world.ledger.handle(repayment, Call(bank, expected_version=version - 1))
    assert refused.value.figures == {"expected": version - 1, "current": version}
    world.ledger.handle(repayment, Call(bank, expected_version=version))


def test_bulk_work_pauses_the_collector_and_restores_it_as_it_was() -> None:
    import gc

    from ledger.bulk import collector_paused

    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # another bulk job in the process
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # left off, as it was
    finally:
        gc.enable()


def test_a_loan_enrolled_from_a_tape_is_the_loan_a_single_enrolment_records() -> None:
    """A tape makes its loans' first events directly; read back, each is the loan `enrol_loan`
    would have made of the same row."""
    world = pool()
    bank = world.actor("bank-a")
    world.ledger.enrol_tape(bank, SCHEME, "bank-a", read_tape(tape(row("T1"))))
    single = read_tape(tape(row("T1").replace("T1,", "S1,", 1)))[0][1]
    world.ledger.enrol_loan(bank, SCHEME, "bank-a", single)
    taped, enrolled = (world.ledger.loan(bank, SCHEME, "bank-a", ref) for ref in ("T1", "S1"))
    ignore = {"_id", "_created_on", "_modified_on", "loan_ref"}
    assert {k: v for k, v in vars(taped).items() if k not in ignore} == {
        k: v for k, v in vars(enrolled).items() if k not in ignore
    }
    events = [next(iter(world.ledger.events.get(loan.id))) for loan in (taped, enrolled)]
    assert [type(e) for e in events] == [type(events[1])] * 2
    assert events[0].originator_topic == events[1].originator_topic == "ledger.domain.loan:Loan"


def test_a_tape_event_is_the_event_a_single_enrolment_records_field_for_field() -> None:
    """`Loan.enrolled` makes the event without the dataclass's `__init__`: its fields are the
    dataclass's, in their order (the order the state is stored in), with the values `enrol` gives."""
    from ledger.domain.loan import Loan

    world = pool()
    bank = world.actor("bank-a")
    enrolment = read_tape(tape(row("T1")))[0][1]
    facts = Loan.facts_of(enrolment, principal_fen=enrolment.principal.fen)
    direct = Loan.enrolled(bank, SCHEME, "bank-a", facts, 1, enrolment.enrolled_on)
    (built,) = Loan.enrol(bank, SCHEME, "bank-a", facts, 1, enrolment.enrolled_on).collect_events()
    assert list(vars(direct)) == list(Loan.Enrolled.__dataclass_fields__) == list(vars(built))
    assert {**vars(direct), "timestamp": None} == {**vars(built), "timestamp": None}
    mapper = world.ledger.mapper
    assert (
        mapper.to_stored_event(direct).state.replace(
            direct.timestamp.isoformat().encode(), built.timestamp.isoformat().encode()
        )
        == mapper.to_stored_event(built).state
    )


def test_an_enrolment_made_from_a_tape_row_is_the_dataclass_of_its_fields() -> None:
    from ledger.domain.loan import Enrolment

    enrolment = read_tape(tape(row("T1")))[0][1]
    assert type(enrolment) is Enrolment
    assert enrolment == Enrolment(
        **{name: getattr(enrolment, name) for name in Enrolment.__dataclass_fields__}
    )
    with pytest.raises(AttributeError):
        enrolment.loan_ref = "T2"  # type: ignore[misc]


def test_a_large_save_stores_what_the_mapper_would_in_order_with_its_positions(
    store_env: dict[str, str],
) -> None:
    """A save of many events (ledger/service/application.py `_stored_events`; on PostgreSQL
    riskpool/pg_recorder.py's columns) stores each event byte for byte as the library's mapper
    would, in the order of the save, and answers each with its own position."""
    from bench.pool import CLOCK_DAY, SCHEME as POOL, bank, found, tape as bench_tape, tape_loans
    from ledger.service import Ledger
    from ledger.service.application import BULK_SAVE_EVENTS_MIN
    from riskpool.pg_recorder import PIPELINE_EVENTS_MAX

    loans = max(BULK_SAVE_EVENTS_MIN, PIPELINE_EVENTS_MAX) + 200
    ledger = Ledger(env=store_env, clock=lambda: CLOCK_DAY)
    try:
        found(ledger)
        before = ledger.recorder.max_notification_id() or 0
        receipt = ledger.enrol_tape(
            bank("bank-0"), POOL, "bank-0", read_tape(bench_tape(tape_loans(0, loans)))
        )
        stored = ledger.recorder.select_notifications(start=before + 1, limit=loans + 10)
        assert [n.id for n in stored] == list(range(before + 1, before + loans + 2))
        assert receipt.position == stored[-1].id
        events = [ledger.mapper.to_domain_event(n) for n in stored]
        assert [e.loan_ref for e in events[:-1]] == [f"L{i:07d}" for i in range(loans)]
        assert type(events[-1]).__name__ == "TapeEnrolled"
        again = [ledger.mapper.to_stored_event(e) for e in events]
        assert [(n.originator_id, n.originator_version, n.topic, n.state) for n in stored] == [
            (s.originator_id, s.originator_version, s.topic, s.state) for s in again
        ]
        assert ledger._stored_events(events) == again
    finally:
        ledger.close()


def test_a_value_is_given_to_the_codec_in_its_typed_form_only_where_the_codec_writes_that_form() -> None:
    """A date is written as the transcoder's typed form, so it may be given in it; a UUID is written
    by the codec as a plain string, so it is given as it is."""
    from datetime import date
    from uuid import uuid4

    from ledger.service import Ledger

    ledger = Ledger()
    pretyped: dict[type, bool] = {}
    assert ledger._pretyped(pretyped, date(2019, 2, 1))
    assert not ledger._pretyped(pretyped, uuid4())
    assert not ledger._pretyped(pretyped, "text")
    assert pretyped == {date: True, type(uuid4()): False, str: False}


SPLIT_AFTER = {"city-fund": 3000, "bank": "remainder"}


def test_a_tape_across_a_new_rule_version_enrols_each_row_under_the_version_in_force_on_its_day() -> None:
    """A tape looks each enrolment date's rule version up once (`TapeAdmission`), for that date only."""
    world = pool()
    world.ledger.publish_rules(
        world.actor("fm-alice"),
        SCHEME,
        DEFAULT_RULES
        | {
            "effective_from": "2019-02-10",
            "covers": {"direct": {"split": {"city-fund": 3000, "bank": "remainder"}}},
        },
        published_on=world.day,
    )
    bank = world.actor("bank-a")
    rows = read_tape(
        tape(row("T1", day="2019-02-01"), row("T2", day="2019-02-10"), row("T3", day="2019-02-01"))
    )
    world.ledger.enrol_tape(bank, SCHEME, "bank-a", rows)
    versions = [world.ledger.loan(bank, SCHEME, "bank-a", ref).rule_version for ref in ("T1", "T2", "T3")]
    assert versions == [1, 2, 1]


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("borrower_name", "  =1+1"),
        ("borrower_name", "+86 firm"),
        ("borrower_name", "-firm"),
        ("borrower_name", "@SUM(A1)"),
        ("borrower_name", '"\tFirm"'),
        ("borrower_name", '"Firm\r\nLtd"'),
        ("borrower_name", "Firm\u202eLtd"),
        ("borrower_name", "\u200b"),
        ("borrower_name", "Firm\x7f"),
        ("loan_ref", "=T1"),
        ("product", "-tech"),
        ("tags", "@ip"),
        ("cover", "=direct"),
        ("cover_party_id", "+guar"),
    ],
)
def test_a_row_with_a_text_cell_the_free_text_rule_refuses_is_refused_naming_that_cell(
    column: str, cell: str
) -> None:
    """Rows the reader clears in bulk are only those the cell-by-cell rule clears."""
    cells = row("T1").split(",")
    cells[COLUMNS.index(column)] = cell
    ((line, refusal),) = read_tape(tape(",".join(cells)))
    assert line == 2 + cell.count("\n") and isinstance(refusal, LedgerError)  # the row's last line
    assert refusal.code == "invalid_request" and refusal.figures["field"] == column


@pytest.mark.parametrize(
    "name", ['"Firm, =Ltd"', '"Firm,-Ltd"', "Firm @ Home", "Firm-Ltd", "  Firm", '"Firm ""A"""']
)
def test_a_text_cell_that_only_looks_risky_beside_a_comma_is_enrolled(name: str) -> None:
    world = pool()
    bank = world.actor("bank-a")
    ((_, enrolment),) = read_tape(tape(row("T1", name=name)))
    assert not isinstance(enrolment, LedgerError), enrolment
    world.ledger.enrol_tape(bank, SCHEME, "bank-a", [(2, enrolment)])
    assert world.ledger.loan(bank, SCHEME, "bank-a", "T1").borrower_name == enrolment.borrower_name


def test_a_negative_figure_is_refused_as_an_amount_not_as_a_formula() -> None:
    ((_, refusal),) = read_tape(tape(row("T1", "-5.00")))
    assert isinstance(refusal, LedgerError) and refusal.code == "invalid_amount"


def test_a_cell_above_the_limit_is_refused_naming_its_column() -> None:
    from ledger.tape import CELL_CHARS_MAX

    ((_, refusal),) = read_tape(tape(row("T1", name="F" * (CELL_CHARS_MAX + 1))))
    assert isinstance(refusal, LedgerError) and refusal.message.startswith("borrower_name is 401 characters")
    ((_, fine),) = read_tape(tape(row("T1", name="F" * CELL_CHARS_MAX)))
    assert not isinstance(fine, LedgerError)


def test_objects_made_during_bulk_work_skip_the_young_collections_even_in_a_frozen_process() -> None:
    """When the last bulk job ends, what it made is moved to the oldest generation unwalked: the
    next young collection does not walk it. A process's own frozen objects go there too."""
    import gc

    from ledger.bulk import collector_paused

    kept = []
    for frozen in (False, True):
        if frozen:
            gc.freeze()  # a process that froze what it held once started (the server does)
        try:
            with collector_paused():
                kept.extend([[i] for i in range(50_000)])
            assert gc.isenabled() and gc.get_count()[0] < 1_000
            assert gc.get_freeze_count() == 0 and gc.is_tracked(kept[-1])
        finally:
            gc.unfreeze()


def test_the_recordings_of_a_bulk_save_are_those_the_library_makes() -> None:
    from uuid import uuid4

    from eventsourcing.persistence import Notification, Recording, StoredEvent

    from ledger.service.application import _Recordings

    stored = [StoredEvent(uuid4(), 1, "topic", f"state {n}".encode()) for n in range(5)]
    events, ids = [object() for _ in stored], [11, 12, 13, 14, 15]
    made = [
        Recording(e, Notification(s.originator_id, s.originator_version, s.topic, s.state, i))
        for e, s, i in zip(events, stored, ids, strict=True)
    ]
    recordings = _Recordings(events, stored, ids)  # type: ignore[arg-type]
    assert len(recordings) == 5 and bool(recordings)
    assert list(recordings) == made and recordings[-1] == made[-1] and recordings[1:3] == made[1:3]
    assert recordings[-1].notification.id == 15
