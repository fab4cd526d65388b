"""Backups of an SQLite ledger, taken online, and their restore.

A backup is a folder: the events file, the read models file and the tree-head signing key,
each copied with SQLite's online backup (consistent while the ledger keeps working). PostgreSQL
is backed up with its own tools (README: pg_dump / pg_restore).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from riskpool.settings import Settings

EVENTS, READ_MODELS, KEY, MANIFEST = "events.db", "projections.db", "audit-key", "manifest.json"


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
    }


def backup(settings: Settings, target: Path) -> dict[str, object]:
    files = _files(settings)
    if not files[EVENTS].exists():
        raise BackupRefused(f"there is no ledger at {files[EVENTS]}")
    target.mkdir(parents=True, exist_ok=False)
    for name in (EVENTS, READ_MODELS):
        if files[name].exists():
            with sqlite3.connect(files[name]) as source, sqlite3.connect(target / name) as copy:
                source.backup(copy)
    if files[KEY].exists():
        shutil.copy2(files[KEY], target / KEY)
        (target / KEY).chmod(0o600)
    with sqlite3.connect(target / EVENTS) as copy:
        events = copy.execute("SELECT MAX(rowid) FROM stored_events").fetchone()[0] or 0
    manifest = {"taken_at": datetime.now(tz=UTC).isoformat(), "events": events, "from": str(files[EVENTS])}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return manifest


def restore(settings: Settings, source: Path, *, force: bool) -> dict[str, object]:
    files = _files(settings)
    manifest = json.loads((source / MANIFEST).read_text())
    present = [str(p) for p in files.values() if p.exists()]
    if present and not force:
        raise BackupRefused(f"{', '.join(present)} exist; restore over them only with --force")
    for name, path in files.items():
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        if (source / name).exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, path)
    if files[KEY].exists():
        files[KEY].chmod(0o600)
    return manifest
