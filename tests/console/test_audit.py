"""The regulator's pages in a real browser: the audit explorer, a loan or claim as it stood, and the
tree heads with the downloads a regulator checks on their own machine.

Every expected figure is worked out from the API's own JSON (a loan's history, the audit events,
the public key), never read from the page under test.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import httpx

from tests.console.conftest import look, sign_in, tab_through
from tools.verify_export import head_signed, verify_consistency, verify_inclusion

ROOT = Path(__file__).resolve().parents[2]
LOAN_STATES_ZH = {
    "enrolled": "已登记",
    "disbursed": "已放款",
    "repaid": "已还清",
    "defaulted": "已违约",
    "withdrawn": "已撤回",
    "written_off": "已核销",
}


def yuan(fen: int | None) -> str:
    """Fen as the console must show them: yuan with thousands separators and two decimals."""
    return "—" if fen is None else f"{Decimal(fen) / 100:,.2f}"


def events(client, **params) -> list[dict]:
    """Every audit event the API gives for these filters, all pages."""
    found, cursor = [], None
    while True:
        paged = {"cursor": cursor} if cursor else {}
        page = client.get("/v1/audit/events", params={"limit": 500, **params, **paged})
        assert page.status_code == 200, page.text
        body = page.json()
        found += body["items"]
        cursor = body.get("next_cursor")
        if not cursor:
            return found


def a_defaulted_loan(client) -> tuple[dict, list[dict]]:
    """A demo loan whose history has a default with facts dated before it: its Defaulted event and
    its history (GET …/loans/{ref}/history)."""
    for event in events(client, fact="Defaulted"):
        path = f"/v1/schemes/{event['scheme_id']}/banks/{event['bank_id']}/loans/{event['loan_ref']}/history"
        history = client.get(path).json()
        default = next(h for h in history if h["fact"] == "Defaulted")
        if any(h["business_date"] < default["business_date"] for h in history):
            return event, history
    raise AssertionError("the demo has no defaulted loan with facts before its default")


def as_it_stood(history: list[dict], on: str) -> dict:
    """The API's rule for a business date: the loan after its latest fact dated by then."""
    return max((h for h in history if h["business_date"] <= on), key=lambda h: h["version"])


def cells(page, heading: str) -> list[str]:
    """The texts of the events table's column under this heading, row by row."""
    headings = [h.strip() for h in page.locator("#results thead th").all_inner_texts()]
    at = headings.index(heading)
    return [row.locator("td").nth(at).inner_text().strip() for row in page.locator("#results tbody tr").all()]


def figure(page, key: str, which: str = "then") -> str:
    return page.inner_text(f"tr[data-figure={key}] td.{which}").strip()


def test_the_regulator_sees_a_defaulted_loan_as_it_stood_before_and_after_its_default(console, tab):
    regulator = console.key("regulator")
    client = console.api(regulator)
    defaulted, history = a_defaulted_loan(client)
    default = next(h for h in history if h["fact"] == "Defaulted")
    before = (date.fromisoformat(default["business_date"]) - timedelta(days=1)).isoformat()
    then = as_it_stood(history, before)["figures"]
    assert then["state"] != "defaulted"

    page = tab.page
    sign_in(tab, regulator, next_path="/audit")
    look(tab, "audit-explorer", store=console.store)
    page.click("text=贷款或代偿申请的历史状态")
    look(tab, "audit-as-of-form", store=console.store)
    page.select_option("#f-scheme", defaulted["scheme_id"])
    page.select_option("#f-bank", defaulted["bank_id"])
    page.fill("#f-loan", defaulted["loan_ref"])
    page.fill("#f-as_of_date", before)
    page.click("form.audit-filters button[type=submit]")
    page.wait_for_load_state("load")
    look(tab, "audit-as-of-before-default", store=console.store)
    assert f"{defaulted['loan_ref']}" in page.inner_text("#as-of-subject")
    assert figure(page, "state") == LOAN_STATES_ZH[then["state"]] != "已违约"
    assert figure(page, "outstanding") == yuan(then["outstanding_fen"])
    assert figure(page, "principal_repaid") == yuan(then["principal_repaid_fen"])
    assert figure(page, "outstanding_at_default") == "—"
    assert figure(page, "defaulted_on") == "—"
    # today's figures beside them: the loan has defaulted since
    assert figure(page, "state", "now") == LOAN_STATES_ZH[history[-1]["figures"]["state"]]
    # its history up to then: the facts dated by then, no later one
    shown = page.locator("#as-of-history tbody tr")
    versions = [h["version"] for h in history if h["version"] <= as_it_stood(history, before)["version"]]
    assert shown.count() == len(versions)
    assert "贷款违约" not in page.inner_text("#as-of-history")

    # on the day of the default, it stands defaulted, with the outstanding principal it defaulted on
    page.fill("#f-as_of_date", default["business_date"])
    page.click("form.audit-filters button[type=submit]")
    page.wait_for_load_state("load")
    look(tab, "audit-as-of-on-default", store=console.store)
    after = as_it_stood(history, default["business_date"])["figures"]
    assert figure(page, "state") == "已违约"
    assert figure(page, "outstanding_at_default") == yuan(after["outstanding_at_default_fen"])
    assert figure(page, "defaulted_on") == default["business_date"]
    assert "贷款违约" in page.inner_text("#as-of-history")

    # at the default's log position, the same; one position before it, not yet
    page.fill("#f-as_of_date", "")
    page.fill("#f-as_of_position", str(defaulted["position"]))
    page.click("form.audit-filters button[type=submit]")
    page.wait_for_load_state("load")
    look(tab, "audit-as-of-default-position", store=console.store)
    assert figure(page, "state") == "已违约"
    page.fill("#f-as_of_position", str(defaulted["position"] - 1))
    page.click("form.audit-filters button[type=submit]")
    page.wait_for_load_state("load")
    look(tab, "audit-as-of-position", store=console.store)
    assert figure(page, "state") != "已违约"


