"""9. Console: every page of the web console, its server time p99 on the read-side benchmark's pool
(`report_loans` loans, 100,000 in the full run), through `riskpool serve`, signed in as the role
that uses it.

Every GET page of the console is found from its routes (a page added later is measured without a
change here); its path parameters are filled from the pool (a claim, a loan, rule version 1). A
page is asked for warm, then `report_samples` times, one request at a time, and timed from the
request's first byte sent to the answer's last byte received on loopback: the server's time and a
loopback round trip, which is an upper bound on the server's time."""

from __future__ import annotations

import re
import time

import httpx

from bench.common import Figure, Results, Sizes, Store, percentile
from bench.pool import BANKS, SCHEME

PAGE_P99_MS = 100.0
# GET routes that are not pages: a redirect that changes the language, the sign-in form (it needs no
# pool), and downloads (files, measured with the pages they are downloaded from).
NOT_PAGES = {
    "/language/{lang}",
    "/sign-in",
    "/audit/heads/consistency",
    "/audit/heads/export",
    "/audit/heads/inclusion",
    "/schemes/{scheme_id}/tapes/template.csv",
}
# The query a page needs to show something (its form's values), by route path; `{name}` is filled
# as in paths.
QUERIES: dict[str, dict[str, str]] = {
    "/schemes/{scheme_id}/rules/compare": {"left": "1", "right": "1"},
    "/audit/as-of": {"scheme": "{scheme_id}", "bank": "{bank_id}", "loan": "{loan_ref}"},
}
KEY_PREFIX = re.compile(r"rpk_[A-Za-z0-9_-]+")


def pages() -> list[str]:
    from starlette.routing import Route

    from console.pages import routers

    found = []
    for router in routers():
        for route in router.routes:
            if isinstance(route, Route) and "GET" in (route.methods or ()) and route.path not in NOT_PAGES:
                found.append(route.path)
    return sorted(set(found))


def filled(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), template)


def signed_in(base: str, token: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60, follow_redirects=True)
    form = client.get("/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    answer = client.post("/sign-in", data={"key": token, "csrf": csrf, "next": "/"})
    assert answer.status_code == 200 and "/sign-in" not in str(answer.url), answer.text[:500]
    return client


def measure_pages(
    port: int, tokens: dict[str, str], store: Store, sizes: Sizes, results: Results, events: int
) -> None:
    """`tokens`: a key for "fund_manager", "regulator" and "bank" (of BANKS[0])."""
    base = f"http://127.0.0.1:{port}"
    api = httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {tokens['fund_manager']}"}, timeout=60
    )
    claim = api.get(f"/v1/schemes/{SCHEME}/claims", params={"limit": 1}).json()["items"][0]
    loan = api.get(f"/v1/schemes/{SCHEME}/loans", params={"limit": 1, "bank_id": BANKS[0]}).json()["items"][0]
    values = {
        "scheme_id": SCHEME,
        "claim_id": claim["claim_id"],
        "bank_id": loan["bank_id"],
        "loan_ref": loan["loan_ref"],
        "number": "1",
    }
    clients = {role: signed_in(base, token) for role, token in tokens.items()}
    try:
        for path in pages():
            url = filled(path, values)
            assert "{" not in url, f"bench/console.py has no value for a parameter of {path}"
            query = {k: filled(v, values) for k, v in QUERIES.get(path, {}).items()}
            client = next((c for c in clients.values() if c.get(url, params=query).status_code == 200), None)
            if client is None:
                statuses = {r: c.get(url, params=query).status_code for r, c in clients.items()}
                raise AssertionError(f"no role opens {url}: {statuses}")
            for _ in range(5):
                client.get(url, params=query)
            samples = []
            for _ in range(sizes.report_samples):
                started = time.perf_counter()
                answer = client.get(url, params=query)
                samples.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, (url, answer.status_code)
            p50, p99 = percentile(samples, 50), percentile(samples, 99)
            figure = results.add(
                Figure(
                    "console",
                    store.name,
                    f"GET {path}",
                    p99,
                    "ms p99",
                    target=f"p99 < {PAGE_P99_MS:.0f} ms",
                    notes=f"p50 {p50:.1f} ms over {sizes.report_samples} requests, {len(answer.content):,} "
                    f"bytes; {sizes.report_loans:,} loans, {events:,} events",
                )
            )
            figure.met = p99 < PAGE_P99_MS
    finally:
        for client in clients.values():
            client.close()
        api.close()
