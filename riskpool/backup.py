"""Backups of an SQLite ledger, taken online, and their restore.

A backup is a folder: the events file and the read models file, each copied with SQLite's online
backup (consistent while the ledger keeps working). The tree-head signing key and the signer's
record of heads stay out unless asked for (`include_key`): whoever holds a copy of the database and
of the key could sign a rewritten history, so the two are kept apart. PostgreSQL is backed up with
its own tools (README: pg_dump / pg_restore).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from riskpool.settings import Settings

EVENTS, READ_MODELS, KEY, RECORD, MANIFEST = (
    "events.db",
    "projections.db",
    "audit-key",
    "audit-key.heads",
    "manifest.json",
)


class BackupRefused(Exception):
    pass


def _files(settings: Settings) -> dict[str, Path]:
    if not settings.is_sqlite:
        raise BackupRefused("this store is PostgreSQL: back it up with pg_dump (see the README)")
    read_models = settings.read_models_url()
    if not read_models.startswith("sqlite:///"):
        raise BackupRefused("the read models are not in an SQLite file")
    key = settings.audit_key_path()
    assert key is not None
    return {
        EVENTS: settings.sqlite_path(),
        READ_MODELS: Path(read_models.removeprefix("sqlite:///")),
        KEY: key,
        RECORD: key.with_name(key.name + ".heads"),
    }


def backup(settings: Settings, target: Path, *, include_key: bool = False) -> dict[str, object]:
    files = _files(settings)
    if not files[EVENTS].exists():
        raise BackupRefused(f"there is no ledger at {files[EVENTS]}")
    target.mkdir(parents=True, exist_ok=False, mode=0o700)
    for name in (EVENTS, READ_MODELS):
        if files[name].exists():
            _private(target / name)
            with sqlite3.connect(files[name]) as source, sqlite3.connect(target / name) as copy:
                source.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    for name in (KEY, RECORD) if include_key else ():
        if files[name].exists():
            _private(target / name)
            shutil.copyfile(files[name], target / name)
    with sqlite3.connect(target / EVENTS) as copy:
        events = copy.execute("SELECT MAX(rowid) FROM stored_events").fetchone()[0] or 0
    manifest = {
        "taken_at": datetime.now(tz=UTC).isoformat(),
        "events": events,
        "from": str(files[EVENTS]),
        "signing_key_included": include_key,
    }
    _private(target / MANIFEST)
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return manifest


def _private(path: Path) -> None:
    """Make the file, empty, readable by its owner only, before anything is written to it."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def restore(settings: Settings, source: Path, *, force: bool) -> dict[str, object]:
    files = _files(settings)
    manifest = json.loads((source / MANIFEST).read_text())
    replaced = {n: p for n, p in files.items() if n not in (KEY, RECORD) or (source / n).exists()}
    present = [str(p) for p in replaced.values() if p.exists()]
    if present and not force:
        raise BackupRefused(f"{', '.join(present)} exist; restore over them only with --force")
    for name, path in replaced.items():  # a backup without the key leaves the signer as it is
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        if (source / name).exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _private(path)
            shutil.copyfile(source / name, path)
    return manifest
