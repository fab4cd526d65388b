#!/usr/bin/env python3
"""Verify a riskpool-ledger audit export, with the Python standard library alone.

    python verify_export.py EXPORT.jsonl --public-key HEX [--digest TREE_HEAD.json] [--unsigned-ok]

An export is JSON Lines: one line per event, then the signed tree head it was taken at. Each event
line carries its position in the log, its aggregate id and version, its type (topic), its stored
state (hex), the readable fields (state, fact, actor, business date, recorded time) and the leaf
hash of RFC 9162 (SHA-256 of 0x00 followed by the event's canonical bytes, which commit to the
state's SHA-256). An event whose state holds a secret (an API key's hash) is exported with that
digest in place of its state.

This tool checks that every readable field says what the stored bytes say, recomputes every leaf,
and then:
- for a whole-log export, that the lines are the log from its first event, none missing, repeated
  or moved, and that they hash to the tree head's root and, grouped by scheme, to its scheme index;
- for a one-scheme export, that the lines are every event of that scheme, in order, none missing,
  repeated or moved (the tree head commits to each scheme's own event count and Merkle root), and
  that each is at its position of the whole log (an inclusion proof);
- the tree head's Ed25519 signature with the public key you pinned (this needs the `cryptography`
  package), following the ledger's key rotations, each endorsed by the key before it;
- with --digest, that the exported log extends a tree head you kept earlier (a consistency proof).

Without --public-key nothing proves who made the export: the tool says "signature not checked" and
exits 1 unless you pass --unsigned-ok. The ledger itself hashes and verifies with the functions of
this file, so what you run here is what it runs. Exit status: 0 verified; 1 a check failed (the
first failure is printed, naming the line).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

LEAF, NODE = b"\x00", b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
HEAD_FORMAT = 2
NO_SCHEME = ""  # the group of the events that belong to no scheme (parties, keys)


def canonical_bytes(position: int, originator_id: bytes, version: int, topic: str, state: bytes) -> bytes:
    """The bytes a leaf hashes: position, aggregate id, version, topic and the SHA-256 of the
    stored state, length-prefixed. (The state's digest, not the state: an export can then withhold
    a state that holds a secret and still prove its place in the log.)"""
    return digest_bytes(position, originator_id, version, topic, hashlib.sha256(state).digest())


def digest_bytes(position: int, originator_id: bytes, version: int, topic: str, state_sha256: bytes) -> bytes:
    assert len(originator_id) == 16, "an aggregate id is a 16-byte UUID"
    assert len(state_sha256) == 32, "a state's digest is SHA-256"
    encoded = topic.encode("utf-8")
    return (
        position.to_bytes(8, "big")
        + originator_id
        + version.to_bytes(8, "big")
        + len(encoded).to_bytes(4, "big")
        + encoded
        + state_sha256
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
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


class Frontier:
    """The right edge of a growing Merkle tree: the root at any size in O(log n) memory."""

    def __init__(self, size: int = 0, peaks: list[bytes] | None = None) -> None:
        self.size = size
        self.peaks: list[bytes] = peaks or []  # complete subtrees, largest first

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


# --- The scheme index: each scheme's own tree, committed to by every tree head. ---


def scheme_entry(scheme_id: str, size: int, root_hex: str) -> bytes:
    """The leaf of one scheme in the scheme index: its id, its number of events and their root."""
    entry = {"root": root_hex, "scheme": scheme_id, "size": size}
    return leaf_hash(json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())


def scheme_entries(trees: Mapping[str, tuple[int, str]]) -> list[tuple[str, bytes]]:
    """The scheme index's leaves, in the order of the scheme ids."""
    return [(scheme, scheme_entry(scheme, size, r)) for scheme, (size, r) in sorted(trees.items())]


def schemes_root(trees: Mapping[str, tuple[int, str]]) -> bytes:
    return root([entry for _, entry in scheme_entries(trees)])


# --- Tree heads: signed, chained, and endorsed across key rotations. ---


