"""Signed tree heads: the ledger's attestation of the log's size and Merkle root at a moment.

Tree heads are evidence, not a projection: a rebuild of the read models never drops them, and a
regulator who kept one can later prove that the log only grew from it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import BigInteger, Column, Engine, MetaData, String, Table, insert, select

from projections.audit.merkle import Tree
from tools.verify_export import tree_head_message, verify_signature

attestations = MetaData()
tree_heads = Table(
    "rp_tree_heads",
    attestations,
    Column("size", BigInteger, primary_key=True),
    Column("root", String(64), nullable=False),
    Column("sealed_at", String(40), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("public_key", String(64), nullable=False),
)


class Signer:
    """An Ed25519 key that signs tree heads."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self.key = key
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.public_hex = raw.hex()

    @classmethod
    def from_file(cls, path: Path) -> Signer:
        """The key in `path` (32 raw bytes, hex); made, readable by its owner only, if missing."""
        if not path.exists():
            key = Ed25519PrivateKey.generate()
            seed = key.private_bytes(
                serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
            )
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(seed.hex())
        return cls(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(path.read_text().strip())))

    @classmethod
    def ephemeral(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    def sign(self, message: bytes) -> str:
        return self.key.sign(message).hex()


@dataclass(frozen=True)
class TreeHead:
    size: int
    root: str
    sealed_at: str
    signature: str
    public_key: str

    def message(self) -> bytes:
        return tree_head_message(self.size, self.root, self.sealed_at)

    def verifies(self) -> bool:
        return verify_signature(self.public_key, self.message(), self.signature)

    def as_dict(self) -> dict[str, object]:
        return {
            "size": self.size,
            "root": self.root,
            "sealed_at": self.sealed_at,
            "signature": self.signature,
            "public_key": self.public_key,
        }


def seal(engine: Engine, signer: Signer) -> TreeHead | None:
    """Sign the tree as the projections hold it now; None while the log is empty."""
    with engine.begin() as conn:
        tree = Tree(conn)
        if tree.size == 0:
            return None
        existing = conn.execute(select(tree_heads).where(tree_heads.c.size == tree.size)).first()
        if existing is not None:
            return TreeHead(**existing._mapping)
        root = tree.root().hex()
        sealed_at = datetime.now(tz=UTC).isoformat(timespec="microseconds")
        head = TreeHead(
            tree.size,
            root,
            sealed_at,
            signer.sign(tree_head_message(tree.size, root, sealed_at)),
            signer.public_hex,
        )
        conn.execute(insert(tree_heads).values(**head.as_dict()))
        return head


def heads(engine: Engine) -> list[TreeHead]:
    with engine.connect() as conn:
        return [
            TreeHead(**row._mapping) for row in conn.execute(select(tree_heads).order_by(tree_heads.c.size))
        ]


def latest(engine: Engine) -> TreeHead | None:
    with engine.connect() as conn:
        row = conn.execute(select(tree_heads).order_by(tree_heads.c.size.desc()).limit(1)).first()
    return None if row is None else TreeHead(**row._mapping)