def test_a_claim_as_it_stood_before_its_approval(console, tab):
    regulator = console.key("regulator")
    client = console.api(regulator)
    approved = events(client, fact="Approved")[0]
    claim = approved["claim_id"]
    history = client.get(f"/v1/schemes/{approved['scheme_id']}/claims/{claim}/history").json()
    approval = next(h for h in history if h["fact"] == "Approved")
    before = (date.fromisoformat(approval["business_date"]) - timedelta(days=1)).isoformat()
    page = tab.page
    sign_in(tab, regulator, next_path="/audit/as-of")
    page.goto(
        "/audit/as-of?" + urlencode({"scheme": approved["scheme_id"], "claim": claim, "as_of_date": before})
    )
    look(tab, "audit-as-of-claim", store=console.store)
    then = as_it_stood(history, before)["figures"]
    assert figure(page, "claimed") == yuan(then["claimed_fen"])
    assert figure(page, "approved") == "—" and then["approved_fen"] is None
    assert figure(page, "approved", "now") == yuan(history[-1]["figures"]["approved_fen"])
    assert figure(page, "status") != "已批准"


def test_the_explorer_filters_as_the_api_does_and_is_used_with_the_keyboard(console, tab):
    regulator = console.key("regulator")
    client = console.api(regulator)
    loan = events(client, fact="Defaulted")[0]["loan_ref"]
    expected = events(client, loan_ref=loan)
    assert 1 < len(expected) <= 50

    page = tab.page
    sign_in(tab, regulator, next_path="/audit")
    tab_through(tab, "#f-loan")
    page.keyboard.type(loan)
    page.keyboard.press("Enter")  # submits the form; htmx swaps the results and the address
    page.wait_for_url(lambda url: f"loan={loan}" in url)
    page.wait_for_function(
        "n => document.querySelectorAll('#results tbody tr').length === n", arg=len(expected)
    )
    look(tab, "audit-explorer-one-loan", store=console.store)
    rows = page.locator("#results tbody tr")
    assert rows.count() == len(expected)
    assert [int(p) for p in cells(page, "日志序号")] == [e["position"] for e in expected]
    assert set(cells(page, "贷款")) == {loan}
    # each amount as the API gives it, with thousands separators
    first = expected[0]
    for amount in first["amounts"]:
        if amount["party_id"] is None:
            assert f"{Decimal(amount['amount']):,.2f}" in rows.nth(0).inner_text()

    # the same page as a plain GET (no script), and its download: every matching event
    page.goto(f"/audit?loan={loan}")
    look(tab, "audit-explorer-plain-get", store=console.store)
    assert page.locator("#results tbody tr").count() == len(expected)
    with page.expect_download() as downloaded:
        page.click("#results .downloads a:text('CSV')")
    text = Path(downloaded.value.path()).read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][0] == "日志序号" and [int(r[0]) for r in table[1:]] == [e["position"] for e in expected]

    # dates and a fact type: the rows the API gives, a page at a time
    query = {"fact": "Repaid", "from_date": "2019-06-01", "to_date": "2019-09-30"}
    repaid = events(client, **query)
    page.goto("/audit?" + urlencode(query | {"limit": 50}))
    look(tab, "audit-explorer-repayments", store=console.store)
    assert len(cells(page, "日志序号")) == min(50, len(repaid)) > 0
    assert [int(p) for p in cells(page, "日志序号")] == [e["position"] for e in repaid[:50]]
    assert all("2019-06-01" <= d <= "2019-09-30" for d in cells(page, "业务日期"))
    assert set(cells(page, "事项")) == {"还款"}
    if len(repaid) > 50:
        page.click("a[rel=next]")
        page.wait_for_load_state("load")
        look(tab, "audit-explorer-next-page", store=console.store)
        assert [int(p) for p in cells(page, "日志序号")] == [e["position"] for e in repaid[50:100]]

    # a malformed filter is refused beside its field, in Chinese, nothing else shown
    page.goto("/audit?from_position=0")
    look(tab, "audit-explorer-refused-filter", store=console.store)
    assert page.locator("#f-from_position[aria-invalid=true]").count() == 1
    assert page.locator("#results table").count() == 0  # nothing is shown as if it matched


