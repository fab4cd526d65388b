"""The pool dashboard in a real browser: the figures are the API's reports (checked against their
JSON, and the derived ones worked out here), the funds' chart is drawn with scripts and is a table
without them, and every table downloads."""

from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_UP, Decimal

import openpyxl

from tests.console.conftest import SCREENSHOTS, Watched, look, sign_in, tab_through

# Counts the chart's drawn pixels (ECharts draws on a canvas).
DRAWN_PIXELS = """() => {
  const canvas = document.querySelector('.chart canvas');
  if (!canvas) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let drawn = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) drawn++;
  return drawn;
}"""


def reports(console) -> dict[str, dict]:
    fm = console.api(console.key("fund_manager", principal="fm-zhang"))
    base = f"/v1/schemes/{console.scheme}"
    found = {}
    for name in ("exposure", "funds", "fund-history", "breaker-figures", "loss-ratios", "targets"):
        answer = fm.get(f"{base}/reports/{name}")
        assert answer.status_code == 200, answer.text
        found[name] = answer.json()
    found["names"] = {m["party_id"]: m["name"] for m in fm.get(f"{base}/members").json()}
    return found


def shown(amount: str) -> str:
    return f"{Decimal(amount):,.2f}"


def cells(page, table: str, has_text: str) -> list[str]:
    row = page.locator(f"#{table} tbody tr", has_text=has_text)
    assert row.count() == 1, (table, has_text, page.inner_text(f"#{table}"))
    return row.locator("td").all_inner_texts()


def test_the_dashboard_shows_the_pool_s_figures_and_draws_the_funds_chart(console, tab):
    found = reports(console)
    names = found["names"]
    page = tab.page
    sign_in(tab, console.key("fund_manager", principal="fm-zhang"), next_path=f"/schemes/{console.scheme}")
    page.wait_for_function(f"({DRAWN_PIXELS})() > 2000")
    assert page.locator(".chart").is_visible()
    look(tab, "dashboard", store=console.store)

    # exposure, the limit and the headroom, and the share of the limit used (worked out here)
    e = found["exposure"]
    assert page.locator(".card .figure").all_inner_texts() == [
        shown(e["exposure"]),
        shown(e["limit"]),
        shown(e["headroom"]),
    ]
    assert Decimal(e["limit"]) - Decimal(e["exposure"]) == Decimal(e["headroom"])
    used = (Decimal(e["exposure"]) * 100 / Decimal(e["limit"])).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert f"{used}%" in page.inner_text(".usage")
    assert cells(page, "t-exposure", "上限已使用比例")[1] == f"{used}"

    # each fund now, and its month-end balance: the last month's is its balance now
    for fund in found["funds"]["funds"]:
        row = cells(page, "t-funds", names[fund["party_id"]])
        assert row[1:5] == [shown(fund[k]) for k in ("contributions", "payments", "recoveries_in", "balance")]
    months = page.locator("#t-fund-history tbody tr")
    last = months.last.locator("td").all_inner_texts()
    assert last[0] == found["exposure"]["today"][:7]
    assert last[1:] == [shown(f["balance"]) for f in found["funds"]["funds"]]
    history = found["fund-history"]["months"]
    assert months.count() == len(history) // len(found["funds"]["funds"])

    # every breaker, with its figure, threshold and room; chaoge-bank's has tripped
    breakers = page.locator("#t-breakers tbody tr")
    assert breakers.count() == len(found["breaker-figures"]["breakers"])
    chaoge = next(b for b in found["breaker-figures"]["breakers"] if b["party_id"] == "chaoge-bank")
    row = cells(page, "t-breakers", names["chaoge-bank"])
    assert row[3] == shown(chaoge["figure"]) and row[6] == "3.00"  # bank_loss_rate_max_bp 300
    # it may reach 3% of what it disbursed: anything above is over, by this much
    limit = (Decimal(chaoge["base"]) * 300 / 10000).quantize(Decimal("0.01"), rounding="ROUND_FLOOR")
    assert row[7] == shown(str(limit - Decimal(chaoge["figure"])))
    assert "已熔断" in row[9] and chaoge["tripped_on"] in row[9]
    assert names["chaoge-bank"] in page.inner_text("#h-breakers + p.error")

    # loss ratios and targets
    scheme = cells(page, "t-loss-ratios", "方案整体")
    ratio = next(r for r in found["loss-ratios"]["ratios"] if r["role"] == "scheme")
    assert scheme[2] == shown(ratio["loss"]) and scheme[6] == ratio["gross_percent"]
    target = next(t for t in found["targets"]["targets"] if t["target_id"] == "lending-2019")
    assert cells(page, "t-targets", "lending-2019")[3:7] == [
        shown(target["goal"]),
        shown(target["reached_by_then"]),
        shown(target["reached_now"]),
        target["percent"],
    ]
    assert cells(page, "t-firm-targets", "firms-2020")[3] == str(
        next(t for t in found["targets"]["targets"] if t["target_id"] == "firms-2020")["goal"]
    )
    tab_through(tab, "#t-breakers .downloads a")


