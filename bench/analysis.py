"""What the profiles of a missed target show, and what would fix it. The report prints the
paragraph under a benchmark whose target was missed in that run, above the profile itself."""

from __future__ import annotations

BOTTLENECKS: dict[str, str] = {
    "commands": (
        "Half of a command is the save the baseline also makes. The rest is what the baseline "
        "skips: creating the events through the library (`trigger_event`, the event's dataclass, "
        "`mutate`), the rule checks, the cache lookups and, every 100 events of the scheme, its "
        "snapshot. (Reading each aggregate back from the store to fast-forward it, and rebuilding "
        "the scheme to snapshot it, are gone: together they cost a third of a command.) Fix: group "
        "commit, running queued commands in order on the cached aggregates and saving them in one "
        "transaction."
    ),
    "tape": (
        "The baseline parses and inserts tuples of strings in C. The ledger, for each row, "
        "validates it (USCC check character, references, dates), creates a Loan aggregate and its "
        "Enrolled event through the library's Python (`Aggregate._create`, the event's dataclass, "
        "`mutate`), encodes the event with the library's JSON transcoder (a Python `default` hook "
        "for each date, actor, UUID and timestamp), and inserts it through the library's recorder. "
        "Fix: a compiled encoder (orjson) behind the library's transcoder interface, and creating "
        "the tape's Enrolled events directly rather than through `Aggregate._create`."
    ),
    "catch-up": (
        "The baseline only reads. For each event the runner decodes it through the library's "
        "transcoder (`json` with a Python object hook per nested object), applies it to the read "
        "models, hashes it into the Merkle tree (a leaf row, an interior node row about every "
        "other event, the peaks) and indexes it for audit (an event row and a row per party): "
        "five-odd rows written per event. Fix: a compiled decoder, and writing the tree's "
        "interior nodes and the audit index once per batch in bulk rather than row by row."
    ),
    "api": (
        "The bare endpoint does no I/O. Each claim is a command that commits on its own (an fsync "
        "on SQLite), commands run one at a time per process (and retry across processes), and the "
        "projection runner shares the server's CPU. With 32 connections the latency is queueing: "
        "about 32 ÷ throughput. Fix: group commit (a writer that runs the queued commands in order "
        "on the cached aggregates and saves them in one transaction, one fsync for many claims), "
        "and the runner in its own process (`riskpool projections run`)."
    ),
    "history": (
        "The large store's commands read their aggregates from snapshots and the cache as the "
        "small one's do; a difference here is the store's indexes no longer fitting in memory."
    ),
    "audit verify": (
        "Reading every event back through the library (Notification objects, UUID conversion) is "
        "already slower than hashing the same bytes in memory: the bare notification-log read of "
        "the catch-up benchmark bounds this ratio far below the target. On top come the canonical "
        "bytes, the leaf and the tree, in Python. Fix: read the events table with the driver in "
        "large pages, and hash leaves and tree in a compiled loop."
    ),
    "reports": (
        "Every report is a few indexed queries over the read models, whatever the number of loans "
        "or settled claims; the owed matrix reads the open payables through a partial index. What "
        "grows is the owed matrix's answer: one line per claim and pair of parties with a debt still "
        "open (tens of kilobytes here), each built into the JSON answer in Python. Fix: page the "
        "per-claim lines (the totals and net positions are what a fund manager reads first)."
    ),
}