def test_a_reversal_is_shown_with_the_fact_it_reverses_linked_both_ways(console, tab):
    from ledger.uscc import make_uscc

    bank = console.api(console.key("bank", party="qihe-bank"))
    reference = f"AUD-{uuid.uuid4().hex[:8].upper()}"
    scheme = console.scheme
    loans = f"/v1/schemes/{scheme}/banks/qihe-bank/loans"
    enrolled = bank.post(
        loans,
        json={
            "loan_ref": reference,
            "borrower_name": "审计测试科技有限公司 (fictional)",
            "borrower_uscc": make_uscc(f"91410600MA{uuid.uuid4().int % 10**7:07d}"),
            "product": "tech_loan",
            "principal": "100000.00",
            "rate_bp": 450,
            "term_months": 12,
            "enrolled_on": "2020-06-01",
        },
    )
    assert enrolled.status_code == 201, enrolled.text
    loan = f"{loans}/{reference}"
    assert bank.post(
        f"{loan}/disbursement", json={"amount": "100000.00", "disbursed_on": "2020-06-02"}
    ).is_success
    repaid = bank.post(
        f"{loan}/repayments", json={"principal": "5000.00", "interest": "123.45", "repaid_on": "2020-07-02"}
    ).json()
    reversal = bank.post(
        f"/v1/schemes/{scheme}/reversals",
        json={"fact_id": repaid["fact_id"], "reason": "录入重复 (keyed twice)", "reversed_on": "2020-07-03"},
    ).json()
    assert reversal["fact_id"] == repaid["fact_id"]
    # the receipts give the last position each write took; the events give each fact's own
    regulator = console.api(console.key("regulator"))
    recorded = {
        e["fact"]: e["position"]
        for e in events(
            regulator, loan_ref=reference, bank_id="qihe-bank", after_position=reversal["position"]
        )
    }
    first, second = recorded["Repaid"], recorded["RepaymentReversed"]

    page = tab.page
    sign_in(tab, console.key("regulator"), next_path="/audit")
    page.goto(
        "/audit?"
        + urlencode({"scheme": scheme, "bank": "qihe-bank", "loan": reference, "to_position": second})
    )
    look(tab, "audit-explorer-reversal", store=console.store)
    fact = page.locator(f"#p-{first}")
    undo = page.locator(f"#p-{second}")
    assert "5,000.00" in fact.inner_text() and "123.45" in fact.inner_text()
    assert "已冲正" in fact.inner_text()
    assert f"#p-{second}" in fact.locator("td.correction a").get_attribute("href")
    assert f"#p-{first}" in undo.locator("td.correction a").get_attribute("href")
    assert "录入重复 (keyed twice)" in undo.inner_text()
    undo.locator("td.correction a").click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"#p-{first}")
    assert page.locator(f"#p-{first}").count() == page.locator(f"#p-{second}").count() == 1
    look(tab, "audit-explorer-reversal-pair", store=console.store)

    # the loan as it stood right after the repayment, then right after its reversal
    page.locator(f"#p-{first} td a", has_text=reference).click()
    page.wait_for_load_state("load")
    look(tab, "audit-as-of-after-repayment", store=console.store)
    assert figure(page, "principal_repaid") == "5,000.00"
    assert figure(page, "outstanding") == "95,000.00"
    page.goto(
        "/audit/as-of?"
        + urlencode({"scheme": scheme, "bank": "qihe-bank", "loan": reference, "as_of_position": second})
    )
    look(tab, "audit-as-of-after-reversal", store=console.store)
    assert figure(page, "principal_repaid") == "0.00"
    assert figure(page, "outstanding") == "100,000.00"


