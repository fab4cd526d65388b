"""The fund manager's claims pages in a real browser: the queue, the claim page with its review and
settlement forms (maker-checker by the API), and what each party owes.

Each test that writes files its own claim on a loan of its own (enrolled, disbursed and defaulted
through the API as the bank), so that no other test reads what it changes. Expected figures come
from the API's JSON or are worked out by hand from the rule version (direct cover in rule version
2: hebi-finance 40% up to 8,000,000.00 of principal, qibin-fund 10%, the bank the rest)."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from ledger.uscc import make_uscc
from tests.console.conftest import SCREENSHOTS, Watched, look, sign_in, tab_through

BANK = "qihe-bank"  # the bank with the most room under its loss-rate breaker in the demo


def yuan(text: str) -> Decimal:
    """An amount as the page shows it ("1,234.56") as a number."""
    return Decimal(text.strip().replace(",", ""))


def shown(amount: str) -> str:
    """An API amount ("1234.56") as the page shows it ("1,234.56")."""
    return f"{Decimal(amount):,.2f}"


def ok(answer, status: int = 201) -> dict:
    assert answer.status_code == status, answer.text
    return answer.json()


STATUS_KEYS = ("filed", "awaiting_second_approval", "approved", "settled", "rejected")


def fresh_claim(console, principal: str, claimed: str) -> str:
    """A new direct loan of BANK, disbursed, defaulted in full and claimed: its claim id."""
    bank = console.api(console.key("bank", party=BANK))
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    ref = f"FM-{uuid.uuid4().hex[:10].upper()}"
    loans = f"/v1/schemes/{console.scheme}/banks/{BANK}/loans"
    ok(
        bank.post(
            loans,
            json={
                "loan_ref": ref,
                "borrower_name": "鹤壁测试科技有限公司",
                "borrower_uscc": make_uscc(f"91410600MA{uuid.uuid4().int % 10**7:07d}"),
                "product": "tech_loan",
                "principal": principal,
                "rate_bp": 450,
                "term_months": 12,
                "cover": "direct",
                "enrolled_on": str(today - timedelta(days=200)),
            },
        )
    )
    ok(
        bank.post(
            f"{loans}/{ref}/disbursement",
            json={"amount": principal, "disbursed_on": str(today - timedelta(days=199))},
        )
    )
    ok(
        bank.post(
            f"{loans}/{ref}/default",
            json={"overdue_days": 95, "defaulted_on": str(today - timedelta(days=100))},
        )
    )
    filed = ok(
        bank.post(
            f"{loans}/{ref}/claims", json={"claimed": claimed, "filed_on": str(today - timedelta(days=90))}
        )
    )
    return filed["claim_id"]


@contextmanager
def second_browser(browser, console) -> Iterator[Watched]:
    """Another browser (its own cookies), as another person at another desk."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", base_url=console.url)
    page = context.new_page()
    watched = Watched(page)
    page.on("pageerror", lambda error: watched.errors.append(f"script error: {error}"))
    try:
        yield watched
    finally:
        context.close()
    assert not watched.errors, watched.errors


def names(console) -> dict[str, str]:
    fm = console.api(console.key("fund_manager", principal="fm-zhang"))
    return {m["party_id"]: m["name"] for m in ok(fm.get(f"/v1/schemes/{console.scheme}/members"), 200)}


def owed_figures(page, claim_id: str, debtor: str, creditor: str) -> tuple[Decimal, Decimal]:
    """On the owed page: the debt of `debtor` to `creditor` on the claim, and `debtor`'s total owed
    to others, as shown."""
    row = (
        page.locator("#t-per-claim tbody tr", has_text=claim_id)
        .filter(has_text=debtor)
        .filter(has_text=creditor)
    )
    assert row.count() == 1, page.inner_text("#t-per-claim")
    total = page.locator("#t-parties tbody tr").filter(has_text=debtor)
    assert total.count() == 1
    return yuan(row.locator("td").nth(3).inner_text()), yuan(total.locator("td").nth(1).inner_text())


