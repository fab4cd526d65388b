"""BENCHMARKS.md, Scale: what this run's measured rates mean for a city scheme of 10 million events
and a national platform of a billion, and where one PostgreSQL primary stops being enough.

Every figure is worked from a rate measured in the same run (catch-up, verify, tape import,
storage per event); the assumptions about the month-end peak are stated beside it."""

from __future__ import annotations

from bench.common import Results

SIZES = {"a city scheme, 10 M events": 10_000_000, "a national platform, 1 B events": 1_000_000_000}
# The month-end peak: every bank's tape of the month's new loans arrives in the last working
# afternoon (four hours). A city pilot: 20 banks × 5,000 loans. A national platform: 300 such cities.
PEAK_HOURS = 4
PEAK_LOANS = {"a city scheme, 10 M events": 20 * 5_000, "a national platform, 1 B events": 300 * 20 * 5_000}


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:,.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:,.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:,.1f} h"
    return f"{seconds / 86400:,.1f} days"


def size(n: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,.0f} B"


def rate(results: Results, benchmark: str, store: str, unit: str) -> float | None:
    for f in results.figures:
        if f.benchmark == benchmark and f.store == store and f.unit == unit:
            return f.value
    return None


def render(results: Results) -> list[str]:
    stores = [s for s in ("sqlite", "postgres") if any(f.store == s for f in results.figures)]
    out = [
        "## 9. Scale, projected from this run",
        "",
        "Worked from the rates above, on this 2-core machine: rebuilding the read models replays the "
        "log at the catch-up rate, verifying it reads every event at the verify rate, and a tape's "
        "loan is one event. Linear in the events, as the history benchmark shows the cost per "
        f"command is. The month-end peak assumed: every bank's tape of the month in the last "
        f"{PEAK_HOURS} working hours; a city pilot is 20 banks × 5,000 new loans a month, a "
        "national platform 300 such cities.",
        "",
    ]
    header = "| | " + " | ".join(f"{store}: {name}" for store in stores for name in SIZES) + " |"
    out += [header, "|---|" + "---:|" * (len(stores) * len(SIZES))]

    def row(label: str, cell) -> None:
        cells = []
        for store in stores:
            for name, events in SIZES.items():
                cells.append(cell(store, name, events))
        out.append(f"| {label} | " + " | ".join(cells) + " |")

    def over(benchmark: str, unit: str):
        def cell(store: str, name: str, events: int) -> str:
            found = rate(results, benchmark, store, unit)
            return duration(events / found) if found else "not measured"

        return cell

    def stored(kind: str):
        def cell(store: str, name: str, events: int) -> str:
            per_event = results.storage.get(store, {}).get(kind)
            return f"{size(per_event * events)} ({per_event:,.0f} B/event)" if per_event else "not measured"

        return cell

    def peak(store: str, name: str, events: int) -> str:
        needed = PEAK_LOANS[name] / (PEAK_HOURS * 3600)
        found = rate(results, "tape", store, "loans/s")
        if not found:
            return f"{needed:,.0f} loans/s needed"
        return f"{needed:,.0f} loans/s needed, {needed / found:.2%} of the measured {found:,.0f}/s"

    row("rebuild every read model (catch-up rate)", over("catch-up", "events/s"))
    row("verify the whole log (verify rate)", over("audit verify", "events/s"))
    row("event store on disk", stored("event store"))
    row("read models on disk (Merkle tree, audit index included)", stored("read models"))
    row("month-end tape peak (one writer)", peak)
    out += [
        "",
        "**Where one PostgreSQL primary stops.** Every insert into the events table takes the "
        "table's lock (that is how the library keeps the notification order gap-free), so one "
        "primary is one writer: the tape rate above is its ceiling for new loans, and a city's "
        "month-end peak is a small fraction of it. What one primary stops doing well first is not "
        "writing but replaying and storing: at a billion events a rebuild or a full verify takes the "
        "time shown above, on one core while it runs, and the store holds the sizes shown. "
        "Storage and replay, not write rate, are what call for the steps below, taken in this "
        "order, each on an existing engine:",
        "",
        "1. **Partition by scheme.** No aggregate spans two schemes' pools (a loan, its claims, "
        "the scheme's fund and rules live under one scheme id), so each scheme, or each city's "
        "schemes, can have its own event store and read models: a PostgreSQL schema or database "
        "per partition, which `RISKPOOL_DATABASE_URL=postgresql://…?schema=…` already selects. "
        "The one change: the API's `system` dependency (`api/deps.py`) picks the system by the "
        "path's scheme id from a scheme → URL map in `riskpool/settings.py`, and API keys and "
        "parties, which are not per scheme, stay in one shared store. Rebuild, verify and the "
        "signed tree heads then run per partition, in parallel.",
        "2. **Read replicas for regulators.** Audit reads, reports and exports go to PostgreSQL "
        "streaming replicas of the read models and events. The one change: a read-models URL "
        "for reads apart from the runner's (the `projections_url` setting, split into a write and "
        "a read URL), and the read-your-writes wait (`after_position`, `api/deps.py`) asking the "
        "replica's tracking position rather than the local runner's.",
        "3. **Citus, for the read models.** The read models, keyed by scheme, distribute by "
        "`scheme_id` across Citus workers; the one change is a `create_distributed_table(…, "
        "'scheme_id')` after `ProjectionStore.create()`, with `scheme_id` in every table's "
        "primary key. The event log itself stays per partition (step 1) rather than distributed: "
        "its gap-free global order is what the Merkle tree and the runner's exactly-once "
        "positions rest on.",
        "",
    ]
    return out
