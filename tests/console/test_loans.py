"""A bank's work in the console: its loans (searched by reference, borrower name and USCC), one
loan with its timeline and claims, uploading a monthly tape (each refused row shown with its reason
in Chinese, nothing enrolled), filing a claim; and what another bank's key cannot reach.

Expected figures come from the API's JSON or from the rows the test writes, never from the page."""

from __future__ import annotations

import csv
import io
import random
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from ledger.uscc import ALPHABET, make_uscc
from tests.console.conftest import look, sign_in, tab_through

TAPE_HEADER = (
    "loan_ref,borrower_name,borrower_uscc,product,tags,principal,rate_bp,term_months,enrolled_on,cover,"
    "cover_party_id"
)


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def fresh_uscc(rng: random.Random) -> str:
    return make_uscc("91410600" + "".join(rng.choice(ALPHABET) for _ in range(9)))


def failing_check(uscc: str) -> str:
    """The same code with another check character: it fails GB 32100-2015's check."""
    return uscc[:17] + next(c for c in ALPHABET if c != uscc[17])


def tape(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    out.write(TAPE_HEADER + "\r\n")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def yuan(amount: str) -> str:
    return f"{Decimal(amount):,.2f}"


def loan_refs_on_page(page) -> list[str]:
    return [text.strip() for text in page.locator("#loans-table tbody tr td:first-child a").all_inner_texts()]


def choose_file(page, name: str, content: bytes) -> None:
    page.set_input_files("#f-file", files=[{"name": name, "mimeType": "text/csv", "buffer": content}])


def test_a_bank_uploads_a_tape_with_a_bad_row_corrects_it_and_files_a_claim_in_chinese(console, tab):
    page = tab.page
    scheme = console.scheme
    token = console.key("bank", party="taihang-bank")
    bank = console.api(token)
    rng = random.Random()
    run = uuid.uuid4().hex[:8].upper()
    refs = [f"TT{run}-1", f"TT{run}-2", f"TT{run}-3"]
    codes = [fresh_uscc(rng) for _ in refs]
    enrolled_on = (today() - timedelta(days=300)).isoformat()
    principals = ["100000.00", "120000.50", "80000.00"]
    names = ["鹤壁测试星河电子科技有限公司", "鹤壁测试远景新材料有限公司", "鹤壁测试博睿软件有限公司"]

    def rows(second_uscc: str) -> list[list[str]]:
        found = []
        for ref, name, code, principal in zip(
            refs, names, [codes[0], second_uscc, codes[2]], principals, strict=True
        ):
            found.append(
                [ref, name, code, "tech_loan", "", principal, "450", "12", enrolled_on, "direct", ""]
            )
        return found

    sign_in(tab, token, next_path=f"/schemes/{scheme}/tapes")
    assert page.inner_text("h1") == "上传贷款报送表"
    look(tab, "tapes", store=console.store)

    # the template is the header row of ledger/tape.py's layout, nothing else
    with page.expect_download() as got:
        page.click("a[href$='/tapes/template.csv']")
    template = Path(got.value.path()).read_bytes().decode("utf-8-sig")
    assert template.splitlines() == [TAPE_HEADER]

    # a tape whose second loan (line 3) has a USCC that fails its check character
    tab_through(tab, "#f-file")  # the file input is reached with the keyboard; the file is chosen
    choose_file(page, "taihang-2026-11.csv", tape(rows(failing_check(codes[1]))))
    tab_through(tab, "#tape-form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    refused = page.locator("#refused-rows tbody tr")
    assert refused.count() == 1
    cells = refused.first.locator("td").all_inner_texts()
    assert cells[0].strip() == "3"
    assert cells[1].strip() == refs[1]
    assert "统一社会信用代码" in cells[2] and "borrower_uscc" in cells[2]
    assert cells[3].strip() == "invalid_uscc"
    assert "统一社会信用代码校验未通过" in cells[4] and failing_check(codes[1]) in cells[4]
    assert "所有贷款均未登记" in page.inner_text("main")
    assert "taihang-2026-11.csv" in page.inner_text("#tape-form")  # what was sent, named
    look(tab, "tapes-refused", store=console.store)
    # nothing was enrolled: not even the good rows
    for ref in refs:
        answer = bank.get(f"/v1/schemes/{scheme}/banks/taihang-bank/loans/{ref}")
        assert answer.status_code == 404 and answer.json()["code"] == "unknown_loan", ref

    # the refused rows download as the page showed them
    with page.expect_download() as got:
        page.click("form.loan-downloads button[value=csv]")
    report = list(csv.reader(io.StringIO(Path(got.value.path()).read_bytes().decode("utf-8-sig"))))
    assert report[0] == ["行号", "文件中的贷款编号", "列", "错误代码", "原因"]
    assert report[1][:2] == ["3", refs[1]] and report[1][3] == "invalid_uscc"

    # the corrected tape: every loan enrolled, the counts shown
    choose_file(page, "taihang-2026-11-fixed.csv", tape(rows(codes[1])))
    tab_through(tab, "#tape-form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    flash = page.inner_text("p.flash.ok")
    total = sum(Decimal(p) for p in principals)
    assert "共 3 笔贷款" in flash and f"本金合计 {yuan(str(total))} 元" in flash, flash
    look(tab, "tapes-enrolled", store=console.store)
    for ref, principal in zip(refs, principals, strict=True):
        loan = bank.get(f"/v1/schemes/{scheme}/banks/taihang-bank/loans/{ref}").json()
        assert (loan["principal"], loan["state"]) == (principal, "enrolled")

    # the first two loans are disbursed and default (through the API, as the bank's own system would)
    disbursed_on = (today() - timedelta(days=299)).isoformat()
    defaulted_on = (today() - timedelta(days=10)).isoformat()
    for ref, principal in zip(refs[:2], principals, strict=False):
        path = f"/v1/schemes/{scheme}/banks/taihang-bank/loans/{ref}"
        answer = bank.post(f"{path}/disbursement", json={"amount": principal, "disbursed_on": disbursed_on})
        assert answer.status_code == 201, answer.text
        answer = bank.post(f"{path}/default", json={"overdue_days": 95, "defaulted_on": defaulted_on})
        assert answer.status_code == 201, answer.text
    ref = refs[0]
    path = f"/v1/schemes/{scheme}/banks/taihang-bank/loans/{ref}"
    outstanding = bank.get(path).json()["outstanding_at_default"]
    assert outstanding == principals[0]

    page.goto(f"/schemes/{scheme}/loans/taihang-bank/{ref}")
    assert page.inner_text("h1") == f"贷款 {ref}"
    assert "已违约" in page.inner_text(".cards")
    assert yuan(outstanding) in page.inner_text("#h-file + p")
    look(tab, "loan-defaulted", store=console.store)

    # a claim above the outstanding at default: refused beside the amount, in Chinese, value kept
    too_much = str(Decimal(outstanding) + Decimal("0.01"))
    tab_through(tab, "#f-claimed")
    page.keyboard.type(too_much)
    tab_through(tab, "#claim-form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#e-claimed").count() == 1
    assert "申请金额超过违约时的未偿本金" in page.inner_text("#e-claimed")
    assert page.input_value("#f-claimed") == too_much
    assert page.get_attribute("#f-claimed", "aria-invalid") == "true"
    assert page.input_value("#f-filed_on") == today().isoformat()
    look(tab, "loan-claim-refused", store=console.store)
    assert bank.get(path).json()["current_claim_id"] is None  # nothing filed

    # the claim for a little less, with thousands separators as a clerk writes it
    claimed = str(Decimal(outstanding) - Decimal("5000.00"))
    tab_through(tab, "#f-claimed")
    page.keyboard.press("Control+A")
    page.keyboard.type(yuan(claimed))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "已提交" in page.inner_text("p.flash.ok")
    claim_id = bank.get(path).json()["current_claim_id"]
    assert claim_id is not None
    claim = bank.get(f"/v1/schemes/{scheme}/claims/{claim_id}").json()
    assert (claim["status"], claim["claimed"], claim["filed_on"]) == ("filed", claimed, today().isoformat())
    row = page.locator("#claims-table tbody tr", has_text=claim_id)
    assert row.count() == 1
    assert "已提交" in row.inner_text() and yuan(claimed) in row.inner_text()
    assert row.locator("a").get_attribute("href") == f"/schemes/{scheme}/claims/{claim_id}"
    # while it is open, no second claim is offered: the page says why
    assert page.locator("#claim-form").count() == 0
    assert claim_id in page.inner_text(".loan-claim-note")
    look(tab, "loan-claim-filed", store=console.store)
    # the bank finds its claim in the claims list of the API, filed
    filed = {"status": "filed", "limit": 500}
    listed = bank.get(f"/v1/schemes/{scheme}/claims", params=filed).json()["items"]
    assert [c["claimed"] for c in listed if c["claim_id"] == claim_id] == [claimed]

    # two clerks, one loan: the second's claim is the API's to refuse, shown on the form, values kept
    second = f"/v1/schemes/{scheme}/banks/taihang-bank/loans/{refs[1]}"
    page.goto(f"/schemes/{scheme}/loans/taihang-bank/{refs[1]}")
    tab_through(tab, "#f-claimed")
    page.keyboard.type("1000.00")
    answer = bank.post(f"{second}/claims", json={"claimed": "2000.00", "filed_on": today().isoformat()})
    assert answer.status_code == 201, answer.text
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "该贷款已有未结或已批准的代偿申请" in page.inner_text("#claim-form .form-error")
    assert page.input_value("#f-claimed") == "1000.00"
    claims = [
        c
        for c in bank.get(f"/v1/schemes/{scheme}/claims", params=filed).json()["items"]
        if c["loan_ref"] == refs[1]
    ]
    assert [c["claimed"] for c in claims] == ["2000.00"]  # only the other clerk's
    look(tab, "loan-claim-already-open", store=console.store)


def test_another_bank_s_loan_is_not_reachable_by_url(console, tab):
    page = tab.page
    scheme = console.scheme
    qihe = console.api(console.key("bank", party="qihe-bank"))
    loan = qihe.get(f"/v1/schemes/{scheme}/loans", params={"limit": 1}).json()["items"][0]
    assert loan["bank_id"] == "qihe-bank"
    sign_in(tab, console.key("bank", party="chaoge-bank"))

    answer = page.goto(f"/schemes/{scheme}/loans/qihe-bank/{loan['loan_ref']}")
    assert answer.status == 404
    main = page.inner_text("main")
    assert "没有您可查看的此编号贷款" in main
    for figure in (loan["borrower_name"], loan["borrower_uscc"], yuan(loan["principal"]), loan["principal"]):
        assert figure not in main
    look(tab, "loan-of-another-bank", store=console.store)

    # nor as it stood on an earlier date
    answer = page.goto(
        f"/schemes/{scheme}/loans/qihe-bank/{loan['loan_ref']}?as_of_date={loan['enrolled_on']}"
    )
    assert answer.status == 404 and loan["borrower_name"] not in page.inner_text("main")

    # nor by searching for it in its own list
    page.goto(f"/schemes/{scheme}/loans?loan_ref={loan['loan_ref']}")
    assert loan_refs_on_page(page) == []
    assert "没有符合查询条件的贷款" in page.inner_text("#loans-table")
    look(tab, "loans-search-other-bank", store=console.store)


def test_searching_by_borrower_name_uscc_and_reference_narrows_the_list_as_the_api_does(console, tab):
    page = tab.page
    scheme = console.scheme
    token = console.key("bank", party="yunmeng-bank")
    bank = console.api(token)

    def api_refs(**params) -> list[str]:
        answer = bank.get(f"/v1/schemes/{scheme}/loans", params={"limit": 500, **params})
        assert answer.status_code == 200, answer.text
        return [item["loan_ref"] for item in answer.json()["items"]]

    everything = bank.get(f"/v1/schemes/{scheme}/loans", params={"limit": 500}).json()["items"]
    sample = everything[len(everything) // 2]
    fragment = sample["borrower_name"][2:6]  # the place and a word of a fictional firm's name
    by_name = api_refs(borrower_name=fragment)
    assert sample["loan_ref"] in by_name and len(by_name) < len(everything)

    sign_in(tab, token, next_path=f"/schemes/{scheme}/loans")
    assert page.inner_text("h1") == "贷款"
    assert loan_refs_on_page(page) == [item["loan_ref"] for item in everything][:50]
    look(tab, "loans", store=console.store)

    # with the keyboard: the name, then Enter (htmx swaps the results and the address follows)
    tab_through(tab, "#f-borrower_name")
    page.keyboard.type(fragment)
    with page.expect_response(lambda r: "borrower_name=" in r.url):
        page.keyboard.press("Enter")
    page.wait_for_function(
        "document.querySelector('#f-borrower_name') && location.search.includes('borrower_name')"
    )
    assert loan_refs_on_page(page) == by_name[:50]
    assert page.input_value("#f-borrower_name") == fragment
    look(tab, "loans-by-name", store=console.store)

    # the same search as a plain GET (no script needed), and its download
    page.goto(f"/schemes/{scheme}/loans?borrower_name={fragment}")
    assert loan_refs_on_page(page) == by_name[:50]
    with page.expect_download() as got:
        page.click("#loans-table .downloads a[href*='format=csv']")
    downloaded = list(csv.reader(io.StringIO(Path(got.value.path()).read_bytes().decode("utf-8-sig"))))
    assert downloaded[0][0] == "贷款编号"
    assert [r[0] for r in downloaded[1:]] == by_name

    # a USCC finds its one loan
    page.goto(f"/schemes/{scheme}/loans?borrower_uscc={sample['borrower_uscc']}")
    assert loan_refs_on_page(page) == api_refs(borrower_uscc=sample["borrower_uscc"]) == [sample["loan_ref"]]
    row = page.locator("#loans-table tbody tr").first.inner_text()
    assert sample["borrower_name"] in row and yuan(sample["principal"]) in row

    # a reference's start, with a state
    prefix = sample["loan_ref"][:7]
    page.goto(f"/schemes/{scheme}/loans?loan_ref={prefix}&state={sample['state']}")
    assert loan_refs_on_page(page) == api_refs(loan_ref=prefix, state=sample["state"])[:50]
    assert sample["loan_ref"] in loan_refs_on_page(page)
    look(tab, "loans-by-reference", store=console.store)

    # a malformed reference: the API's refusal beside the field, in Chinese, the value kept
    answer = page.goto(f"/schemes/{scheme}/loans?loan_ref=HB+2019")
    assert answer.status == 422
    assert "贷款编号只能包含字母" in page.inner_text("#e-loan_ref")
    assert page.input_value("#f-loan_ref") == "HB 2019"
    look(tab, "loans-search-refused", store=console.store)

    # following a loan from the list
    page.goto(f"/schemes/{scheme}/loans?borrower_uscc={sample['borrower_uscc']}")
    tab_through(tab, f"#loans-table a[href$='/{sample['loan_ref']}']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.inner_text("h1") == f"贷款 {sample['loan_ref']}"
    history = bank.get(f"/v1/schemes/{scheme}/banks/yunmeng-bank/loans/{sample['loan_ref']}/history").json()
    assert page.locator("#timeline-table tbody tr").count() == len(history)
    look(tab, "loan", store=console.store)


def test_a_government_party_sees_loans_without_their_borrowers(console, tab):
    page = tab.page
    scheme = console.scheme
    token = console.key("government", party="hebi-finance")
    first = console.api(token).get(f"/v1/schemes/{scheme}/loans", params={"limit": 1}).json()["items"][0]
    assert first["borrower_name"] is None and first["borrower_uscc"] is None
    sign_in(tab, token, next_path=f"/schemes/{scheme}/loans")
    row = page.locator("#loans-table tbody tr").first.locator("td").all_inner_texts()
    assert row[0] == first["loan_ref"] and row[1] == first["bank_id"]
    assert row[2] == "—" and row[3] == "—"
    assert page.locator("#f-borrower_name").count() == 0  # no search it may not make
    look(tab, "loans-government", store=console.store)

    page.goto(f"/schemes/{scheme}/loans/{first['bank_id']}/{first['loan_ref']}")
    facts = page.inner_text("dl.facts")
    assert "借款企业\n—" in facts or "借款企业\t—" in facts
    look(tab, "loan-government", store=console.store)

    # a borrower search made by hand in the address: the API's refusal, shown
    answer = page.goto(f"/schemes/{scheme}/loans?borrower_name=%E9%B9%A4%E5%A3%81")
    assert answer.status == 403
    assert "您的角色无权执行此操作" in page.inner_text("main")
    assert loan_refs_on_page(page) == []


def test_the_regulator_sees_a_loan_as_it_stood_before_its_default(console, tab):
    page = tab.page
    scheme = console.scheme
    token = console.key("regulator")
    regulator = console.api(token)
    defaulted = regulator.get(
        f"/v1/schemes/{scheme}/loans", params={"state": "written_off", "limit": 1}
    ).json()
    loan = defaulted["items"][0]
    base = f"/v1/schemes/{scheme}/banks/{loan['bank_id']}/loans/{loan['loan_ref']}"
    history = regulator.get(f"{base}/history").json()
    default_on = date.fromisoformat(next(e["business_date"] for e in history if e["fact"] == "Defaulted"))
    before = (default_on - timedelta(days=1)).isoformat()
    then = [e for e in history if e["business_date"] <= before]
    expected_outstanding = Decimal(then[-1]["figures"]["outstanding_fen"]) / 100

    sign_in(tab, token, next_path=f"/schemes/{scheme}/loans/{loan['bank_id']}/{loan['loan_ref']}")
    assert "已核销" in page.inner_text(".cards")
    tab_through(tab, "#f-as_of_date")
    page.keyboard.type(before)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"as_of_date={before}" in page.url
    assert f"按 {before} 日终的状态显示" in page.inner_text(".loan-as-of-banner")
    cards = page.inner_text(".cards")
    assert "已核销" not in cards and "已违约" not in cards
    assert yuan(str(expected_outstanding)) in cards
    assert page.locator("#timeline-table tbody tr").count() == len(then)
    assert "违约认定" not in page.inner_text("#timeline-table")
    assert page.locator("#claims-table tbody tr td").first.inner_text() == "本笔贷款尚无代偿申请。"
    look(tab, "loan-as-of", store=console.store)

    # and on a date before it was enrolled: said plainly, no figure
    enrolled = date.fromisoformat(loan["enrolled_on"]) - timedelta(days=1)
    page.goto(f"/schemes/{scheme}/loans/{loan['bank_id']}/{loan['loan_ref']}?as_of_date={enrolled}")
    assert "这笔贷款当时尚未登记" in page.inner_text("main")
    assert page.locator(".cards").count() == 0
    look(tab, "loan-as-of-before-enrolment", store=console.store)

    # a regulator never uploads a tape: the layout and the template, no upload form
    page.goto(f"/schemes/{scheme}/tapes")
    assert page.locator("#tape-form").count() == 0
    assert page.locator("#layout-table tbody tr").count() == 11
    look(tab, "tapes-regulator", store=console.store)
