"""Loan tapes (all rows or none, every bad row named) and idempotent, version-checked commands."""

from __future__ import annotations

import zlib

import pytest

from features.world import SCHEME, World, yuan
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
