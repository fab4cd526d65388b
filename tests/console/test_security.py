"""The console against the attacks its threat model names (console/session.py, README "The console"):
a page of another site posting a form (CSRF), a stolen or expired session, a revoked key, an open
redirect, a cookie presented to the API, and a spreadsheet formula in a downloaded table. In-process
(TestClient) on each store; the browser-level versions are in test_entry.py and the area tests."""

from __future__ import annotations

import csv
import io
import re
import time

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Route

from api.app import create_app
from console.pages import routers
from console.session import SESSION_COOKIE, SIGN_IN_COOKIE, Sessions
from console.web import Column, download, local_path
from ledger.actors import Actor, Role
from riskpool.settings import Settings
from tests.api.conftest import SCHEME, Api

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def sign_in(client: TestClient, token: str) -> str:
    """Signs in as a browser would (the form's double-submit token); returns the session's CSRF token."""
    form = client.get("/sign-in")
    assert form.status_code == 200
    sent = CSRF_FIELD.search(form.text).group(1)
    answer = client.post("/sign-in", data={"key": token, "csrf": sent, "next": "/"}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    home = client.get("/")
    assert home.status_code == 200
    return CSRF_FIELD.search(home.text).group(1)


def console_posts(client: TestClient) -> list[str]:
    """Every POST path of the console, with sample values for its parameters."""
    paths = []
    for route in (r for router in routers() for r in router.routes):
        if isinstance(route, Route) and "POST" in (route.methods or ()):
            paths.append(
                re.sub(r"\{[^}]+\}", lambda m: {"{scheme_id}": SCHEME}.get(m.group(0), "x"), route.path)
            )
    return paths


def test_every_console_form_refuses_a_forged_or_missing_csrf_token_and_records_nothing(api: Api):
    client = api.client
    sign_in(client, api.tokens["fm"])
    posts = console_posts(client)
    assert "/sign-out" in posts and len(posts) >= 2, posts
    before = api.written()
    for path in posts:
        if path in ("/sign-in",):
            continue
        for data in ({}, {"csrf": "forged-token"}):
            answer = client.post(path, data=data, follow_redirects=False)
            assert answer.status_code == 403, (path, data, answer.status_code, answer.text[:300])
            assert "安全令牌" in answer.text  # said in Chinese, the default
    assert api.written() == before
    assert client.get("/", follow_redirects=False).status_code == 200  # the forged sign-outs ended nothing


def test_the_sign_in_form_needs_its_own_double_submit_token(api: Api):
    client = api.client
    answer = client.post(
        "/sign-in", data={"key": api.tokens["fm"], "csrf": "guessed"}, follow_redirects=False
    )
    assert answer.status_code == 403
    assert SESSION_COOKIE not in answer.cookies
    assert client.get("/", follow_redirects=False).status_code == 303


def test_the_session_cookie_is_http_only_strict_and_secure_behind_tls(api: Api):
    secure = TestClient(api.client.app, base_url="https://ledger.example")
    form = secure.get("/sign-in")
    sent = CSRF_FIELD.search(form.text).group(1)
    answer = secure.post(
        "/sign-in", data={"key": api.tokens["fm"], "csrf": sent, "next": "/"}, follow_redirects=False
    )
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie
    assert len(cookie.split(";")[0].split("=", 1)[1]) >= 43  # 256 random bits
    plain = api.client.get("/sign-in")
    assert "Secure" not in next(
        h for h in plain.headers.get_list("set-cookie") if h.startswith(SIGN_IN_COOKIE)
    )


def test_a_new_session_at_each_sign_in_and_the_old_one_ends(api: Api):
    client = api.client
    sign_in(client, api.tokens["fm"])
    first = client.cookies.get(SESSION_COOKIE)
    sign_in(client, api.tokens["fm2"])
    second = client.cookies.get(SESSION_COOKIE)
    assert first != second
    other = TestClient(client.app)
    other.cookies.set(SESSION_COOKIE, first)
    assert other.get("/", follow_redirects=False).status_code == 303


def test_a_session_cookie_is_no_key_to_the_api(api: Api):
    client = api.client
    sign_in(client, api.tokens["fm"])
    answer = client.get("/v1/schemes")
    assert answer.status_code == 401  # the API takes a bearer key only: no cross-site request rides a cookie


def test_a_revoked_key_ends_its_console_session_at_the_next_request(api: Api):
    client = api.client
    sign_in(client, api.tokens["bank-a"])
    key_id = api.tokens["bank-a"].split("_")[1]
    api.system.ledger.revoke_key(Actor("operator:test", Role.FUND_MANAGER), key_id, "lost laptop")
    answer = client.get("/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")
    assert client.get("/", follow_redirects=False).status_code == 303  # and stays ended


def test_an_idle_session_expires(database_url: str, api: Api):
    system = api.system
    app = create_app(system, follow=False)
    app.state.console_sessions = Sessions(idle_seconds=1)
    with TestClient(app) as client:
        sign_in(client, api.tokens["fm"])
        assert client.get("/", follow_redirects=False).status_code == 200
        time.sleep(1.2)
        answer = client.get("/", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/sign-in?next=/"


def test_the_idle_limit_comes_from_the_settings(monkeypatch):
    monkeypatch.setenv("RISKPOOL_CONSOLE_IDLE_SECONDS", "90")
    assert Settings().console_idle_seconds == 90


def test_a_session_ends_after_its_lifetime_however_busy(monkeypatch):
    from console import session as sessions_module
    from ledger.service.keys import Presented

    now = [0.0]
    sessions = Sessions(idle_seconds=60, clock=lambda: now[0])
    session = sessions.open(Presented(Actor("fm", Role.FUND_MANAGER), None))
    while now[0] + 50 <= sessions_module.SESSION_LIFETIME_SECONDS:
        now[0] += 50
        assert sessions.find(session.id) is session
    now[0] += 50
    assert sessions.find(session.id) is None


def test_signing_in_again_and_again_ends_only_one_s_own_oldest_sessions():
    from console.session import SESSIONS_PER_PRINCIPAL_MAX
    from ledger.service.keys import Presented

    sessions = Sessions()
    other = sessions.open(Presented(Actor("fm-li", Role.FUND_MANAGER), None))
    bank = Presented(Actor("clerk", Role.BANK, "bank-a"), None)
    opened = [sessions.open(bank) for _ in range(SESSIONS_PER_PRINCIPAL_MAX + 5)]
    assert sessions.find(other.id) is other
    assert [sessions.find(s.id) is not None for s in opened] == [False] * 5 + [
        True
    ] * SESSIONS_PER_PRINCIPAL_MAX


def test_sessions_forget_idle_ones_by_their_clock():
    now = [1000.0]
    sessions = Sessions(idle_seconds=60, clock=lambda: now[0])
    from ledger.service.keys import Presented

    session = sessions.open(Presented(Actor("fm", Role.FUND_MANAGER), None))
    now[0] += 59
    assert sessions.find(session.id) is session  # and its idle clock restarts
    now[0] += 59
    assert sessions.find(session.id) is session
    now[0] += 61
    assert sessions.find(session.id) is None
    assert sessions.find(session.id) is None


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)", "", "/%0d"],
)
def test_next_is_never_an_open_redirect(target):
    assert local_path(target) in ("/", target)
    assert not local_path(target).startswith("//") and "://" not in local_path(target)


