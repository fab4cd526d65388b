"""The reports behind the console's pool dashboard and owed page: each fund's balance month by month,
every breaker's figure now against its threshold, and the settlement payments made. Figures worked
out by hand from the facts recorded below (rule book §8, §9)."""

from __future__ import annotations

from datetime import date

from ledger.actors import Actor, Role
from ledger.money import Money
from ledger.service import Enrolment
from tests.api.conftest import RULES, SCHEME, Api, uscc

S = f"/v1/schemes/{SCHEME}"
FM = Actor("fm", Role.FUND_MANAGER)
BANK_A = Actor("bank-a-ops", Role.BANK, "bank-a")
BANK_B = Actor("bank-b-ops", Role.BANK, "bank-b")
BREAKERS = {"bank_loss_rate_max_bp": 300, "insurer_loss_ratio_max_bp": 12000, "fund_drawdown_max_bp": 5000}


def pool(api: Api) -> None:
    """Funds paid in; from 2019 a rule version with breakers; bank-a's guaranteed loan L1 (500,000.00)
    and insured loan I1 (1,000,000.00, premium 100,000.00) default and are claimed and approved;
    bank-b's direct loan B1 (400,000.00) runs. city-fund pays its share of L1's claim; the
    re-guarantee fund pays its share and the payment is reversed."""
    ledger = api.system.ledger
    ledger.record_contribution(
        FM, SCHEME, "city-fund", Money.yuan("10000000"), contributed_on=date(2018, 2, 1)
    )
    ledger.record_contribution(
        FM, SCHEME, "city-fund", Money.yuan("2000000"), contributed_on=date(2018, 4, 15)
    )
    ledger.record_contribution(
        FM, SCHEME, "prov-reguarantee", Money.yuan("10000000"), contributed_on=date(2018, 2, 1)
    )
    ledger.publish_rules(
        FM,
        SCHEME,
        RULES | {"effective_from": "2019-01-01", "circuit_breakers": BREAKERS},
        published_on=date(2018, 12, 1),
    )
    for actor, bank, ref, principal, cover, party in [
        (BANK_A, "bank-a", "L1", "500000", "guaranteed", "guar-a"),
        (BANK_A, "bank-a", "I1", "1000000", "insured", "ins-a"),
        (BANK_B, "bank-b", "B1", "400000", "direct", None),
    ]:
        enrolment = Enrolment(
            ref, "Fictional Co", uscc(ord(ref[0]) + int(ref[1])), "tech_loan", Money.yuan(principal), 450, 24,
            date(2019, 1, 2), cover, party,
        )  # fmt: skip
        ledger.enrol_loan(actor, SCHEME, bank, enrolment)
        ledger.disburse(actor, SCHEME, bank, ref, Money.yuan(principal), disbursed_on=date(2019, 1, 3))
    ledger.record_premium(
        Actor("ins-a-ops", Role.INSURER, "ins-a"), SCHEME, "bank-a", "I1", Money.yuan("100000"),
        paid_on=date(2019, 2, 1),
    )  # fmt: skip
    claims = {}
    for ref, claimed in [("L1", "500000"), ("I1", "600000")]:
        ledger.declare_default(BANK_A, SCHEME, "bank-a", ref, overdue_days=95, defaulted_on=date(2019, 6, 1))
        claims[ref] = ledger.file_claim(
            BANK_A, SCHEME, "bank-a", ref, Money.yuan(claimed), filed_on=date(2019, 6, 5)
        ).claim_id
        ledger.approve_claim(FM, SCHEME, claims[ref], Money.yuan(claimed), approved_on=date(2019, 6, 10))
    # L1's 500,000.00: guar-a 40% 200,000.00, prov-reguarantee 30% 150,000.00, bank-a 20% 100,000.00,
    # city-fund 10% 50,000.00
    ledger.pay_settlement(
        FM, SCHEME, claims["L1"], "city-fund", Money.yuan("50000"), paid_on=date(2019, 7, 3)
    )
    paid = ledger.pay_settlement(
        FM, SCHEME, claims["L1"], "prov-reguarantee", Money.yuan("150000"), paid_on=date(2019, 7, 5)
    )
    ledger.reverse(FM, SCHEME, paid.fact_id, "paid to the wrong account", reversed_on=date(2019, 8, 2))


