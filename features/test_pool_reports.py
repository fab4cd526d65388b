"""Steps of pool_reports.feature."""

from __future__ import annotations

from datetime import date

from pytest_bdd import given, parsers, scenarios, then

from features.world import SCHEME, TODAY, World, fund_manager, yuan
from ledger.access import ClaimScope
from ledger.money import format_fen
from projections import reports
from projections.models import claims as claim_model

scenarios("pool_reports.feature")


@given(parsers.parse('"{bank}" repaid {amount} of loan "{loan}"'))
def repaid(world: World, bank: str, amount: str, loan: str) -> None:
    world.ledger.repay(
        world.actor(bank),
        SCHEME,
        bank,
        loan,
        principal=yuan(amount),
        interest=yuan("0"),
        repaid_on=world.next_day(),
    )


@then(parsers.parse("the exposure is {exposure} against a limit of {limit}, leaving {headroom}"))
def exposure(world: World, exposure: str, limit: str, headroom: str) -> None:
    with world.read_models().connect() as conn:
        e = reports.exposure(conn, SCHEME, TODAY)
    assert [format_fen(e.exposure_fen), format_fen(e.limit_fen), format_fen(e.headroom_fen)] == [
        str(yuan(exposure)),
        str(yuan(limit)),
        str(yuan(headroom)),
    ]


@then("the loan book shows:")
def loan_book(world: World, datatable: list[list[str]]) -> None:
    _, *rows = datatable
    with world.read_models().connect() as conn:
        book = reports.loan_book(conn, SCHEME)
    actual = [
        (
            g["bank_id"],
            g["state"],
            g["cover"],
            str(g["loans"]),
            format_fen(g["principal_fen"]),
            format_fen(g["exposure_fen"]),
        )
        for g in book
    ]
    assert actual == [(b, s, c, n, str(yuan(p)), str(yuan(e))) for b, s, c, n, p, e in rows]


@given(parsers.parse('"{bank}" filed a claim on loan "{loan}" for {amount} on {day}'))
def filed_on(world: World, bank: str, loan: str, amount: str, day: str) -> None:
    receipt = world.ledger.file_claim(
        world.actor(bank), SCHEME, bank, loan, yuan(amount), filed_on=date.fromisoformat(day)
    )
    world.claims[loan] = receipt.claim_id


@given(parsers.parse('checker "{checker}" approved the claim on loan "{loan}" for {amount} on {day}'))
def approved_on(world: World, checker: str, loan: str, amount: str, day: str) -> None:
    world.ledger.approve_claim(
        fund_manager(checker), SCHEME, world.claims[loan], yuan(amount), approved_on=date.fromisoformat(day)
    )


@then(parsers.parse("on {day} the claims queue shows:"))
def claims_queue(world: World, day: str, datatable: list[list[str]]) -> None:
    _, *rows = datatable
    today = date.fromisoformat(day)
    with world.read_models().connect() as conn:
        listed = claim_model.page(conn, SCHEME, today, ClaimScope())
        queue = {q.status: q for q in reports.claims_queue(conn, SCHEME, today)}
    assert [(c["claim_id"], c["status"], str(c["age_days"])) for c in listed] == [tuple(r) for r in rows]
    for _claim_id, status, age in rows:
        assert queue[status].claims == 1 and queue[status].oldest_age_days == int(age)


@given("the programme's targets are:")
def targets_are(world: World, datatable: list[list[str]]) -> None:
    _, *rows = datatable
    targets = []
    for target_id, metric, goal, by in rows:
        goal_field = {"count": int(goal)} if metric == "firms_served" else {"amount": str(yuan(goal))}
        targets.append({"target_id": target_id, "metric": metric, "by": by} | goal_field)
    world.ledger.set_targets(fund_manager(), SCHEME, targets, set_on=world.next_day())


@then("the targets show:")
def targets_show(world: World, datatable: list[list[str]]) -> None:
    _, *rows = datatable
    with world.read_models().connect() as conn:
        progress, _ = reports.targets(conn, SCHEME)
    actual = [
        (
            p.target_id,
            str(p.reached_by_then) if p.metric == "firms_served" else format_fen(p.reached_by_then),
            p.percent,
            "yes" if p.met else "no",
        )
        for p in progress
    ]
    expected = [(i, r if r.isdigit() else str(yuan(r)), pc, m) for i, r, pc, m in rows]
    assert actual == expected