def test_two_fund_managers_approve_and_a_payment_moves_the_owed_figures_by_its_amount(console, tab, browser):
    claim_id = fresh_claim(console, "1000000.00", "1000000.00")  # at least 800,000.00: two approvals
    party = names(console)
    claim_page = f"/schemes/{console.scheme}/claims/{claim_id}"
    page = tab.page

    # fm-zhang: the first approval, from the keyboard
    sign_in(tab, console.key("fund_manager", principal="fm-zhang"), next_path=claim_page)
    assert "已提交，待审核" in page.inner_text("main")
    assert page.input_value("#f-amount") == "1000000.00"
    look(tab, "claim-filed", store=console.store)
    tab_through(tab, "#approve-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_load_state("load")
    assert "首次审批已登记" in page.inner_text(".flash.ok")
    assert "待复核（第二次审批）" in page.inner_text("main")
    assert "复核" in page.inner_text("#h-approve")
    look(tab, "claim-awaiting-second-approval", store=console.store)

    # fm-zhang again: the API refuses him the second approval; its reason stands beside the form
    page.click("#approve-form button[type=submit]")
    page.wait_for_load_state("load")
    refusal = page.locator("#approve-form .form-error")
    assert refusal.count() == 1
    assert "fm-zhang" in refusal.inner_text() and "另一位资金管理人" in refusal.inner_text()
    assert page.input_value("#f-amount") == "1000000.00"
    look(tab, "claim-same-checker-refused", store=console.store)
    fm = console.api(console.key("fund_manager", principal="fm-zhang"))
    assert (
        ok(fm.get(f"/v1/schemes/{console.scheme}/claims/{claim_id}"), 200)["status"]
        == "awaiting_second_approval"
    )

    # fm-li, at another desk: the second approval allocates the loss
    with second_browser(browser, console) as li:
        sign_in(li, console.key("fund_manager", principal="fm-li"), next_path=claim_page)
        look(li, "claim-second-approval", store=console.store)
        li.page.click("#approve-form button[type=submit]")
        li.page.wait_for_load_state("load")
        assert "已批准" in li.page.inner_text(".flash.ok")
        assert "已批准，结算中" in li.page.inner_text("main")
        look(li, "claim-approved", store=console.store)
        allocation = {
            row.locator("td").nth(0).inner_text(): row.locator("td").nth(6).inner_text()
            for row in li.page.locator("#t-allocation tbody tr").all()
        }
    # by hand: 40% of 1,000,000.00 to hebi-finance, 10% to qibin-fund, the remainder to the bank
    assert allocation == {
        party["hebi-finance"]: "400,000.00",
        party["qibin-fund"]: "100,000.00",
        party[BANK]: "500,000.00",
    }

    # what hebi-finance owes the bank on this claim, before and after a payment of 150,000.00
    page.goto(f"/schemes/{console.scheme}/owed")
    look(tab, "owed", store=console.store)
    debt_before, total_before = owed_figures(page, claim_id, party["hebi-finance"], party[BANK])
    assert debt_before == Decimal("400000.00")

    page.goto(claim_page)
    look(tab, "claim-approved-pay-form", store=console.store)
    page.select_option("#f-party_id", "hebi-finance")
    page.fill("#f-pay_amount", "150,000.00")  # as a person types it
    page.click("#pay-form button[type=submit]")
    page.wait_for_load_state("load")
    assert "150,000.00" in page.inner_text(".flash.ok")
    look(tab, "claim-paid", store=console.store)
    paid = ok(fm.get(f"/v1/schemes/{console.scheme}/claims/{claim_id}"), 200)
    assert {p["party_id"]: p["paid"] for p in paid["parties"]}["hebi-finance"] == "150000.00"

    page.goto(f"/schemes/{console.scheme}/owed")
    debt_after, total_after = owed_figures(page, claim_id, party["hebi-finance"], party[BANK])
    assert debt_before - debt_after == Decimal("150000.00")
    assert total_before - total_after == Decimal("150000.00")
    payment = page.locator("#t-payments tbody tr", has_text=claim_id)
    assert payment.count() == 1 and payment.locator("td").nth(4).inner_text() == "150,000.00"
    look(tab, "owed-after-payment", store=console.store)


def test_a_refused_approval_keeps_what_was_entered_and_says_why_beside_the_field(console, tab):
    claim_id = fresh_claim(console, "100000.00", "100000.00")
    page = tab.page
    sign_in(
        tab,
        console.key("fund_manager", principal="fm-li"),
        next_path=f"/schemes/{console.scheme}/claims/{claim_id}",
    )
    look(tab, "claim-small-filed", store=console.store)
    assert "800,000.00" in page.inner_text("#approve-form")  # where a second approval starts (v2)
    page.fill("#f-amount", "150000.00")
    day = page.input_value("#f-approved_on")
    page.click("#approve-form button[type=submit]")
    page.wait_for_load_state("load")
    field = page.locator("#f-amount")
    assert field.input_value() == "150000.00" and field.get_attribute("aria-invalid") == "true"
    assert page.input_value("#f-approved_on") == day
    message = page.inner_text("#e-amount")
    assert "批准金额 150,000.00 元高于申请金额 100,000.00 元" in message
    assert "approved amount" not in message  # no English left in the Chinese page
    look(tab, "claim-approval-exceeds-claim", store=console.store)

    # a blank reason: the rejection is refused beside the reason, and the claim stays filed
    page.fill("#f-reason", "   ")
    page.click("#reject-form button[type=submit]")
    page.wait_for_load_state("load")
    assert page.locator("#f-reason").get_attribute("aria-invalid") == "true"
    assert page.locator("#e-reason").count() == 1
    assert "原因" in page.inner_text("#e-reason") and not re.search("[A-Za-z]", page.inner_text("#e-reason"))
    fm = console.api(console.key("fund_manager", principal="fm-li"))
    assert ok(fm.get(f"/v1/schemes/{console.scheme}/claims/{claim_id}"), 200)["status"] == "filed"
    look(tab, "claim-reason-required", store=console.store)


def test_the_queue_oldest_first_filtered_with_and_without_scripts_paged_and_downloaded(console, tab, browser):
    fm = console.api(console.key("fund_manager", principal="fm-zhang"))
    claims = f"/v1/schemes/{console.scheme}/claims"
    page = tab.page
    fresh_claim(console, "100000.00", "100000.00")  # at least one claim awaits review

    def every(status: str) -> list[dict]:
        found, cursor = [], None
        while True:
            asked = {"status": status, "limit": 500} | ({"cursor": cursor} if cursor else {})
            answer = ok(fm.get(claims, params=asked), 200)
            found += answer["items"]
            cursor = answer["next_cursor"]
            if not cursor:
                return found

    def oldest_first(items: list[dict]) -> list[str]:
        return [c["claim_id"] for c in sorted(items, key=lambda c: (c["filed_on"], c["claim_id"]))]

    def shown_ids() -> list[str]:
        rows = page.locator("#t-claims tbody tr")
        return [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]

    # by default the queue is what awaits a fund manager: filed, or awaiting the second approval
    sign_in(
        tab,
        console.key("fund_manager", principal="fm-zhang"),
        next_path=f"/schemes/{console.scheme}/claims?limit=10",
    )
    look(tab, "claims-queue", store=console.store)
    awaiting = every("filed") + every("awaiting_second_approval")
    assert shown_ids() == oldest_first(awaiting)[:10]
    top = min(awaiting, key=lambda c: (c["filed_on"], c["claim_id"]))
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    first_row = page.locator("#t-claims tbody tr").first
    assert first_row.locator("td").nth(7).inner_text() == str(
        (today - date.fromisoformat(top["filed_on"])).days
    )
    assert first_row.locator("td").nth(4).inner_text() == shown(top["claimed"])
    # every status, ten at a time: the second page follows the first, oldest first
    all_claims = oldest_first([c for s in STATUS_KEYS for c in every(s)])
    page.goto(f"/schemes/{console.scheme}/claims?status=all&limit=10")
    assert shown_ids() == all_claims[:10]
    page.click("a[rel=next]")
    page.wait_for_load_state("load")
    assert shown_ids() == all_claims[10:20]
    look(tab, "claims-queue-page-2", store=console.store)

    # the status filter, by htmx: the results change in place and the address follows
    page.goto(f"/schemes/{console.scheme}/claims?status=all")
    look(tab, "claims-queue-every-status", store=console.store)
    page.select_option("#f-status", "rejected")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**status=rejected**")
    rejected = [c["claim_id"] for c in ok(fm.get(claims, params={"status": "rejected"}), 200)["items"]]
    page.wait_for_function(f"document.querySelectorAll('#t-claims tbody tr').length === {len(rejected)}")
    shown_ids = page.locator("#t-claims tbody tr td:first-child").all_inner_texts()
    assert shown_ids == rejected and all(
        "已驳回" in t for t in page.locator("#t-claims tbody tr td:nth-child(4)").all_inner_texts()
    )
    look(tab, "claims-queue-rejected", store=console.store)

    # downloaded: every claim at that status, amounts exact
    with page.expect_download() as got:
        page.click("#t-claims .downloads a:text('CSV')")
    table = list(csv.reader(io.StringIO(got.value.path().read_text(encoding="utf-8-sig"))))
    assert table[0][:2] == ["代偿申请", "合作银行"]
    assert [r[0] for r in table[1:]] == rejected

    # the same filter without scripts: a plain GET form
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", base_url=console.url, java_script_enabled=False
    )
    try:
        plain = Watched(context.new_page())
        sign_in(plain, console.key("regulator"), next_path=f"/schemes/{console.scheme}/claims")
        plain.page.select_option("#f-status", "rejected")
        plain.page.click("form.filters button[type=submit]")
        plain.page.wait_for_load_state("load")
        assert "status=rejected" in plain.page.url
        assert plain.page.locator("#t-claims tbody tr td:first-child").all_inner_texts() == rejected
        # axe-core cannot run without scripts; the markup is the one `look` checked above
        plain.page.screenshot(
            path=str(SCREENSHOTS / f"claims-queue-no-script-{console.store}.png"), full_page=True
        )
    finally:
        context.close()


