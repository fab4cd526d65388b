"""Signed tree heads: the ledger's attestation of the log's size, Merkle root and scheme index.

The model is Certificate Transparency's: whoever runs the database is not trusted. The signer
keeps, beside its key and outside the database, every head it signed (`<key file>.heads`), and
signs a new head only for a tree that a consistency proof shows extends the last of them. Heads
form a chain (each names the hash of the one before and has the next sequence number), so a
deleted head leaves a gap that is found and named. A tree that does not extend the last head is
refused, unless the operator starts a new chain, with a reason the head carries and `audit verify`
reports. A key rotation is a head signed by the new key and endorsed by the old one.

Tree heads are evidence, not a projection: a rebuild of the read models never drops them.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import BigInteger, Column, Engine, MetaData, String, Table, func, insert, select
from sqlalchemy.engine import Connection

from projections.audit.merkle import Tree, scheme_roots
from tools.verify_export import head_hash, head_message, head_signed, schemes_root, verify_consistency

attestations = MetaData()
signed_heads = Table(
    "rp_signed_heads",
    attestations,
    Column("sequence", BigInteger, primary_key=True),
    Column("previous", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("root", String(64), nullable=False),
    Column("schemes_root", String(64), nullable=False),
    Column("sealed_at", String(40), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("previous_key", String(64)),
    Column("endorsement", String(128)),
    Column("new_chain_reason", String(2000)),
)
HEADS_PAGE_MAX = 500


class AuditKeyExposed(Exception):
    """The signing key's file can be read by others than its owner."""


class SealRefused(Exception):
    """The tree does not extend the last head the signer signed; nothing was signed."""


@dataclass(frozen=True)
class TreeHead:
    sequence: int
    previous: str
    size: int
    root: str
    schemes_root: str
    sealed_at: str
    public_key: str
    signature: str
    previous_key: str | None = None
    endorsement: str | None = None
    new_chain_reason: str | None = None

    def message(self) -> bytes:
        return head_message(self.as_dict())

    def hash(self) -> str:
        return head_hash(self.as_dict())

    def verifies(self) -> bool:
        return head_signed(self.as_dict())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def of(cls, data: dict[str, Any]) -> TreeHead:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})

    def __str__(self) -> str:
        return f"head #{self.sequence} (size {self.size}, sealed at {self.sealed_at})"


BLOCK_LEVEL = 5  # the signer also keeps the root of every 32 events, to locate a difference
BLOCK_EVENTS = 1 << BLOCK_LEVEL