def test_each_fund_month_by_month_ends_at_the_funds_report_balance(api: Api) -> None:
    pool(api)
    report = api.get("fm", f"{S}/reports/fund-history").json()
    months = report["months"]
    # 2018-02 (the first contribution) to 2026-11 (the test clock's today): 106 months per fund
    assert [m["month"] for m in months if m["party_id"] == "city-fund"][:3] == [
        "2018-02",
        "2018-03",
        "2018-04",
    ]
    assert len(months) == 2 * 106 and months[-1]["month"] == "2026-11"
    city = {m["month"]: m for m in months if m["party_id"] == "city-fund"}
    assert city["2018-02"] | {"party_id": "", "month": ""} == {
        "party_id": "",
        "month": "",
        "contributions": "10000000.00",
        "payments": "0.00",
        "recoveries_in": "0.00",
        "balance": "10000000.00",
    }
    assert city["2018-03"]["balance"] == "10000000.00"
    assert city["2018-04"]["contributions"] == "2000000.00" and city["2018-04"]["balance"] == "12000000.00"
    assert city["2019-07"]["payments"] == "50000.00" and city["2019-07"]["balance"] == "11950000.00"
    assert city["2026-11"]["balance"] == "11950000.00"
    prov = {m["month"]: m for m in months if m["party_id"] == "prov-reguarantee"}
    assert prov["2019-07"]["payments"] == "150000.00" and prov["2019-07"]["balance"] == "9850000.00"
    # the reversal, recorded in August, gives the payment back to the fund that month
    assert prov["2019-08"]["payments"] == "-150000.00" and prov["2019-08"]["balance"] == "10000000.00"
    funds = {f["party_id"]: f["balance"] for f in api.get("fm", f"{S}/reports/funds").json()["funds"]}
    assert funds == {"city-fund": city["2026-11"]["balance"], "prov-reguarantee": prov["2026-11"]["balance"]}
    # as of a date: the series ends that month
    then = api.get("regulator", f"{S}/reports/fund-history", as_of_date="2019-07-31").json()["months"]
    assert then[-1]["month"] == "2019-07" and then[-1]["balance"] == "9850000.00"
    # a fund reads its own months only
    own = api.get("city-fund", f"{S}/reports/fund-history").json()["months"]
    assert {m["party_id"] for m in own} == {"city-fund"} and len(own) == 106