def test_a_bank_sees_its_own_claims_and_no_review_form(console, tab):
    bank = console.api(console.key("bank", party="yunmeng-bank"))
    own = [
        c["claim_id"]
        for c in ok(bank.get(f"/v1/schemes/{console.scheme}/claims", params={"limit": 500}), 200)["items"]
    ]
    assert own and all(c.startswith("yunmeng-bank:") for c in own)
    page = tab.page
    sign_in(
        tab,
        console.key("bank", party="yunmeng-bank"),
        next_path=f"/schemes/{console.scheme}/claims?limit=500",
    )
    assert page.locator("#t-claims tbody tr td:first-child").all_inner_texts() == own
    assert page.locator("#t-summary").count() == 0  # the queue report is the overseers' (the API refuses it)
    look(tab, "claims-queue-bank", store=console.store)
    page.click(f"#t-claims a:text('{own[0]}')")
    page.wait_for_load_state("load")
    assert page.locator("#approve-form").count() == 0 and page.locator("#reject-form").count() == 0
    look(tab, "claim-bank", store=console.store)
    # another bank's claim is not there for it
    answer = page.goto(f"/schemes/{console.scheme}/claims/chaoge-bank:HB2019-0002:claim:1")
    assert answer.status == 404
    look(tab, "claim-of-another-bank", store=console.store)