def test_sign_in_goes_back_only_to_a_path_of_this_site(api: Api):
    client = api.client
    form = client.get("/sign-in")
    sent = CSRF_FIELD.search(form.text).group(1)
    answer = client.post(
        "/sign-in",
        data={"key": api.tokens["fm"], "csrf": sent, "next": "//evil.example/phish"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/"


def test_no_page_download_or_api_answer_is_kept_by_the_browser(api: Api):
    client = api.client
    sign_in(client, api.tokens["fm"])
    for path in ("/", "/sign-in", "/docs", "/v1/health", f"/schemes/{SCHEME}/loans?format=csv"):
        assert client.get(path).headers["cache-control"] == "no-store", path
    assert "no-store" not in client.get("/static/console.css").headers.get("cache-control", "")


def test_cookies_are_secure_over_plain_http_when_the_settings_say_tls_is_in_front(api: Api):
    api.system.settings.console_secure_cookies = True
    try:
        form = api.client.get("/sign-in")
        assert "Secure" in next(
            h for h in form.headers.get_list("set-cookie") if h.startswith(SIGN_IN_COOKIE)
        )
    finally:
        api.system.settings.console_secure_cookies = False


@pytest.mark.parametrize("scheme", ["pool%3Fa=1", "pool%23x", "pool%3Fa=1&b=2"])
def test_an_id_that_would_smuggle_a_query_into_the_api_names_nothing(api: Api, scheme: str):
    client = api.client
    sign_in(client, api.tokens["fm"])
    for page in (f"/schemes/{scheme}/claims", f"/schemes/{scheme}", f"/schemes/{scheme}/owed"):
        answer = client.get(page)
        assert answer.status_code == 404, (page, answer.status_code, answer.text[:300])
        assert answer.headers["content-type"].startswith("text/html")


def test_markup_in_a_name_or_a_reason_is_shown_as_text(api: Api):
    """A bank clerk enrols a loan whose borrower is `<script>…`; the fund manager reads it."""
    from datetime import date

    from ledger.money import Money
    from ledger.service import Enrolment
    from tests.api.conftest import uscc

    ledger = api.system.ledger
    fm = Actor("fm", Role.FUND_MANAGER)
    ledger.record_contribution(
        fm, SCHEME, "city-fund", Money.yuan("10000000"), contributed_on=date(2018, 2, 1)
    )
    name = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    ledger.enrol_loan(
        Actor("bank-a", Role.BANK, "bank-a"),
        SCHEME,
        "bank-a",
        Enrolment(
            loan_ref="XSS-1",
            borrower_name=name,
            borrower_uscc=uscc(7),
            product="tech_loan",
            principal=Money.yuan("100000"),
            rate_bp=450,
            term_months=12,
            enrolled_on=date(2019, 1, 2),
            cover="direct",
        ),
    )
    client = api.client
    sign_in(client, api.tokens["bank-a"])
    api.system.runner.wait_for(api.written(), timeout=10)  # the app's own runner applies it
    for path in (f"/schemes/{SCHEME}/loans", f"/schemes/{SCHEME}/loans/bank-a/XSS-1"):
        html = client.get(path).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
        assert "<script>alert" not in html and "<img src=x" not in html, path


def test_every_answer_carries_the_content_security_policy(api: Api):
    client = api.client
    for path in ("/sign-in", "/docs", "/v1/health", "/static/console.css"):
        policy = client.get(path).headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, path
        assert "frame-ancestors 'none'" in policy


def test_the_pages_hold_no_inline_script_style_or_handler(api: Api):
    client = api.client
    sign_in(client, api.tokens["fm"])
    for path in ("/sign-in", "/", "/docs", "/no-such-page"):
        html = client.get(path).text
        for script in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
            attributes, _body = script
            assert "src=" in attributes or 'type="application/json"' in attributes, (path, script)
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path


# Downloads ---------------------------------------------------------------------------------------

ROWS = [
    {"name": '=HYPERLINK("http://evil.example","click")', "amount": "-1234567.89", "note": "@SUM(A1)"},
    {"name": "+cmd|' /C calc'!A0", "amount": "9999999999999.99", "note": "\tTAB"},
    {"name": "鹤壁科技有限公司", "amount": "0.01", "note": "-2+3"},
]
COLUMNS = [
    Column("名称", lambda r: r["name"]),
    Column("金额", lambda r: r["amount"], "amount"),
    Column("备注", lambda r: r["note"]),
]


def body_of(answer) -> bytes:
    """A download's bytes, as a server sends them (written in worker threads, part by part)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    async def collect() -> bytes:
        return b"".join([chunk async for chunk in answer.body_iterator])

    with ThreadPoolExecutor(1) as thread:  # its own event loop, whatever runs in this thread
        return thread.submit(asyncio.run, collect()).result()


def test_a_csv_download_cannot_run_a_formula_and_keeps_every_amount_exact():
    answer = download("csv", "t", COLUMNS, ROWS)
    text = body_of(answer).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["名称", "金额", "备注"]
    for row in rows[1:]:
        for cell in (row[0], row[2]):
            assert not cell.startswith(("=", "+", "-", "@", "\t")), cell
    assert [r[1] for r in rows[1:]] == ["-1234567.89", "9999999999999.99", "0.01"]
    assert rows[3][0] == "鹤壁科技有限公司"


def test_an_xlsx_download_holds_text_as_text_and_amounts_to_the_fen():
    from decimal import Decimal

    import openpyxl

    answer = download("xlsx", "t", COLUMNS, ROWS)
    sheet = openpyxl.load_workbook(io.BytesIO(body_of(answer))).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("名称", "金额", "备注")
    for row in values[1:]:
        assert isinstance(row[0], str) and not row[0].startswith(("=", "+", "-", "@"))
        assert isinstance(row[2], str) and not row[2].startswith(("=", "+", "-", "@", "\t"))
    assert [f"{Decimal(repr(r[1])):.2f}" for r in values[1:]] == ["-1234567.89", "9999999999999.99", "0.01"]
    for row in sheet.iter_rows(min_row=2):
        assert row[0].data_type == "s" and row[1].data_type == "n"


def test_a_form_above_its_limit_is_a_page_saying_so_and_a_tape_form_takes_a_large_tape(api: Api):
    client = api.client
    csrf = sign_in(client, api.tokens["bank-a"])
    big = b"x" * (2 * 1024 * 1024)
    refused = client.post(
        f"/schemes/{SCHEME}/contributions", content=big, headers={"Content-Type": "text/plain"}
    )
    assert refused.status_code == 413
    assert refused.headers["content-type"].startswith("text/html") and "文件过大" in refused.text
    # a 2 MiB tape is no reason to refuse the console's upload form (limited like the API's tapes):
    # it reaches the form's route, which here refuses the forged token and records nothing
    before = api.written()
    answer = client.post(
        f"/schemes/{SCHEME}/tapes",
        data={"csrf": csrf + "x"},
        files={"file": ("tape.csv", big, "text/csv")},
    )
    assert answer.status_code == 403
    assert api.written() == before


def test_a_download_of_more_rows_than_it_holds_is_refused_never_cut_short(api: Api, monkeypatch):
    from console import client as console_client, web

    with monkeypatch.context() as patched:
        patched.setattr(web, "DOWNLOAD_ROWS_MAX", 2)
        with pytest.raises(console_client.TooMany):
            download("csv", "t", COLUMNS, ROWS)
    # through a page: three loans, and a list may gather two → a page asking to narrow the filter
    from datetime import date

    from ledger.money import Money
    from ledger.service import Enrolment
    from tests.api.conftest import uscc

    fm, bank = Actor("fm", Role.FUND_MANAGER), Actor("bank-a", Role.BANK, "bank-a")
    api.system.ledger.record_contribution(
        fm, SCHEME, "city-fund", Money.yuan("10000000"), contributed_on=date(2018, 2, 1)
    )
    for n in range(3):
        api.system.ledger.enrol_loan(
            bank,
            SCHEME,
            "bank-a",
            Enrolment(
                f"MANY-{n}", "Firm", uscc(20 + n), "tech_loan", Money.yuan("1000"), 450, 12, date(2019, 1, 2)
            ),
        )
    api.system.runner.wait_for(api.written(), timeout=10)  # the app's own runner applies it
    client = api.client
    sign_in(client, api.tokens["fm"])
    monkeypatch.setitem(console_client.Api.pages.__kwdefaults__, "limit", 1)
    monkeypatch.setitem(console_client.Api.pages.__kwdefaults__, "most", 2)
    answer = client.get(f"/schemes/{SCHEME}/loans", params={"format": "csv"})
    assert answer.status_code == 422 and "缩小筛选范围" in answer.text, answer.text[:500]
    monkeypatch.setitem(console_client.Api.pages.__kwdefaults__, "most", 3)
    whole = client.get(f"/schemes/{SCHEME}/loans", params={"format": "csv"})
    assert whole.status_code == 200 and whole.text.count("MANY-") == 3


def test_a_csv_of_many_rows_is_written_whole_in_parts():
    rows = [{"name": f"企业{i}", "amount": f"{i}.01", "note": "-x"} for i in range(2_500)]
    lines = body_of(download("csv", "t", COLUMNS, rows)).decode("utf-8").splitlines()
    assert len(lines) == 2_501 and lines[-1] == "企业2499,2499.01,'-x"


def test_a_table_that_lists_everything_shows_its_first_rows_and_says_the_download_holds_all():
    from console.web import environment

    template = environment.from_string(
        '{% import "macros.html" as m %}{{ m.table(columns, rows, "t", id="t", most=2) }}'
    )
    html = template.render(columns=COLUMNS, rows=ROWS)
    assert html.count("<tr>") == 3  # the heading and two rows
    assert "共 3 行" in html
    assert "鹤壁科技有限公司" not in html  # the third row
    whole = environment.from_string(
        '{% import "macros.html" as m %}{{ m.table(columns, rows, "t", most=3) }}'
    )
    assert "鹤壁科技有限公司" in whole.render(columns=COLUMNS, rows=ROWS)
