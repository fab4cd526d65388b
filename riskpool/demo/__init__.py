"""`riskpool demo`: a realistic pilot scheme modelled on the 2018 Hebi notice."""

from __future__ import annotations

from collections.abc import Callable

from ledger.domain import Scheme
from ledger.service import Ledger
from riskpool.demo.pilot import Pilot

SCHEMES_LISTED_MAX = 10_000


class DemoRefused(Exception):
    """The ledger holds real (non-demo) schemes and the caller did not say --force."""


def scheme_id_for(seed: int) -> str:
    return f"hebi-pilot-{seed}"


def schemes_in(app: Ledger) -> dict[str, bool]:
    """Every scheme in the ledger and whether it is a demo, read from the log's creations."""
    topic = f"{Scheme.Created.__module__}:{Scheme.Created.__qualname__}"
    found: dict[str, bool] = {}
    start = 1
    while len(found) < SCHEMES_LISTED_MAX:
        page = app.recorder.select_notifications(start=start, limit=500, topics=[topic])
        for notification in page:
            event = app.mapper.to_domain_event(notification)
            found[event.scheme_id] = event.demo
        if len(page) < 500:
            break
        start = page[-1].id + 1
    return found


def build_demo(app: Ledger, seed: int, *, force: bool, advance: Callable[[int], None]) -> Pilot | None:
    """Build the demo scheme for `seed`; None if it is already in this ledger."""
    existing = schemes_in(app)
    scheme_id = scheme_id_for(seed)
    if scheme_id in existing:
        return None
    real = sorted(s for s, demo in existing.items() if not demo)
    if real and not force:
        raise DemoRefused(
            f"this ledger holds {len(real)} scheme(s) that are not demos ({', '.join(real[:3])}); "
            "the demo writes into it only with --force"
        )
    pilot = Pilot(app, scheme_id, seed)
    pilot.run(advance)
    return pilot