def test_every_breaker_with_its_figure_now_its_threshold_and_its_room(api: Api) -> None:
    pool(api)
    found = {b["breaker"]: b for b in api.get("fm", f"{S}/reports/breaker-figures").json()["breakers"]}
    assert list(found) == [
        "bank_loss_rate:bank-a",
        "bank_loss_rate:bank-b",
        "insurer_loss_ratio:ins-a",
        "fund_drawdown:city-fund",
        "fund_drawdown:prov-reguarantee",
    ]
    # bank-a: 1,500,000.00 outstanding at default over 1,500,000.00 disbursed; tripped by L1's default
    a = found["bank_loss_rate:bank-a"]
    assert (a["figure"], a["base"], a["figure_percent"]) == ("1500000.00", "1500000.00", "100.00")
    assert (a["threshold_bp"], a["threshold_percent"], a["rule_version"]) == (300, "3.00", 2)
    # it may reach 3% of 1,500,000.00 = 45,000.00: over by 1,455,000.00
    assert (a["over"], a["room"], a["room_percent"]) == (True, "-1455000.00", "-97.00")
    assert (a["tripped"], a["tripped_on"], a["reset_on"]) == (True, "2019-06-01", None)
    # bank-b: nothing defaulted of 400,000.00; may reach 3% = 12,000.00 (strictly above trips)
    b = found["bank_loss_rate:bank-b"]
    assert (b["figure"], b["base"], b["figure_percent"], b["over"], b["room"], b["room_percent"]) == (
        "0.00",
        "400000.00",
        "0.00",
        False,
        "12000.00",
        "3.00",
    )
    assert b["tripped"] is False and b["tripped_on"] is None
    # city-fund: 50,000.00 paid of 12,000,000.00; 50% = 6,000,000.00 trips (at or above), so the
    # figure may grow to 5,999,999.99
    c = found["fund_drawdown:city-fund"]
    assert (c["figure"], c["base"], c["figure_percent"], c["room"], c["room_percent"]) == (
        "50000.00",
        "12000000.00",
        "0.42",
        "5949999.99",
        "49.58",
    )
    # the re-guarantee fund's payment was reversed: nothing paid
    p = found["fund_drawdown:prov-reguarantee"]
    assert (p["figure"], p["room"], p["over"]) == ("0.00", "4999999.99", False)
    # the insurer's ratio is the calendar year's: in 2026 no premium, no allocation (a zero base)
    i = found["insurer_loss_ratio:ins-a"]
    assert (i["year"], i["figure"], i["base"], i["figure_percent"], i["room"], i["over"]) == (
        2026,
        "0.00",
        "0.00",
        None,
        None,
        False,
    )
    assert i["tripped"] is True and i["tripped_on"] == "2019-06-10"
    # as of the end of 2019: 80% of I1's 600,000.00 = 480,000.00 over 100,000.00 of premiums
    then = api.get("fm", f"{S}/reports/breaker-figures", as_of_date="2019-12-31").json()["breakers"]
    i2019 = next(b for b in then if b["kind"] == "insurer_loss_ratio")
    assert (i2019["year"], i2019["figure"], i2019["base"], i2019["figure_percent"]) == (
        2019,
        "480000.00",
        "100000.00",
        "480.00",
    )
    # 120% of 100,000.00 = 120,000.00 trips, so the figure may be 119,999.99: over by 360,000.01
    assert (i2019["over"], i2019["room"], i2019["room_percent"]) == (True, "-360000.01", "-360.00")
    # before the rule version with breakers, no threshold: never trips
    early = api.get("fm", f"{S}/reports/breaker-figures", as_of_date="2018-06-30").json()["breakers"]
    assert all(b["threshold_bp"] is None and b["room"] is None and not b["over"] for b in early)
    assert {b["rule_version"] for b in early} == {1}
    # a party reads its own breaker only
    own = api.get("bank-b", f"{S}/reports/breaker-figures").json()["breakers"]
    assert [b["breaker"] for b in own] == ["bank_loss_rate:bank-b"]


def test_the_settlement_payments_made_with_their_reversals(api: Api) -> None:
    pool(api)
    payments = api.get("fm", f"{S}/reports/settlements").json()["payments"]
    claim = "bank-a:L1:claim:1"
    assert payments == [  # latest recorded first
        {
            "fact_id": f"{claim}:payment:2",
            "claim_id": claim,
            "party_id": "prov-reguarantee",
            "bank_id": "bank-a",
            "amount": "150000.00",
            "paid_on": "2019-07-05",
            "reversed_on": "2019-08-02",
            "reason": "paid to the wrong account",
        },
        {
            "fact_id": f"{claim}:payment:1",
            "claim_id": claim,
            "party_id": "city-fund",
            "bank_id": "bank-a",
            "amount": "50000.00",
            "paid_on": "2019-07-03",
            "reversed_on": None,
            "reason": None,
        },
    ]
    # a page at a time, latest first, the second page after the first's cursor
    one = api.get("fm", f"{S}/reports/settlements", limit=1).json()
    assert [p["fact_id"] for p in one["payments"]] == [f"{claim}:payment:2"] and one["next_cursor"]
    two = api.get("fm", f"{S}/reports/settlements", limit=1, cursor=one["next_cursor"]).json()
    assert [p["fact_id"] for p in two["payments"]] == [f"{claim}:payment:1"]
    three = api.get("fm", f"{S}/reports/settlements", limit=1, cursor=two["next_cursor"]).json()
    assert three["payments"] == [] and three["next_cursor"] is None
    # the bank paid and the payer read them; another bank and another fund do not
    assert len(api.get("bank-a", f"{S}/reports/settlements").json()["payments"]) == 2
    assert [p["party_id"] for p in api.get("city-fund", f"{S}/reports/settlements").json()["payments"]] == [
        "city-fund"
    ]
    assert api.get("bank-b", f"{S}/reports/settlements").json()["payments"] == []
    # as of a date before the reversal, it stands
    then = api.get("regulator", f"{S}/reports/settlements", as_of_date="2019-07-31").json()["payments"]
    assert [p["reversed_on"] for p in then] == [None, None]
