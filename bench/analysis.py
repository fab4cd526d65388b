"""What the profiles of a missed target show, and what would fix it. The report prints the
paragraph under a benchmark whose target was missed in that run, above the profile itself."""

from __future__ import annotations

BOTTLENECKS: dict[str, str] = {
    "commands": (
        "Half of a command is the save the baseline also makes. The rest is what the baseline "
        "skips: the rule checks, creating the events (the event's dataclass, `mutate`), the cache "
        "lookups and, every 100 events of the scheme, its snapshot. Group commit does not help "
        "here: the benchmark issues one command at a time."
    ),
    "tape": (
        "Per row, in CPU (py-spy, 100,000 rows, SQLite): reading and checking the CSV 5.5 µs, the "
        "review (USCC, references, the scheme's rules, the Enrolled event, its uuid5 id) 8.3 µs, "
        "encoding 3.9 µs, the SQLite insert 6.5 µs. The baseline inserts the same rows' tuples "
        "from C in about 3 µs a row, CSV included, so 0.2× leaves 15 µs a row for everything: "
        "the ledger's insert alone (a 680-byte row under a random-UUID primary key) is half of "
        "that. What is left: the uuid5 of each loan's id (10%) and `Money.parse` (4%) in Python, "
        "and an insert of many rows per statement, which the library's recorder does not offer "
        "(`executemany` measured 0.06 s better on 100,000). On PostgreSQL, where the round trips "
        "dominate the baseline, the target is met."
    ),
    "catch-up": (
        "Catch-up writes about six rows per event (the read models, the Merkle leaf and its "
        "interior nodes, the audit index row with three indexes and a row per party), where the "
        "baseline only reads. Timed by phase on SQLite: writing the batches 42% (SQLite's own "
        "`executemany` and commits, about 4 s for a million rows), the audit model 17%, decoding "
        "8% (compiled, each class looked up once a batch), the loan model 9%, reading the log "
        "(the baseline's own work) 8%: with every line of Python removed, SQLite's inserts alone "
        "would hold the ratio near 0.16×. On PostgreSQL (profile below) the binary COPY of the "
        "rows and the commit are 44%, applying the events to the models 28% (the audit index and "
        "Merkle tree 17%), decoding 17%, the log read 8%. Reaching 0.25× needs fewer rows or "
        "indexes written per event (the audit index, which the verifiers read, is the widest) or "
        "the writes in another process; a second writing thread was tried and was slower, since "
        "`executemany` takes the GIL back for every row."
    ),
    "api": (
        "The ledger runs as deployed: the projection runner in its own process (in the server's "
        "process it takes a third of the CPU: the figures beside). On SQLite the targets are met: "
        "server CPU per claim is about 0.75 ms against the bare endpoint's 0.29 ms (the ledger's "
        "work proper, the loan read in one query per batch, the rules, the events and the save, "
        "about 0.3 ms; FastAPI's routing and dependency resolution the rest). On PostgreSQL the "
        "one writer of a process waits on the server (profile below: half the samples are in "
        "the writer, most of them in psycopg waiting): a batch's reads (its loans and claims, "
        "then the check that nothing read has moved, one query each) and its save under the "
        "events table's lock with its commit, one after the other, while the next batch queues. "
        "Next: run the next batch while the previous one commits (a second stage in the "
        "pipeline, its save waiting for the first's commit), so that the round trips overlap."
    ),
    "history": (
        "The large store's commands read their aggregates from snapshots and the cache as the "
        "small one's do; a difference here is the store's indexes no longer fitting in memory."
    ),
    "audit verify": (
        "Verify makes four SHA-256 a event (its state, its leaf, a node in the log's tree and one "
        "in its scheme's tree) where the floor makes one, and each costs 0.25-0.45 µs in Python; "
        "by CPU alone verify is about 0.44× the floor on SQLite (3.5 µs an event against 1.5 µs). "
        "It reaches 0.5× when the reading thread (the recorded leaves, a page ahead) has a core "
        "of its own, which on this 2-core machine it often does not. Left: checking the leaf "
        "positions in SQL rather than in Python (about 2%)."
    ),
    "reports": (
        "Every report is a few indexed queries over the read models, whatever the number of loans "
        "or settled claims; the owed matrix reads the open payables through a partial index. What "
        "grows is the owed matrix's answer: one line per claim and pair of parties with a debt still "
        "open (tens of kilobytes here), each built into the JSON answer in Python. Fix: page the "
        "per-claim lines (the totals and net positions are what a fund manager reads first)."
    ),
}