def head_message(head: Mapping[str, Any]) -> bytes:
    """What a tree head's signature (and a rotation's endorsement) signs: its place in the chain of
    heads, the tree and scheme index it attests, the key that signs it and the key before it, and,
    when it starts a new chain, the operator's reason."""
    fields = {
        "v": HEAD_FORMAT,
        "sequence": head["sequence"],
        "previous": head["previous"],
        "size": head["size"],
        "root": head["root"],
        "schemes_root": head["schemes_root"],
        "sealed_at": head["sealed_at"],
        "public_key": head["public_key"],
        "previous_key": head.get("previous_key"),
        "new_chain_reason": head.get("new_chain_reason"),
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def head_hash(head: Mapping[str, Any]) -> str:
    """The hash by which the next head names this one (`previous`)."""
    return hashlib.sha256(head_message(head)).hexdigest()


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


def head_signed(head: Mapping[str, Any]) -> bool:
    """The head's signature verifies with the key it names."""
    return verify_signature(head["public_key"], head_message(head), head["signature"])


def rotation_endorsed(head: Mapping[str, Any]) -> bool:
    """A head that changes the key is also signed by the key before it."""
    previous = head.get("previous_key")
    return bool(previous) and verify_signature(previous, head_message(head), head.get("endorsement") or "")


def key_path(pinned: str, head: Mapping[str, Any], rotations: Sequence[Mapping[str, Any]]) -> str | None:
    """None when `head`'s key is `pinned` or follows from it through endorsed rotations; else why not."""
    key = pinned
    for rotation in rotations:
        if key == head["public_key"]:
            break
        if rotation.get("previous_key") != key:
            continue
        if not (head_signed(rotation) and rotation_endorsed(rotation)):
            return f"the rotation to key {rotation['public_key'][:16]}… is not endorsed by key {key[:16]}…"
        key = rotation["public_key"]
    if key != head["public_key"]:
        return (
            f"the tree head is signed by key {head['public_key'][:16]}…, which no endorsed rotation "
            f"links to the pinned key {pinned[:16]}…"
        )
    return None


# --- Reading the stored state the way the ledger wrote it. ---


def readable(state: bytes) -> dict[str, Any]:
    """What the readable fields of an event line must say, decoded from its stored bytes."""
    decoded = json.loads(state)

    def data(name: str) -> Any:
        value = decoded.get(name)
        return value.get("_data_") if isinstance(value, dict) else value

    actor = data("actor") or {}
    return {
        "state": decoded,
        "business_date": data("business_date"),
        "recorded_at": data("timestamp"),
        "actor": {k: actor.get(k) for k in ("principal_id", "role", "party_id", "request_id")},
    }


class Failed(Exception):
    """A check failed; the message says which and where."""


READABLE = ("state", "business_date", "recorded_at", "actor")


def check_line(number: int, line: Mapping[str, Any]) -> bytes:
    """The line's leaf, after checking that every readable field is what its stored bytes say. A
    line whose state is withheld (it holds a secret) carries only the state's SHA-256, and no
    readable field that its bytes would have to vouch for."""
    where = f"line {number} (position {line.get('position')})"
    try:
        if "state_hex" in line:
            state = bytes.fromhex(line["state_hex"])
            digest, expected = hashlib.sha256(state).digest(), readable(state)
        else:
            digest, expected = bytes.fromhex(line["state_sha256"]), {name: None for name in READABLE}
        data = digest_bytes(
            line["position"], bytes.fromhex(line["originator_id"]), line["version"], line["topic"], digest
        )
    except (KeyError, TypeError, ValueError, AssertionError) as error:
        raise Failed(f"{where} is not an event line of an export ({error})") from None
    leaf = leaf_hash(data)
    if leaf.hex() != line.get("leaf_hash"):
        raise Failed(f"{where}: its stored fields do not hash to its leaf_hash")
    if line.get("fact") != line["topic"].rsplit(".", 1)[-1]:
        raise Failed(f"{where}: fact {line.get('fact')!r} is not the stored type {line['topic']!r}")
    for name, value in expected.items():
        if line.get(name) != value:
            raise Failed(f"{where}: its readable {name} is not what the stored bytes say")
    return leaf


def _sequence_problem(number: int, line: Mapping[str, Any], field: str, expected: int, what: str) -> str:
    found = line.get(field)
    where = f"line {number} (position {line.get('position')})"
    if isinstance(found, int) and found < expected:
        return f"{where} repeats or moves {what} {found}: {expected} was expected next"
    return f"{where} has {what} {found} where {expected} was expected: a line is missing before it"


def verify(
    lines: Iterable[str],
    public_key: str | None = None,
    digest: Mapping[str, Any] | None = None,
    *,
    unsigned_ok: bool = False,
) -> str:
    """Check an export; returns what was verified, or raises Failed naming the first failure."""
    events: list[tuple[int, dict[str, Any]]] = []
    head: dict[str, Any] | None = None
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            item = json.loads(text)
        except ValueError:
            raise Failed(f"line {number} is not JSON") from None
        if head is not None:
            raise Failed(f"line {number} follows the tree head, which must be the last line")
        if item.get("record") == "tree_head":
            head = item
        else:
            events.append((number, item))
    if head is None:
        raise Failed("the export has no tree head (it must be the last line)")
    if public_key is not None:
        problem = key_path(public_key, head, head.get("rotations", []))
        if problem:
            raise Failed(problem)
        if not head_signed(head):
            raise Failed("the tree head's signature does not verify")
    leaves = [check_line(number, item) for number, item in events]
    check = _whole_log if head.get("complete") else _one_scheme
    counted = check(events, leaves, head)
    if digest is not None:
        proof = [bytes.fromhex(h) for h in head.get("consistency_from", {}).get(str(digest["size"]), [])]
        if not verify_consistency(
            digest["size"], head["size"], bytes.fromhex(digest["root"]), bytes.fromhex(head["root"]), proof
        ):
            raise Failed(f"the exported log does not extend the digest of size {digest['size']}")
    signed = "signed by the pinned key" if public_key else "signature not checked"
    if public_key is None and not unsigned_ok:
        raise Failed(
            f"signature not checked: {counted} hash to the tree head, but without --public-key "
            "anyone could have made this export (pass --unsigned-ok to accept that)"
        )
    return f"verified {counted} against the tree head of size {head['size']} ({signed})"


def _whole_log(events: list[tuple[int, dict]], leaves: list[bytes], head: Mapping[str, Any]) -> str:
    """The lines are the log from its first event: leaf indexes 0, 1, 2 … and rising positions."""
    trees: dict[str, Frontier] = {}
    last_position = 0
    for expected, ((number, line), leaf) in enumerate(zip(events, leaves, strict=True)):
        if line.get("leaf_index") != expected:
            raise Failed(_sequence_problem(number, line, "leaf_index", expected, "leaf index"))
        if line["position"] <= last_position:
            raise Failed(f"line {number}: position {line['position']} does not follow {last_position}")
        last_position = line["position"]
        trees.setdefault(line.get("scheme_id") or NO_SCHEME, Frontier()).append(leaf)
    if len(leaves) != head["size"]:
        raise Failed(
            f"the export has {len(leaves)} events; its tree head covers {head['size']}: "
            + (
                f"the lines after leaf index {len(leaves) - 1} are missing"
                if leaves
                else "every line is missing"
            )
        )
    if root(leaves).hex() != head["root"]:
        raise Failed("the events' Merkle root is not the tree head's root")
    index = {scheme: (tree.size, tree.root().hex()) for scheme, tree in trees.items()}
    if schemes_root(index).hex() != head["schemes_root"]:
        raise Failed("the events, grouped by their scheme_id, do not hash to the tree head's scheme index")
    return f"{len(leaves)} events (the whole log)"


def _one_scheme(events: list[tuple[int, dict]], leaves: list[bytes], head: Mapping[str, Any]) -> str:
    """The lines are every event of one scheme, in order, each at its place in the whole log."""
    scheme = head.get("scheme")
    if not isinstance(scheme, dict):
        raise Failed("the tree head line names no scheme, so the export cannot prove it is complete")
    for expected, ((number, line), leaf) in enumerate(zip(events, leaves, strict=True)):
        if line.get("scheme_id") != scheme["scheme_id"]:
            raise Failed(
                f"line {number} (position {line['position']}) is of scheme {line.get('scheme_id')!r}"
            )
        if line.get("scheme_index") != expected:
            raise Failed(_sequence_problem(number, line, "scheme_index", expected, "scheme index"))
        path = [bytes.fromhex(h) for h in line.get("inclusion_proof", [])]
        if not verify_inclusion(line["leaf_index"], head["size"], leaf, path, bytes.fromhex(head["root"])):
            raise Failed(f"line {number} (position {line['position']}) is not in the tree head's tree")
    if len(leaves) != scheme["size"]:
        raise Failed(
            f"the export has {len(leaves)} of the scheme's {scheme['size']} events: "
            + (
                f"the lines after scheme index {len(leaves) - 1} are missing"
                if leaves
                else "every line is missing"
            )
        )
    if root(leaves).hex() != scheme["root"]:
        raise Failed("the scheme's events do not hash to the scheme's root")
    entry = scheme_entry(scheme["scheme_id"], scheme["size"], scheme["root"])
    proof = [bytes.fromhex(h) for h in scheme.get("proof", [])]
    if not verify_inclusion(
        scheme.get("entry_index", -1),
        scheme.get("entries", 0),
        entry,
        proof,
        bytes.fromhex(head["schemes_root"]),
    ):
        raise Failed("the scheme's count and root are not the ones the tree head commits to")
    return f"{len(leaves)} events (all of scheme {scheme['scheme_id']})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export")
    parser.add_argument(
        "--public-key", help="the ledger's Ed25519 public key you pinned, hex (GET /v1/audit/public-key)"
    )
    parser.add_argument("--digest", help="a tree head you kept earlier (JSON)")
    parser.add_argument(
        "--unsigned-ok", action="store_true", help="accept an export whose signature was not checked"
    )
    args = parser.parse_args(argv)
    digest = None
    if args.digest:
        with open(args.digest, encoding="utf-8") as kept:
            digest = json.load(kept)
    try:
        with open(args.export, encoding="utf-8") as lines:
            print(verify(lines, args.public_key, digest, unsigned_ok=args.unsigned_ok))
    except Failed as failure:
        print(f"FAILED: {failure}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
