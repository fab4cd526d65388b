#!/usr/bin/env python3
"""Verify a riskpool-ledger audit export, with the Python standard library alone.

    python verify_export.py EXPORT.jsonl [--public-key HEX] [--digest TREE_HEAD.json]

An export is JSON Lines: one line per event, then the signed tree head it was taken at. Each event
line carries its position in the log, its aggregate id and version, its type (topic), its stored
state (hex) and the leaf hash of RFC 9162 (SHA-256 of 0x00 followed by the event's canonical
bytes). This tool recomputes every leaf hash from the line's own fields, then the Merkle tree head
from the leaves (a whole-log export) or each leaf's inclusion proof (a one-scheme export), and
checks the tree head's Ed25519 signature (this needs the `cryptography` package). With --digest it
also proves that the exported log extends a tree head you kept earlier (a consistency proof).

The ledger itself hashes and verifies with the functions of this file, so what you run here is
what it runs. Exit status: 0 verified; 1 a check failed (the first failure is printed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Sequence

LEAF, NODE = b"\x00", b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def canonical_bytes(position: int, originator_id: bytes, version: int, topic: str, state: bytes) -> bytes:
    """The bytes a leaf hashes: position, aggregate id, version, topic and state, length-prefixed."""
    assert len(originator_id) == 16, "an aggregate id is a 16-byte UUID"
    encoded = topic.encode("utf-8")
    return (
        position.to_bytes(8, "big")
        + originator_id
        + version.to_bytes(8, "big")
        + len(encoded).to_bytes(4, "big")
        + encoded
        + len(state).to_bytes(4, "big")
        + state
    )


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    assert n > 1
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH of RFC 9162 §2.1.1 over leaf hashes (the empty tree hashes the empty string)."""
    if not leaves:
        return EMPTY_ROOT
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


class Frontier:
    """The right edge of a growing Merkle tree: the root at any size in O(log n) memory."""

    def __init__(self) -> None:
        self.size = 0
        self.peaks: list[bytes] = []  # complete subtrees, largest first

    def append(self, leaf: bytes) -> None:
        self.peaks.append(leaf)
        size = self.size
        while size & 1:
            right = self.peaks.pop()
            self.peaks[-1] = node_hash(self.peaks[-1], right)
            size >>= 1
        self.size += 1

    def root(self) -> bytes:
        if not self.peaks:
            return EMPTY_ROOT
        result = self.peaks[-1]
        for peak in reversed(self.peaks[:-1]):
            result = node_hash(peak, result)
        return result


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], expected_root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: is `leaf` at `index` of the tree of `size` leaves with `expected_root`?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: does the tree of `size2` leaves extend the one of `size1`, unchanged?"""
    if size1 == size2:
        return root1 == root2 and not proof
    if not 0 < size1 < size2 or not proof:
        return size1 == 0 and not proof
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 is a power of two: its root starts the proof
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root1 and sr == root2


def tree_head_message(size: int, root_hex: str, sealed_at: str) -> bytes:
    """What a tree head's signature signs."""
    return json.dumps(
        {"size": size, "root": root_hex, "sealed_at": sealed_at}, sort_keys=True, separators=(",", ":")
    ).encode()


def verify_signature(public_key_hex: str, message: bytes, signature_hex: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(
            bytes.fromhex(signature_hex), message
        )
    except (InvalidSignature, ValueError):
        return False
    return True


class Failed(Exception):
    """A check failed; the message says which and where."""


def check_line(number: int, line: dict) -> bytes:
    data = canonical_bytes(
        line["position"],
        bytes.fromhex(line["originator_id"]),
        line["version"],
        line["topic"],
        bytes.fromhex(line["state_hex"]),
    )
    leaf = leaf_hash(data)
    if leaf.hex() != line["leaf_hash"]:
        raise Failed(f"line {number} (position {line['position']}): its fields do not hash to its leaf_hash")
    return leaf


def verify(lines: Iterable[str], public_key: str | None = None, digest: dict | None = None) -> str:
    events, head = [], None
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        item = json.loads(text)
        if item.get("record") == "tree_head":
            head = item
        else:
            events.append((number, item))
    if head is None:
        raise Failed("the export has no tree head")
    if public_key is not None:
        message = tree_head_message(head["size"], head["root"], head["sealed_at"])
        if public_key != head["public_key"] or not verify_signature(public_key, message, head["signature"]):
            raise Failed("the tree head's signature does not verify with the given public key")
    leaves = [check_line(number, item) for number, item in events]
    if head.get("complete"):
        if len(leaves) != head["size"]:
            raise Failed(f"the export has {len(leaves)} events; its tree head covers {head['size']}")
        if root(leaves).hex() != head["root"]:
            raise Failed("the events' Merkle root is not the tree head's root")
    else:
        for (number, item), leaf in zip(events, leaves, strict=True):
            path = [bytes.fromhex(h) for h in item["inclusion_proof"]]
            if not verify_inclusion(
                item["leaf_index"], head["size"], leaf, path, bytes.fromhex(head["root"])
            ):
                raise Failed(f"line {number} (position {item['position']}) is not in the tree head's tree")
    if digest is not None:
        proof = [bytes.fromhex(h) for h in head.get("consistency_from", {}).get(str(digest["size"]), [])]
        if not verify_consistency(
            digest["size"], head["size"], bytes.fromhex(digest["root"]), bytes.fromhex(head["root"]), proof
        ):
            raise Failed(f"the exported log does not extend the digest of size {digest['size']}")
    return f"verified {len(leaves)} events against the tree head of size {head['size']}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export")
    parser.add_argument(
        "--public-key", help="the ledger's Ed25519 public key, hex (GET /v1/audit/public-key)"
    )
    parser.add_argument("--digest", help="a tree head you kept earlier (JSON)")
    args = parser.parse_args(argv)
    digest = None
    if args.digest:
        with open(args.digest, encoding="utf-8") as kept:
            digest = json.load(kept)
    try:
        with open(args.export, encoding="utf-8") as lines:
            print(verify(lines, args.public_key, digest))
    except Failed as failure:
        print(f"FAILED: {failure}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