def test_a_claim_cut_by_a_cap_says_which_cap_and_where_the_overflow_went(console, tab):
    """Demo claim chaoge-bank:HB2019-0200:claim:1, guaranteed, 2,250,000.00 approved under rule
    version 1: the guarantor's 40% (900,000.00) is capped at five times its year's fees."""
    claim_id = "chaoge-bank:HB2019-0200:claim:1"
    regulator = console.api(console.key("regulator"))
    history = ok(regulator.get(f"/v1/schemes/{console.scheme}/claims/{claim_id}/history"), 200)
    parts = next(e for e in history if e["fact"] == "Approved")["data"]["parts"]
    party = names(console)
    page = tab.page
    sign_in(tab, console.key("regulator"), next_path=f"/schemes/{console.scheme}/claims/{claim_id}")
    look(tab, "claim-capped", store=console.store)
    notes = page.inner_text(".cap-notes")
    guarantor = next(p for p in parts if p["key"] == "guarantor")
    assert guarantor["split_fen"] == 90_000_000  # 40% of 2,250,000.00
    assert f"{party[guarantor['party_id']]} 按比例应摊 900,000.00 元" in notes
    assert f"受上限削减 {guarantor['cut_fen'] // 100:,}.{guarantor['cut_fen'] % 100:02d} 元" in notes
    assert "不超过当年担保费的 500%" in notes  # fee_multiple_max_bp 50000 in rule version 1
    for p in parts:
        if p["overflow_fen"]:
            assert (
                f"{party[p['party_id']]} 承接 {p['overflow_fen'] // 100:,}.{p['overflow_fen'] % 100:02d} 元"
                in notes
            )
    assert page.locator("#approve-form, #reject-form, #pay-form").count() == 0  # a regulator only reads
    assert page.locator("#t-loan-timeline tbody tr").count() == len(
        ok(regulator.get(f"/v1/schemes/{console.scheme}/banks/chaoge-bank/loans/HB2019-0200/history"), 200)
    )
    assert page.locator("#t-claim-history tbody tr").count() == len(history)
    assert date.fromisoformat(page.locator("#t-claim-history tbody tr td").first.inner_text()) == date(
        2019, 12, 14
    )


def test_a_form_left_open_while_another_manager_acts_is_refused_with_its_reason_shown(console, tab):
    """fm-li opens a claim; meanwhile fm-zhang rejects it. fm-li's approval is refused (the claim
    moved on), and though the approval form is gone from the page, why is said at its top."""
    claim_id = fresh_claim(console, "100000.00", "100000.00")
    page = tab.page
    sign_in(
        tab,
        console.key("fund_manager", principal="fm-li"),
        next_path=f"/schemes/{console.scheme}/claims/{claim_id}",
    )
    assert page.locator("#approve-form").count() == 1
    zhang = console.api(console.key("fund_manager", principal="fm-zhang"))
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    ok(
        zhang.post(
            f"/v1/schemes/{console.scheme}/claims/{claim_id}/rejection",
            json={"reason": "抵押物处置材料不全", "rejected_on": str(today)},
        )
    )
    page.click("#approve-form button[type=submit]")
    page.wait_for_load_state("load")
    assert page.locator("#approve-form").count() == 0
    alert = page.locator("p.flash.error[role=alert]")
    assert alert.count() == 1 and alert.inner_text().strip(), page.inner_text("main")[:500]
    look(tab, "claim-moved-on", store=console.store)
    fm = console.api(console.key("fund_manager", principal="fm-li"))
    assert ok(fm.get(f"/v1/schemes/{console.scheme}/claims/{claim_id}"), 200)["status"] == "rejected"
