"""The fund manager's administration pages: contributions, rule versions (read, compared, published
from a YAML file), programme targets and circuit breakers, in Chinese, in a real browser.

Every expected figure is worked out here, from the API's JSON or by hand from the demo's rule files
(riskpool/demo/rules/*.yaml), never read back from the page under test. What a test changes in the
shared demo is undone (a contribution reversed, the targets set back) or is its own (a bank it
registers, a rule version that takes effect in 2099).
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import subprocess
import uuid
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from console import i18n
from console.pages.admin import UnreadableFile, read_rules_file
from ledger.rules.loading import load_document
from ledger.uscc import make_uscc
from tests.console.conftest import look, sign_in, tab_through
from tests.e2e.conftest import RISKPOOL

RULES = Path(__file__).parents[2] / "riskpool" / "demo" / "rules"
ZH = i18n.translations("zh-CN")


def today() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def yuan(text: str | Decimal) -> str:
    """An amount as the page should show it, worked out here: thousands separators, two decimals."""
    return f"{Decimal(text):,.2f}"


def fm(console) -> str:
    return console.key("fund_manager", principal="fm-zhang")


def base(console) -> str:
    return f"/schemes/{console.scheme}"


def flatten(value, path=""):
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            yield from flatten(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value:
        for index, inner in enumerate(value):
            yield from flatten(inner, f"{path}.{index}")
    else:
        yield path, value


# Contributions ---------------------------------------------------------------------------------


def test_a_contribution_recorded_with_the_keyboard_is_listed_and_raises_paid_in_by_exactly_its_amount(
    console, tab
):
    page, api = tab.page, console.api(fm(console))
    scheme = f"/v1/schemes/{console.scheme}"
    paid_in_before = Decimal(api.get(scheme).json()["paid_in"])
    funds_before = {f["party_id"]: f for f in api.get(f"{scheme}/reports/funds").json()["funds"]}
    recorded = api.get(
        "/v1/audit/events", params={"scheme_id": console.scheme, "fact": "ContributionRecorded", "limit": 500}
    ).json()["items"]
    number = 1 + sum(1 for e in recorded if e["fact_id"].startswith("xunxian-fund:contribution:"))
    fact_id = f"xunxian-fund:contribution:{number}"
    amount = Decimal("0.37")

    sign_in(tab, fm(console), next_path=f"{base(console)}/contributions")
    assert page.inner_text("#paid-in").startswith(yuan(paid_in_before))
    look(tab, "admin-contributions", store=console.store)

    # the form with the keyboard alone: Tab to the fund, arrows to choose it, type, Enter
    tab_through(tab, "#f-party_id")
    for _ in range(10):
        if page.eval_on_selector("#f-party_id", "el => el.value") == "xunxian-fund":
            break
        page.keyboard.press("ArrowDown")
    assert page.eval_on_selector("#f-party_id", "el => el.value") == "xunxian-fund"
    page.keyboard.press("Tab")
    page.keyboard.type("0.375")  # three decimals: refused beside the field, the entry kept
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_attribute("#f-amount", "aria-invalid") == "true"
    assert ZH.gettext("The amount is not a valid yuan amount (at most two decimals).") in page.inner_text(
        "#e-amount"
    )
    assert page.input_value("#f-amount") == "0.375"
    assert page.eval_on_selector("#f-party_id", "el => el.value") == "xunxian-fund"
    look(tab, "admin-contribution-refused", store=console.store)
    assert Decimal(api.get(scheme).json()["paid_in"]) == paid_in_before  # nothing recorded

    tab_through(tab, "#f-amount")
    page.keyboard.press("Control+A")
    page.keyboard.type(str(amount))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    try:
        assert "/contributions" in page.url and page.locator(".flash.ok").count() == 1
        row = page.locator("#contributions tbody tr", has_text=fact_id)
        assert row.count() == 1
        cells = row.locator("td").all_inner_texts()
        assert cells[2] == yuan(amount) and cells[3] == today() and cells[4] == "fm-zhang"
        expected = paid_in_before + amount
        assert page.inner_text("#paid-in").startswith(yuan(expected))
        look(tab, "admin-contribution-recorded", store=console.store)
        with page.expect_download() as downloaded:
            page.click("#contributions .downloads a:text-is('CSV')")
        table = list(csv.reader(io.StringIO(Path(downloaded.value.path()).read_text(encoding="utf-8-sig"))))
        found = [r for r in table if r[0] == fact_id]
        assert len(found) == 1 and found[0][2:5] == [str(amount), today(), "fm-zhang"], found
        # the API agrees, to the fen: paid in and the fund's contributions rose by exactly the amount
        assert Decimal(api.get(scheme).json()["paid_in"]) == expected
        fund = {f["party_id"]: f for f in api.get(f"{scheme}/reports/funds").json()["funds"]}["xunxian-fund"]
        assert (
            Decimal(fund["contributions"]) == Decimal(funds_before["xunxian-fund"]["contributions"]) + amount
        )
    finally:
        # undone, for the other tests: the contribution reversed, as a fund manager would correct it
        reversal = api.post(
            f"{scheme}/reversals",
            json={"fact_id": fact_id, "reason": "console test contribution", "reversed_on": today()},
        )
    assert reversal.status_code == 201, reversal.text
    page.goto(f"{base(console)}/contributions?after_position={reversal.json()['position']}")
    row = page.locator("#contributions tbody tr", has_text=fact_id)
    assert "fm-zhang" in row.locator("td").nth(6).inner_text()  # reversed, and by whom
    assert page.inner_text("#paid-in").startswith(yuan(paid_in_before))


# Rule versions ----------------------------------------------------------------------------------


def test_a_rule_version_reads_as_tables_and_versions_1_and_2_compare_with_their_differences_marked(
    console, tab
):
    page, api = tab.page, console.api(fm(console))
    versions = api.get(f"/v1/schemes/{console.scheme}/rule-versions").json()
    sign_in(tab, fm(console), next_path=f"{base(console)}/rules")
    assert page.locator("#versions tbody tr").count() == len(versions)
    look(tab, "admin-rules", store=console.store)

    page.click("#versions a:text-is('第 1 版')")
    page.wait_for_load_state("load")
    assert page.url.endswith(f"{base(console)}/rules/1")
    v1 = yaml.safe_load((RULES / "v1-2018.yaml").read_text(encoding="utf-8"))
    general = page.inner_text("#t-general")
    assert yuan(v1["eligibility"]["principal_max"]) in general  # 30,000,000.00
    assert yuan(v1["second_approval_from"]) in general  # 1,000,000.00
    tiers = page.inner_text("#t-split-direct")
    for tier in v1["covers"]["direct"]["split"]["hebi-finance"]["tiers"]:
        assert f"{yuan(tier['principal_max'])}：{Decimal(tier['bp']) / 100:.2f}%" in tiers
    assert "fee_multiple_max_bp: 50000" in page.inner_text("#source-yaml")
    look(tab, "admin-rule-version", store=console.store)

    # the differences of the two demo files, worked out from the files themselves
    v2 = yaml.safe_load((RULES / "v2-2020.yaml").read_text(encoding="utf-8"))
    left, right = dict(flatten(v1)), dict(flatten(v2))
    differing = {p for p in left.keys() | right.keys() if left.get(p) != right.get(p)}
    assert differing == {
        "effective_from",
        "second_approval_from",
        "covers.direct.split.hebi-finance.tiers.0.principal_max",
    }

    page.goto(f"{base(console)}/rules")
    page.select_option("#f-left", "1")
    page.select_option("#f-right", "2")
    page.click("form[action$='/rules/compare'] button[type=submit]")
    page.wait_for_load_state("load")
    assert "left=1" in page.url and "right=2" in page.url
    marked = set(page.eval_on_selector_all("tr.diff-changed", "rows => rows.map(r => r.dataset.path)"))
    assert marked == differing
    row = page.locator("tr[data-path='second_approval_from']")
    assert row.locator("td.left").inner_text() == yuan(v1["second_approval_from"])  # 1,000,000.00
    assert row.locator("td.right").inner_text() == yuan(v2["second_approval_from"])  # 800,000.00
    row = page.locator("tr[data-path='covers.direct.split.hebi-finance.tiers.0.principal_max']")
    assert row.locator("td.left").inner_text() == "5,000,000.00"
    assert row.locator("td.right").inner_text() == "8,000,000.00"
    assert page.locator("tr[data-path='leverage_multiple']").get_attribute("class") is None
    look(tab, "admin-rules-compare", store=console.store)


def _publish(page, path: Path) -> None:
    page.set_input_files("#f-file", str(path))
    page.click("form[enctype='multipart/form-data'] button[type=submit]")
    page.wait_for_load_state("load")


def test_a_broken_rule_file_lists_every_problem_the_api_finds_and_publishes_nothing(console, tab, tmp_path):
    page, api = tab.page, console.api(fm(console))
    versions = f"/v1/schemes/{console.scheme}/rule-versions"
    count = len(api.get(versions).json())
    document = yaml.safe_load((RULES / "v2-2020.yaml").read_text(encoding="utf-8"))
    document["effective_from"] = "2099-06-01"
    broken = copy.deepcopy(document)
    broken["covers"]["guaranteed"]["split"]["guarantor"] = 5000  # 5000+3000+2000+1000 = 11000 bp
    broken["covers"]["insured"]["overflow"]["hebi-finance"] = 7000  # 2000+7000 = 9000 bp
    broken["covers"]["insured"]["caps"]["bank"] = {"per_claim_max": "100.00"}  # no cap on the bank
    path = tmp_path / "broken-rules.yaml"
    path.write_text(yaml.safe_dump(broken, allow_unicode=True, sort_keys=False), encoding="utf-8")
    # what the API itself says of this document (a refusal leaves no trace in the ledger)
    refused = api.post(versions, json={"document": broken, "published_on": today()})
    assert refused.status_code == 422 and refused.json()["code"] == "rules_invalid"
    expected = refused.json()["figures"]["problems"]
    assert len(expected) == 3
    assert any("covers.guaranteed.split" in p and "11000" in p for p in expected)
    assert any("covers.insured.overflow" in p and "9000" in p for p in expected)

    sign_in(tab, fm(console), next_path=f"{base(console)}/rules")
    _publish(page, path)
    listed = page.locator("#rule-problems li").all_inner_texts()
    assert len(listed) == len(expected)
    for problem, line in zip(expected, listed, strict=True):
        where, _, what = problem.partition(": ")
        assert where in line and what in line, (problem, line)
    assert "broken-rules.yaml" in page.inner_text("#rule-problems")
    assert "broken-rules.yaml" in page.inner_text("#h-file")  # the file's name is kept
    assert page.get_attribute("#f-file", "aria-invalid") == "true"
    look(tab, "admin-rules-refused", store=console.store)
    assert len(api.get(versions).json()) == count

    # shares that do not add up AND a negative cap: the API's shape check answers first, with
    # every shape problem (here the negative cap and a leverage multiple of 0)
    worse = copy.deepcopy(broken)
    worse["covers"]["direct"]["caps"]["hebi-finance"]["per_claim_max"] = "-5000000.00"
    worse["leverage_multiple"] = 0
    path = tmp_path / "negative-cap.yaml"
    path.write_text(yaml.safe_dump(worse, allow_unicode=True, sort_keys=False), encoding="utf-8")
    expected = api.post(versions, json={"document": worse, "published_on": today()}).json()["figures"][
        "problems"
    ]
    assert any("per_claim_max" in p and "negative" in p for p in expected)
    assert any(p.startswith("leverage_multiple") for p in expected)
    _publish(page, path)
    listed = page.locator("#rule-problems li").all_inner_texts()
    assert len(listed) == len(expected) >= 2
    assert "negative-cap.yaml" in page.inner_text("#rule-problems")

    # a file that is not YAML at all is refused by the console before the API sees it
    path = tmp_path / "not-yaml.yaml"
    path.write_text("effective_from: [2099-01-01\n", encoding="utf-8")
    _publish(page, path)
    assert "YAML" in page.inner_text("#rule-problems")
    assert len(api.get(versions).json()) == count


def test_the_demo_s_own_rule_file_publishes_a_version_that_takes_effect_in_2099(console, tab, tmp_path):
    """The same YAML file the demo (and `riskpool rules check`) reads, its date moved to 2099 so that
    nothing any other test reads changes: no loan enrolled before 2099 takes this version."""
    page, api = tab.page, console.api(fm(console))
    versions = f"/v1/schemes/{console.scheme}/rule-versions"
    before = api.get(versions).json()
    assert all(v["effective_from"] < "2099-01-01" for v in before)
    text = (RULES / "v2-2020.yaml").read_text(encoding="utf-8")
    path = tmp_path / "v3-2099.yaml"
    path.write_text(
        text.replace("effective_from: 2020-01-01", "effective_from: 2099-01-01"), encoding="utf-8"
    )

    sign_in(tab, fm(console), next_path=f"{base(console)}/rules")
    _publish(page, path)
    number = len(before) + 1
    assert page.url.split("?")[0].endswith(f"{base(console)}/rules/{number}")
    assert "v3-2099.yaml" in page.inner_text(".flash.ok")
    look(tab, "admin-rule-published", store=console.store)
    after = api.get(versions).json()
    assert [v["number"] for v in after] == [v["number"] for v in before] + [number]
    published = after[-1]
    assert published["effective_from"] == "2099-01-01" and published["published_on"] == today()
    v2 = next(v for v in before if v["number"] == 2)["document"]
    assert published["document"] == v2 | {"effective_from": "2099-01-01"}
    page.goto(f"{base(console)}/rules")
    row = page.locator("#versions tbody tr").nth(number - 1)
    assert "2099-01-01" in row.inner_text() and "fm-zhang" in row.inner_text()


# Targets ----------------------------------------------------------------------------------------


def _target_set(report: dict) -> list[dict]:
    """The targets as they were set (to set them back): a goal in yuan or a count of firms."""
    found = []
    for t in sorted(report["targets"], key=lambda t: t["target_id"]):
        goal = {"count": t["goal"]} if t["metric"] == "firms_served" else {"amount": t["goal"]}
        found.append({"target_id": t["target_id"], "metric": t["metric"], "by": str(t["by"])} | goal)
    return found


def test_targets_are_set_beside_the_current_ones_and_shown_against_what_was_achieved(console, tab):
    page, api = tab.page, console.api(fm(console))
    report_path = f"/v1/schemes/{console.scheme}/reports/targets"
    original = _target_set(api.get(report_path).json())
    sign_in(tab, fm(console), next_path=f"{base(console)}/targets")
    rows = page.locator("#targets tbody tr")
    assert rows.count() == len(original)
    lending = next(t for t in api.get(report_path).json()["targets"] if t["target_id"] == "lending-2020")
    text = page.locator("#targets tbody tr", has_text="lending-2020").inner_text()
    assert yuan(lending["goal"]) in text and yuan(lending["reached_by_then"]) in text
    look(tab, "admin-targets", store=console.store)

    new = len(original)  # the first empty row of the form
    page.fill(f"#f-target_id_{new}", "admin-firms-2030")
    page.select_option(f"#f-metric_{new}", "firms_served")
    page.fill(f"#f-goal_{new}", "12.5")  # not a whole number of firms
    page.fill(f"#f-by_{new}", "2030-12-31")
    page.click("form.admin-targets-form button[type=submit]")
    page.wait_for_load_state("load")
    assert page.get_attribute(f"#f-goal_{new}", "aria-invalid") == "true"
    assert page.locator(f"#e-goal_{new}").is_visible()
    assert page.input_value(f"#f-goal_{new}") == "12.5" and page.input_value(f"#f-by_{new}") == "2030-12-31"
    look(tab, "admin-targets-refused", store=console.store)
    assert _target_set(api.get(report_path).json()) == original  # nothing set

    try:
        page.fill(f"#f-goal_{new}", "300")
        page.fill(f"#f-target_id_{new + 1}", "admin-fiscal-2030")
        page.select_option(f"#f-metric_{new + 1}", "cumulative_contributions")
        page.fill(f"#f-goal_{new + 1}", "123,456,789.12")  # typed with separators
        page.fill(f"#f-by_{new + 1}", "2030-12-31")
        page.click("form.admin-targets-form button[type=submit]")
        page.wait_for_load_state("load")
        assert page.locator(".flash.ok").count() == 1
        report = api.get(report_path).json()
        by_id = {t["target_id"]: t for t in report["targets"]}
        assert set(by_id) == {t["target_id"] for t in original} | {"admin-firms-2030", "admin-fiscal-2030"}
        fiscal = by_id["admin-fiscal-2030"]
        assert fiscal["goal"] == "123456789.12"
        # the share of the goal met, worked out here from the API's figures
        share = (Decimal(fiscal["reached_by_then"]) * 100 / Decimal("123456789.12")).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        text = page.locator("#targets tbody tr", has_text="admin-fiscal-2030").inner_text()
        assert "2030" in text and "123,456,789.12" in text and f"{share}%" in text
        assert yuan(fiscal["reached_by_then"]) in text
        assert not fiscal["met"] and ZH.gettext("Not yet due") in text  # due in 2030: not "not met"
        firms = page.locator("#targets tbody tr", has_text="admin-firms-2030").inner_text()
        assert "300" in firms and f"{by_id['admin-firms-2030']['reached_by_then']:,}" in firms
        look(tab, "admin-targets-set", store=console.store)
    finally:
        restored = api.put(
            f"/v1/schemes/{console.scheme}/targets", json={"targets": original, "set_on": today()}
        )
    assert restored.status_code == 200, restored.text
    after = {"after_position": restored.json()["position"]}
    assert _target_set(api.get(report_path, params=after).json()) == original


# Circuit breakers -------------------------------------------------------------------------------


def _percent(figure: Decimal, base_: Decimal) -> str:
    return f"{(figure * 100 / base_).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"


def test_the_breakers_page_shows_every_breaker_with_its_figure_worked_out_from_the_api(console, tab):
    page, api = tab.page, console.api(fm(console))
    scheme = f"/v1/schemes/{console.scheme}"
    members = api.get(f"{scheme}/members").json()
    banks = [m["party_id"] for m in members if m["role"] == "bank"]
    funds = api.get(f"{scheme}/reports/funds").json()["funds"]
    tripped = [b["breaker"] for b in api.get(f"{scheme}/reports/breakers").json()["breakers"] if b["tripped"]]
    loans, cursor = [], None
    while True:
        answer = api.get(
            f"{scheme}/loans", params={"limit": 500, **({"cursor": cursor} if cursor else {})}
        ).json()
        loans += answer["items"]
        cursor = answer.get("next_cursor")
        if not cursor:
            break

    sign_in(tab, fm(console), next_path=f"{base(console)}/breakers")
    look(tab, "admin-breakers", store=console.store)
    assert page.locator("#breakers-bank_loss_rate tbody tr").count() == len(banks)
    assert page.locator("#breakers-fund_drawdown tbody tr").count() == len(funds)
    assert page.locator("#breakers-insurer_loss_ratio tbody tr").count() == sum(
        1 for m in members if m["role"] == "insurer"
    )
    # a bank's loss rate, worked out from its loans: outstanding at default over principal disbursed
    for bank in banks:
        mine = [loan for loan in loans if loan["bank_id"] == bank]
        disbursed = sum((Decimal(loan["principal"]) for loan in mine if loan["disbursed_on"]), Decimal(0))
        defaulted = sum(
            (Decimal(loan["outstanding_at_default"]) for loan in mine if loan["outstanding_at_default"]),
            Decimal(0),
        )
        cells = page.locator("#breakers-bank_loss_rate tbody tr", has_text=f"({bank})").locator("td")
        assert cells.nth(1).inner_text() == yuan(defaulted), bank
        assert cells.nth(2).inner_text() == yuan(disbursed), bank
        if disbursed:
            assert cells.nth(3).inner_text() == _percent(defaulted, disbursed), bank
    # a fund's drawdown is the funds report's
    for fund in funds:
        cells = page.locator("#breakers-fund_drawdown tbody tr", has_text=f"({fund['party_id']})").locator(
            "td"
        )
        assert cells.nth(1).inner_text() == yuan(fund["payments"])
        assert cells.nth(3).inner_text() == f"{fund['drawdown_percent']}%"
    # hebi-finance, by hand: a drawdown of 50% trips it, so its payments may reach half its
    # contributions less one fen (29,999,999.99 of 60,000,000.00) and stay clear
    hebi = next(f for f in funds if f["party_id"] == "hebi-finance")
    room = Decimal(hebi["contributions"]) / 2 - Decimal("0.01") - Decimal(hebi["payments"])
    cells = page.locator("#breakers-fund_drawdown tbody tr", has_text="(hebi-finance)").locator("td")
    assert cells.nth(6).inner_text() == yuan(room)
    # a reset form for each tripped breaker, and for no other
    forms = page.eval_on_selector_all(
        "form[action*='/breakers/']", "forms => forms.map(f => decodeURIComponent(f.action))"
    )
    assert sorted(f.split("/breakers/")[1].split("/reset")[0] for f in forms) == sorted(tripped)


def _trip_a_new_bank(console) -> str:
    """A bank of this test's own, registered and admitted, whose one loan defaults in full: its loss
    rate (100%) is above the 3% of the rules in force, so its breaker trips. Only its own
    enrolments are blocked."""
    api = console.api(fm(console))
    bank = f"brk-{uuid.uuid4().hex[:8]}"
    day = today()
    assert (
        api.post(
            "/v1/parties",
            json={"party_id": bank, "role": "bank", "name": "熔断测试银行", "registered_on": day},
        ).status_code
        == 201
    )
    assert (
        api.post(
            f"/v1/schemes/{console.scheme}/members", json={"party_id": bank, "admitted_on": day}
        ).status_code
        == 201
    )
    made = subprocess.run(
        [*RISKPOOL, "keys", "create", "--role", "bank", "--name", "breaker test", "--party", bank],
        env=console.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    teller = console.api(re.search(r"rpk_[A-Za-z0-9_-]+", made).group(0))
    loans = f"/v1/schemes/{console.scheme}/banks/{bank}/loans"
    enrolled = teller.post(
        loans,
        json={
            "loan_ref": "BRK-1",
            "borrower_name": "熔断测试企业",
            "borrower_uscc": make_uscc(f"91410600{uuid.uuid4().int % 10**9:09d}"),
            "product": "tech_loan",
            "principal": "100000.00",
            "rate_bp": 435,
            "term_months": 12,
            "cover": "direct",
            "enrolled_on": day,
        },
    )
    assert enrolled.status_code == 201, enrolled.text
    assert teller.post(
        f"{loans}/BRK-1/disbursement", json={"amount": "100000.00", "disbursed_on": day}
    ).is_success
    defaulted = teller.post(f"{loans}/BRK-1/default", json={"overdue_days": 95, "defaulted_on": day})
    assert defaulted.json()["tripped"] == [f"bank_loss_rate:{bank}"], defaulted.text
    return bank


def test_a_tripped_breaker_is_reset_only_with_a_reason_given_beside_the_field(console, tab):
    page, api = tab.page, console.api(fm(console))
    bank = _trip_a_new_bank(console)
    breaker = f"bank_loss_rate:{bank}"
    slug = breaker.replace(":", "-")
    report = f"/v1/schemes/{console.scheme}/reports/breakers"

    sign_in(tab, fm(console), next_path=f"{base(console)}/breakers")
    row = page.locator("#breakers-bank_loss_rate tbody tr", has_text=f"({bank})")
    assert row.locator("td").nth(3).inner_text() == "100.00%"  # 100,000.00 / 100,000.00, by hand
    row.locator("a").click()  # the state "tripped on …" leads to its reset form
    assert page.url.endswith(f"#breaker-{slug}")
    # a browser that does not check `required` (or a person who bypasses it): the server refuses
    page.eval_on_selector(f"#f-reason-{slug}", "el => el.removeAttribute('required')")
    page.click(f"#breaker-{slug} button[type=submit]")
    page.wait_for_load_state("load")
    assert page.get_attribute(f"#f-reason-{slug}", "aria-invalid") == "true"
    required = ZH.gettext("A written reason is required, of at most %(reason_max)s characters.")
    assert page.inner_text(f"#e-reason-{slug}").startswith(required % {"reason_max": "2,000"})
    look(tab, "admin-breaker-reset-refused", store=console.store)
    state = next(b for b in api.get(report).json()["breakers"] if b["breaker"] == breaker)
    assert state["tripped"] and state["reset_on"] is None  # nothing was reset

    reason = "测试：该行已计提损失准备"
    page.fill(f"#f-reason-{slug}", reason)
    page.click(f"#breaker-{slug} button[type=submit]")
    page.wait_for_load_state("load")
    assert page.locator(".flash.ok").count() == 1
    assert page.locator(f"#breaker-{slug}").count() == 0  # no form for a clear breaker
    cells = page.locator("#breakers-bank_loss_rate tbody tr", has_text=f"({bank})").locator("td")
    assert today() in cells.nth(7).inner_text()
    look(tab, "admin-breaker-reset", store=console.store)
    state = next(b for b in api.get(report).json()["breakers"] if b["breaker"] == breaker)
    assert not state["tripped"] and state["reset_on"] == today() and state["reset_reason"] == reason


def test_a_regulator_reads_the_administration_pages_without_their_forms(console, tab):
    page = tab.page
    sign_in(tab, console.key("regulator"), next_path=f"{base(console)}/rules")
    assert page.locator("#versions tbody tr").count() >= 2
    assert page.locator("input[type=file]").count() == 0
    look(tab, "admin-rules-regulator", store=console.store)
    answer = page.goto(f"{base(console)}/rules/not-a-number")
    assert answer.status == 404 and page.locator("main .error").count() == 1
    for area in ("contributions", "targets", "breakers"):
        page.goto(f"{base(console)}/{area}")
        assert page.locator("form[method=post]:not(.sign-out)").count() == 0, area
        look(tab, f"admin-{area}-regulator", store=console.store)


# Reading a rule file (no browser) ---------------------------------------------------------------


def test_a_rule_file_reads_as_the_ledger_reads_it_with_its_dates_as_text():
    for name in ("v1-2018.yaml", "v2-2020.yaml"):
        content = (RULES / name).read_bytes()
        document = read_rules_file(content)
        assert document == json.loads(json.dumps(load_document(content.decode("utf-8")), default=str))
        assert document["effective_from"] in ("2018-10-01", "2020-01-01")


def test_a_rule_file_is_refused_before_the_api_when_it_is_too_large_unsafe_or_an_alias_bomb():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    refused = [
        b"x: " + b"9" * (256 * 1024),  # above the rule book's 256 KiB
        b"!!python/object/apply:os.system [echo unsafe]\n",  # safe_load builds no object
        bomb.encode(),  # 9**9 values once its aliases are followed
        b"- a list\n- not a mapping\n",
        b"\xff\xfe not UTF-8",
        b"effective_from: [2099-01-01\n",
    ]
    for content in refused:
        with pytest.raises(UnreadableFile):
            read_rules_file(content)