def test_the_regulator_downloads_an_export_and_proofs_that_verify_on_their_own(console, tab, tmp_path):
    regulator = console.key("regulator")
    client = console.api(regulator)
    key = httpx.get(f"{console.url}/v1/audit/public-key").json()["public_key"]  # needs no key
    page = tab.page
    sign_in(tab, regulator, next_path="/audit/heads")
    look(tab, "audit-heads", store=console.store)
    assert "校验通过" in page.inner_text("#main")
    assert page.inner_text("#public-key-hex").strip() == key

    with page.expect_download() as downloaded:
        page.click("form[action='/audit/heads/export'] button")
    export = tmp_path / downloaded.value.suggested_filename
    downloaded.value.save_as(export)
    checked = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "verify_export.py"), str(export), "--public-key", key],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    lines = export.read_text(encoding="utf-8").splitlines()
    head = json.loads(lines[-1])
    assert checked.stdout.startswith(f"verified {len(lines) - 1} events (the whole log)")
    assert head["size"] == len(lines) - 1

    # an inclusion proof of the first default, against the head the export was sealed with
    defaulted = events(client, fact="Defaulted")[0]
    page.goto("/audit/heads")  # the export's head is now listed
    look(tab, "audit-heads-after-export", store=console.store)
    tab_through(tab, "#f-position")
    page.keyboard.type(str(defaulted["position"]))
    page.select_option("#f-tree_size", str(head["size"]))
    with page.expect_download() as downloaded:
        page.click("form[action='/audit/heads/inclusion'] button")
    proof = json.loads(Path(downloaded.value.path()).read_text(encoding="utf-8"))
    signed = proof["tree_head"]
    assert (signed["size"], signed["root"], signed["public_key"]) == (head["size"], head["root"], key)
    assert head_signed(signed)
    assert proof["position"] == defaulted["position"] == proof["event"]["position"]
    assert proof["leaf_hash"] == defaulted["leaf_hash"]
    line = next(json.loads(x) for x in lines[:-1] if json.loads(x)["position"] == defaulted["position"])
    assert line["leaf_hash"] == proof["leaf_hash"] and line["leaf_index"] == proof["leaf_index"]
    assert verify_inclusion(
        proof["leaf_index"],
        proof["tree_size"],
        bytes.fromhex(proof["leaf_hash"]),
        [bytes.fromhex(p) for p in proof["path"]],
        bytes.fromhex(signed["root"]),
    )

    # a consistency proof from the first signed head to the export's
    heads = client.get("/v1/audit/tree-heads", params={"limit": 500}).json()
    earliest = heads[0]
    page.select_option("#f-from_size", str(earliest["size"]))
    page.select_option("#f-to_size", str(head["size"]))
    with page.expect_download() as downloaded:
        page.click("form[action='/audit/heads/consistency'] button")
    grew = json.loads(Path(downloaded.value.path()).read_text(encoding="utf-8"))
    assert grew["from_tree_head"]["root"] == earliest["root"] and grew["to_tree_head"]["root"] == head["root"]
    assert verify_consistency(
        earliest["size"],
        head["size"],
        bytes.fromhex(earliest["root"]),
        bytes.fromhex(head["root"]),
        [bytes.fromhex(p) for p in grew["proof"]],
    )

    # a position beyond the tree is refused beside the form, in Chinese
    page.goto("/audit/heads/inclusion?" + urlencode({"position": 10**9, "tree_size": head["size"]}))
    look(tab, "audit-heads-refused-proof", store=console.store)
    assert "该日志序号不在所选树根的树中" in page.inner_text("form[action='/audit/heads/inclusion']")


def test_a_bank_is_refused_the_audit_pages_in_chinese(console, tab):
    page = tab.page
    sign_in(tab, console.key("bank", party="chaoge-bank"))
    for path in ("/audit", "/audit/as-of", "/audit/heads", "/audit/heads/export"):
        answer = page.goto(path)
        look(tab, "audit-refused-bank" + path.replace("/", "-"), store=console.store)
        assert answer.status == 403, path
        assert "您的角色无权执行此操作" in page.inner_text("main"), path


def test_a_fund_manager_reads_the_audit_pages_but_is_refused_the_export(console, tab):
    page = tab.page
    sign_in(tab, console.key("fund_manager", principal="fm-li"), next_path="/audit/heads")
    look(tab, "audit-heads-fund-manager", store=console.store)
    assert page.locator("form[action='/audit/heads/export']").count() == 0
    # every signed head downloads, newest first, as the API lists them
    heads = console.api(console.key("fund_manager", principal="fm-li")).get(
        "/v1/audit/tree-heads", params={"limit": 500}
    )
    with page.expect_download() as downloaded:
        page.click("#heads .downloads a:text('CSV')")
    table = list(csv.reader(io.StringIO(Path(downloaded.value.path()).read_text(encoding="utf-8-sig"))))
    listed = [(int(r[0]), int(r[1]), r[3]) for r in table[1:]]
    signed = {(h["sequence"], h["size"], h["root"]) for h in heads.json()}
    assert signed and signed <= set(listed)  # (a head sealed meanwhile is listed too)
    assert [row[0] for row in listed] == sorted((row[0] for row in listed), reverse=True)
    answer = page.goto("/audit/heads/export")
    look(tab, "audit-refused-fund-manager-export", store=console.store)
    assert answer.status == 403 and "您的角色无权执行此操作" in page.inner_text("main")
