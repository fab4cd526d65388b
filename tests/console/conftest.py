"""The console in a real browser: Debian's Chromium driven by Playwright, against `riskpool serve
--demo` in its own process, on SQLite and on PostgreSQL.

One demo server per store serves the whole console suite (the demo pilot takes seconds to build):
a test that changes something changes what no other test reads, or starts its own server.

Without Chromium the browser tests are skipped with the reason shown; with RISKPOOL_REQUIRE_BROWSER=1
(as `.ci/run` sets, after installing it) they fail instead.

Every page a test opens is checked by `look(page, name)`: no script error and no breach of the
Content-Security-Policy were reported, axe-core (vendored in tests/console/vendor) finds no serious
or critical violation, and a screenshot is saved in tests/console/screenshots/ (not committed).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.api.conftest import api  # noqa: F401  (in-process: the API's pool on each store, a key per role)
from tests.e2e.conftest import KEY_PEPPER, RISKPOOL, free_port

HERE = Path(__file__).parent
AXE = HERE / "vendor" / "axe.min.js"
SCREENSHOTS = HERE / "screenshots"
CHROMIUM = os.environ.get("RISKPOOL_CHROMIUM", "/usr/bin/chromium")
KEY_LINE = re.compile(r"^(\w+)\s+(\S+)\s+(\S+)\s+(rpk_[A-Za-z0-9_-]+)\s*$")


@dataclass
class DemoKey:
    role: str
    party: str | None
    principal: str
    token: str


@dataclass
class ConsoleServer:
    url: str
    store: str
    env: dict[str, str]
    process: subprocess.Popen
    keys: list[DemoKey] = field(default_factory=list)
    scheme: str = "hebi-pilot-2018"

    def key(self, role: str, party: str | None = None, principal: str | None = None) -> str:
        """A demo key of this role (of this party or principal when given)."""
        for k in self.keys:
            if k.role == role and (party is None or k.party == party) and (principal in (None, k.principal)):
                return k.token
        raise LookupError(f"no demo key for {role} {party or ''} {principal or ''}")

    def api(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _start(database_url: str, folder: Path, store: str) -> ConsoleServer:
    port = free_port()
    env = os.environ | {
        "RISKPOOL_KEY_PEPPER": KEY_PEPPER,
        "RISKPOOL_DATABASE_URL": database_url,
        "RISKPOOL_AUDIT_KEY_FILE": str(folder / "riskpool.audit-key"),
        "PYTHONPATH": os.getcwd(),
        "COLUMNS": "250",
    }
    log = folder / "server.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [*RISKPOOL, "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError(f"the console server did not start: {log.read_text()[-3000:]}")
        time.sleep(0.2)
    keys = []
    for line in log.read_text(encoding="utf-8").splitlines():
        found = KEY_LINE.match(line.strip())
        if found:
            role, party, principal, token = found.groups()
            keys.append(DemoKey(role, None if party == "-" else party, principal, token))
    assert keys, f"the demo printed no keys: {log.read_text()[-2000:]}"
    return ConsoleServer(url, store, env, process, keys)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def console(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """The demo pilot served by `riskpool serve --demo`, on each store."""
    folder = tmp_path_factory.mktemp(f"console-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'riskpool.db'}"
        schema = None
    else:
        request.getfixturevalue("postgres_available")
        import uuid

        import psycopg

        from conftest import POSTGRES_URL

        schema = f"c_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {schema}")
        url = f"{POSTGRES_URL}?schema={schema}"
    server = _start(url, folder, request.param)
    yield server
    server.process.terminate()
    server.process.wait(timeout=20)
    if schema:
        import psycopg

        from conftest import POSTGRES_URL

        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    """Chromium, for the console's tests only: Playwright's sync API keeps an event loop running
    in the main thread while it is open, and a later test's `asyncio.run` would find it."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        problem = f"no Chromium at {CHROMIUM}: `apt-get install chromium` (.ci/run does it)"
        if os.environ.get("RISKPOOL_REQUIRE_BROWSER") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu"])
        yield launched
        launched.close()


@dataclass
class Watched:
    """A browser page and what went wrong on it: script errors and Content-Security-Policy breaches."""

    page: object
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def tab(browser, console: ConsoleServer) -> Iterator[Watched]:
    """A fresh browser context (no cookies), in Chinese and China time, with its errors watched."""
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", base_url=console.url, accept_downloads=True
    )
    page = context.new_page()
    watched = Watched(page)
    page.on("pageerror", lambda error: watched.errors.append(f"script error: {error}"))
    page.on("console", lambda message: _console_message(watched, message))
    page.on("response", lambda response: _asset_failed(watched, response))
    yield watched
    context.close()
    assert not watched.errors, watched.errors


def _console_message(watched: Watched, message) -> None:
    # A page answered with its status (401 sign-in refused, 404, 422 form errors) is logged by
    # Chromium as a failed resource: that is the page's status, not an error of the page; a script,
    # style sheet, image or font that failed to load is caught by _asset_failed.
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        watched.errors.append(f"console error: {message.text}")


def _asset_failed(watched: Watched, response) -> None:
    if response.request.resource_type in ("script", "stylesheet", "image", "font") and response.status >= 400:
        watched.errors.append(f"{response.status} for {response.url}")


def sign_in(tab: Watched, token: str, *, next_path: str = "/") -> None:
    page = tab.page
    page.goto(f"/sign-in?next={quote(next_path, safe='/')}")
    page.fill("#f-key", token)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state("load")
    assert "/sign-in" not in page.url, page.inner_text("main")


def look(tab: Watched, name: str, *, store: str = "") -> list[dict]:
    """Checks the page as it stands: no serious or critical axe-core violation, no script error or
    CSP breach so far; saves its screenshot. Returns the axe violations of lesser impact."""
    page = tab.page
    page.wait_for_load_state("load")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}{'-' + store if store else ''}.png"), full_page=True)
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "axe.run(document, {resultTypes: ['violations'], runOnly: {type: 'tag', "
        "values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
    )
    grave = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not grave, f"{name}: {grave}"
    assert not tab.errors, f"{name}: {tab.errors}"
    return [v for v in result["violations"] if v["impact"] not in ("serious", "critical")]


def tab_through(tab: Watched, selector: str, *, most: int = 200) -> None:
    """Reaches `selector` with the Tab key alone from the top of the page (keyboard use)."""
    page = tab.page
    page.keyboard.press("Home")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    target = page.locator(selector).first
    for _ in range(most):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{selector} is not reachable with the Tab key")