def test_without_scripts_the_chart_is_its_table(console, browser):
    found = reports(console)
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", base_url=console.url, java_script_enabled=False
    )
    try:
        plain = Watched(context.new_page())
        sign_in(
            plain, console.key("government", party="hebi-finance"), next_path=f"/schemes/{console.scheme}"
        )
        page = plain.page
        assert not page.locator(".chart").is_visible()
        assert page.locator(".chart canvas").count() == 0
        table = page.locator("#t-fund-history")
        assert table.is_visible()
        # a government party reads its own fund: one balance column
        own = [m for m in found["fund-history"]["months"] if m["party_id"] == "hebi-finance"]
        rows = table.locator("tbody tr")
        assert rows.count() == len(own)
        for i in (0, len(own) // 2, len(own) - 1):
            assert rows.nth(i).locator("td").all_inner_texts() == [own[i]["month"], shown(own[i]["balance"])]
        assert page.locator("#t-breakers tbody tr").count() == 1  # its own breaker
        # axe-core cannot run in a page without scripts (its checks wait on timers that never fire):
        # this page's markup is the one `look` checked with scripts on; its screenshot is saved
        page.screenshot(path=str(SCREENSHOTS / f"dashboard-no-script-{console.store}.png"), full_page=True)
        assert not plain.errors
    finally:
        context.close()


def test_every_dashboard_table_downloads_exact_and_safe(console, tab):
    found = reports(console)
    page = tab.page
    sign_in(tab, console.key("regulator"), next_path=f"/schemes/{console.scheme}")
    look(tab, "dashboard-regulator", store=console.store)
    with page.expect_download() as got:
        page.click("#t-breakers .downloads a:text('CSV')")
    rows = list(csv.reader(io.StringIO(got.value.path().read_text(encoding="utf-8-sig"))))
    assert rows[0][0] == "熔断项" and len(rows) == 1 + len(found["breaker-figures"]["breakers"])
    figures = {r[1]: r[3] for r in rows[1:]}
    for b in found["breaker-figures"]["breakers"]:
        assert figures[found["names"][b["party_id"]]] == b["figure"]  # exact, without separators
    with page.expect_download() as got:
        page.click("#t-fund-history .downloads a:text('XLSX')")
    sheet = openpyxl.load_workbook(io.BytesIO(got.value.path().read_bytes())).active
    values = list(sheet.values)
    assert values[0][0] == "月份" and len(values) == 1 + len(found["fund-history"]["months"]) // 3
    last = found["fund-history"]["months"][-1]
    assert Decimal(str(values[-1][3])) == Decimal(last["balance"])  # the third fund's, as a number
    for table in ("exposure", "funds", "loss-ratios", "targets", "firm-targets", "years"):
        answer = page.request.get(f"/schemes/{console.scheme}?table={table}&format=csv")
        assert answer.status == 200 and answer.headers["content-type"].startswith("text/csv"), table
