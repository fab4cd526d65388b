"""Signing in, the language, the first page, and the offline API reference."""

from __future__ import annotations

from tests.console.conftest import look, sign_in, tab_through


def test_a_signed_out_browser_is_sent_to_sign_in_and_comes_back(console, tab):
    page = tab.page
    page.goto(f"/schemes/{console.scheme}/claims")
    assert "/sign-in" in page.url
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "登录" in page.inner_text("h1")
    look(tab, "sign-in", store=console.store)
    page.fill("#f-key", console.key("fund_manager", principal="fm-zhang"))
    page.click("form.form button[type=submit]")
    assert page.url.endswith(f"/schemes/{console.scheme}/claims")


def test_a_wrong_key_is_refused_in_chinese_and_nothing_opens(console, tab):
    page = tab.page
    page.goto("/sign-in")
    page.fill("#f-key", "rpk_000000000000_not-a-real-secret")
    page.click("form.form button[type=submit]")
    assert page.url.endswith("/sign-in")  # the form again, with its refusal
    assert "密钥无效" in page.inner_text("#sign-in-error")
    look(tab, "sign-in-refused", store=console.store)
    page.goto("/")
    assert "/sign-in" in page.url


def test_the_schemes_page_in_chinese_then_english_then_signed_out(console, tab):
    page = tab.page
    sign_in(tab, console.key("regulator"))
    assert "您可查看的方案" in page.inner_text("main")
    row = page.locator("tbody tr", has_text=console.scheme)
    assert row.count() == 1
    # amounts right-aligned, with thousands separators, never cut
    exposure = row.locator("td.num").nth(1).inner_text()
    assert "," in exposure and exposure.endswith(tuple("0123456789")) and "…" not in exposure
    look(tab, "home", store=console.store)
    tab_through(tab, "a[lang=en]")
    page.keyboard.press("Enter")
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "The schemes you may see" in page.inner_text("main")
    page.click("form.sign-out button")
    assert "/sign-in" in page.url
    page.goto("/")
    assert "/sign-in" in page.url


def test_the_api_reference_is_served_offline_with_an_authorize_button(console, tab):
    page = tab.page
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/docs")
    page.wait_for_selector("button.authorize", timeout=20_000)
    assert all(url.startswith(console.url) for url in requested), [
        u for u in requested if not u.startswith(console.url)
    ]
    page.click("button.authorize")
    assert page.locator("text=bearer").first.is_visible()