class HeadLog:
    """An append-only file of tree heads, one JSON line each, written through to the disk. The
    signer's own record also keeps, on each head's line, the root of each block of 32 events the
    head added (`blocks_from`, `blocks`): with them `verify` names the 32 events where a history
    that no longer matches its heads first differs, trusting nothing in the database."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[TreeHead]:
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as lines:
            return [TreeHead.of(json.loads(line)) for line in lines if line.strip()]

    def last(self) -> TreeHead | None:
        """The last head, read from the end of the file (the file only grows)."""
        if not self.path.exists():
            return None
        with self.path.open("rb") as file:
            end = file.seek(0, os.SEEK_END)
            step, tail = 4096, b""
            while end > 0:
                start = max(0, end - step)
                file.seek(start)
                tail = file.read(end - start) + tail
                end = start
                lines = [line for line in tail.split(b"\n") if line.strip()]
                if len(lines) > 1 or (lines and start == 0):
                    return TreeHead.of(json.loads(lines[-1]))
        return None

    def blocks(self) -> dict[int, str]:
        """The root of each block of 32 events, as the heads were signed (a new chain's override)."""
        found: dict[int, str] = {}
        if self.path.exists():
            with self.path.open(encoding="utf-8") as lines:
                for line in lines:
                    if line.strip():
                        kept = json.loads(line)
                        first = kept.get("blocks_from", 0)
                        found.update(enumerate(kept.get("blocks", []), start=first))
        return found

    def append(self, head: TreeHead, blocks: tuple[int, list[str]] | None = None) -> None:
        line = head.as_dict() | ({"blocks_from": blocks[0], "blocks": blocks[1]} if blocks else {})
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as file:
            file.write(json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n")
            file.flush()
            os.fsync(file.fileno())


class Signer:
    """The Ed25519 key that signs tree heads, and its record of every head it signed.

    `record` is the file beside the key (None: kept in memory, for a ledger in memory); `copies`
    are more files that get every head too (RISKPOOL_AUDIT_HEADS_FILE, on write-once storage).
    """

    def __init__(
        self, key: Ed25519PrivateKey, record: HeadLog | None, copies: tuple[HeadLog, ...] = ()
    ) -> None:
        self.key = key
        self.public_hex = _public_hex(key)
        self.record, self.copies = record, copies
        self._in_memory: list[TreeHead] = []
        self._in_memory_blocks: dict[int, str] = {}
        self.lock = threading.Lock()

    @classmethod
    def from_file(cls, path: Path, *, copies: tuple[Path, ...] = ()) -> Signer:
        """The key in `path` (32 raw bytes, hex), made readable by its owner only if missing; its
        record of heads is `<path>.heads`. Refused if group or others can read either."""
        record = HeadLog(path.with_name(path.name + ".heads"))
        _finish_rotation(path, record)
        if not path.exists():
            _write_key(path, Ed25519PrivateKey.generate())
        for secret in (path, record.path):
            _require_private(secret)
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(path.read_text().strip()))
        return cls(key, record, tuple(HeadLog(p) for p in copies))

    @classmethod
    def ephemeral(cls) -> Signer:
        """A key and a record for this process only (a ledger in memory, tests)."""
        return cls(Ed25519PrivateKey.generate(), None)

    def sign(self, message: bytes) -> str:
        return self.key.sign(message).hex()

    def signed(self) -> list[TreeHead]:
        """Every head this signer signed, oldest first."""
        return self.record.read() if self.record is not None else list(self._in_memory)

    def last(self) -> TreeHead | None:
        if self.record is None:
            return self._in_memory[-1] if self._in_memory else None
        return self.record.last()

    def blocks(self) -> dict[int, str]:
        """The root of each block of 32 events, as signed (see HeadLog)."""
        return self.record.blocks() if self.record is not None else dict(self._in_memory_blocks)

    def keep(self, head: TreeHead, blocks: tuple[int, list[str]]) -> None:
        """Record a head before it is stored anywhere else: the signer's record is the authority."""
        if self.record is None:
            self._in_memory.append(head)
            self._in_memory_blocks.update(enumerate(blocks[1], start=blocks[0]))
        else:
            self.record.append(head, blocks)
        for copy in self.copies:
            copy.append(head)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """One seal at a time: across threads, and across processes sharing the record."""
        with self.lock:
            if self.record is None:
                yield
                return
            descriptor = os.open(
                self.record.path.with_name(self.record.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600
            )
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                yield
            finally:
                os.close(descriptor)


def rotate_key_file(engine: Engine, signer: Signer, path: Path) -> TreeHead:
    """Replace the key in `path` by a new one: the new key's first head is endorsed by the old key,
    then the new key takes the old one's place (a crash in between is finished on the next start)."""
    pending = path.with_name(path.name + ".new")
    new_key = Ed25519PrivateKey.generate()
    pending.unlink(missing_ok=True)
    _write_key(pending, new_key)
    head = rotate_key(engine, signer, new_key)
    os.replace(pending, path)
    signer.key, signer.public_hex = new_key, _public_hex(new_key)
    return head


def _finish_rotation(path: Path, record: HeadLog) -> None:
    """A rotation interrupted after its head was recorded is finished; one interrupted before is
    forgotten (its new key signed nothing)."""
    pending = path.with_name(path.name + ".new")
    if not pending.exists():
        return
    new_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(pending.read_text().strip()))
    last = record.last()
    if last is not None and last.public_key == _public_hex(new_key):
        os.replace(pending, path)
    else:
        pending.unlink()


def _public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def _write_key(path: Path, key: Ed25519PrivateKey) -> None:
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(seed.hex())
        file.flush()
        os.fsync(file.fileno())


def _require_private(path: Path) -> None:
    if path.exists() and stat.S_IMODE(path.stat().st_mode) & 0o077:
        mode = stat.S_IMODE(path.stat().st_mode)
        raise AuditKeyExposed(
            f"{path} is readable by others than its owner (mode {mode:04o}): anyone who can read it can "
            f"sign tree heads. Run `chmod 600 {path}` and keep it out of version control and backups."
        )


# --- Sealing ---


def seal(engine: Engine, signer: Signer, *, new_chain_reason: str | None = None) -> TreeHead | None:
    """Sign a head of the tree as the tables hold it now; None while the log is empty.

    Refused (SealRefused, nothing signed) when the store's heads are not the signer's, or the tree
    does not extend the last head the signer signed, unless `new_chain_reason` starts a new chain:
    then the signer's heads the store lost are stored again, and the new head carries the reason.
    """
    with signer.exclusive(), engine.begin() as conn:
        tree = Tree(conn)
        if tree.size == 0:
            return None
        last = signer.last()
        if new_chain_reason is None:
            _require_store_heads_match(conn, last)
            if last is not None:
                _require_extends(tree, last)
                if last.size == tree.size:
                    return last
        else:
            _store_missing(conn, signer.signed())
        head = _unsigned(signer.public_hex, last, _next_sequence(conn, last), tree, conn, new_chain_reason)
        head = replace(head, signature=signer.sign(head.message()))
        signer.keep(head, _blocks(tree, 0 if new_chain_reason or last is None else last.size))
        conn.execute(insert(signed_heads).values(**head.as_dict()))
        return head


def rotate_key(engine: Engine, signer: Signer, new_key: Ed25519PrivateKey) -> TreeHead:
    """A head of the current tree signed by `new_key` and endorsed by the signer's key (so that a
    verifier who pinned the old key can follow); the caller then replaces the key file."""
    with signer.exclusive(), engine.begin() as conn:
        tree = Tree(conn)
        last = signer.last()
        _require_store_heads_match(conn, last)
        if last is not None:
            _require_extends(tree, last)
        head = _unsigned(_public_hex(new_key), last, _next_sequence(conn, last), tree, conn, None)
        head = replace(head, previous_key=signer.public_hex)
        head = replace(
            head, signature=new_key.sign(head.message()).hex(), endorsement=signer.sign(head.message())
        )
        signer.keep(head, _blocks(tree, last.size if last else 0))
        conn.execute(insert(signed_heads).values(**head.as_dict()))
        return head


def _blocks(tree: Tree, since: int) -> tuple[int, list[str]]:
    """The roots of the blocks of 32 events completed since the tree had `since` events."""
    first, end = since // BLOCK_EVENTS, tree.size // BLOCK_EVENTS
    found = tree.nodes(BLOCK_LEVEL, first, end)
    if len(found) != end - first:
        raise SealRefused("the stored tree has lost interior nodes: the audit tables were altered")
    return first, [found[i].hex() for i in range(first, end)]


def _unsigned(
    public_key: str, last: TreeHead | None, sequence: int, tree: Tree, conn: Connection, reason: str | None
) -> TreeHead:
    return TreeHead(
        sequence=sequence,
        previous=last.hash() if last else "",
        size=tree.size,
        root=tree.root().hex(),
        schemes_root=schemes_root(scheme_roots(conn)).hex(),
        sealed_at=datetime.now(tz=UTC).isoformat(timespec="microseconds"),
        public_key=public_key,
        signature="",
        new_chain_reason=reason,
    )


def _next_sequence(conn: Connection, last: TreeHead | None) -> int:
    newest = conn.execute(select(func.max(signed_heads.c.sequence))).scalar() or 0
    return max(newest, last.sequence if last else 0) + 1


def _require_store_heads_match(conn: Connection, last: TreeHead | None) -> None:
    """The store holds exactly the heads the signer signed, #1 to its last. The last alone may be
    missing (a crash between recording it and storing it): it is stored again."""
    newest, count = conn.execute(select(func.max(signed_heads.c.sequence), func.count())).one()
    newest = newest or 0
    if last is None:
        if count:
            raise SealRefused(
                f"the store holds {count} tree head(s), up to #{newest}, that this signer has no record "
                "of: its record was lost or replaced. If so, start a new chain (--new-chain --reason …)."
            )
        return
    if newest > last.sequence:
        raise SealRefused(
            f"the store holds head #{newest}, which this signer did not sign (its last is #{last.sequence})"
        )
    if count == last.sequence - 1 and newest == last.sequence - 1:
        conn.execute(insert(signed_heads).values(**last.as_dict()))
        return
    if count != last.sequence:
        present = {r.sequence for r in conn.execute(select(signed_heads.c.sequence))}
        missing = [n for n in range(1, last.sequence + 1) if n not in present]
        raise SealRefused(
            f"the store has lost tree head(s) {_ranges(missing)} of the {last.sequence} this signer signed: "
            "the heads were deleted"
        )
    stored = conn.execute(select(signed_heads).where(signed_heads.c.sequence == last.sequence)).first()
    if TreeHead.of(dict(stored._mapping)) != last:  # type: ignore[union-attr]
        raise SealRefused(f"the store's tree head #{last.sequence} is not the one this signer signed")


def _store_missing(conn: Connection, signed: list[TreeHead]) -> None:
    """Store again the signer's heads the store has lost (a new chain keeps the old one on record)."""
    present = {r.sequence for r in conn.execute(select(signed_heads.c.sequence))}
    for head in signed:
        if head.sequence not in present:
            conn.execute(insert(signed_heads).values(**head.as_dict()))


def _require_extends(tree: Tree, last: TreeHead) -> None:
    """CT's rule: sign only a tree that a consistency proof shows extends the last signed head."""
    if tree.size < last.size:
        raise SealRefused(
            f"the store's tree has {tree.size} events, fewer than the {last.size} of {last}: "
            "events were removed, or the store was restored from an older backup"
        )
    proof = tree.consistency(last.size, tree.size)
    if not verify_consistency(last.size, tree.size, bytes.fromhex(last.root), tree.root(), proof):
        raise SealRefused(f"the store's tree does not extend {last}: its first {last.size} events differ")


def _ranges(numbers: list[int]) -> str:
    spans: list[str] = []
    start = previous = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == previous + 1:
            previous = n
            continue
        spans.append(f"#{start}" if start == previous else f"#{start}–#{previous}")
        if n is not None:
            start = previous = n
    return ", ".join(spans)


def heads(engine: Engine, *, after_sequence: int = 0, limit: int | None = None) -> list[TreeHead]:
    query = (
        select(signed_heads).where(signed_heads.c.sequence > after_sequence).order_by(signed_heads.c.sequence)
    )
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as conn:
        return [TreeHead.of(dict(row._mapping)) for row in conn.execute(query)]


def latest(engine: Engine) -> TreeHead | None:
    with engine.connect() as conn:
        row = conn.execute(select(signed_heads).order_by(signed_heads.c.sequence.desc()).limit(1)).first()
    return None if row is None else TreeHead.of(dict(row._mapping))
