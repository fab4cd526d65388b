"""An outside witness of the ledger's tree heads, run by a regulator on its own machine.

Each run fetches the ledger's latest signed tree head and a consistency proof from the head it kept
last, checks both against the public key it pinned on its first run, and appends the new head to its
own store (`heads.jsonl` in the state folder). It refuses, naming the sizes, a head that does not
extend the kept one, a ledger that went back (a smaller tree), and a key change that the old key did
not endorse. A key rotation endorsed by the pinned key is followed, and the new key pinned.

The state folder is the witness's evidence: `audit verify --digest FOLDER` checks the ledger
against every head in it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import httpx

from projections.audit.heads import HEADS_PAGE_MAX, HeadLog, TreeHead
from tools.verify_export import rotation_endorsed, verify_consistency

HEADS, PINNED = "heads.jsonl", "public-key"
TIMEOUT_SECONDS = 30.0


class WitnessRefused(Exception):
    """The ledger's latest head is not one this witness can accept; nothing was kept."""


@dataclass
class Witnessed:
    head: TreeHead
    kept: TreeHead | None
    rotated_from: str | None = None

    def __str__(self) -> str:
        grew = f"extends the kept head of size {self.kept.size}" if self.kept else "first head kept"
        rotated = f"; followed the key rotation from {self.rotated_from[:16]}…" if self.rotated_from else ""
        return f"witnessed {self.head} ({grew}){rotated}"


def witness(url: str, api_key: str, state: Path, *, client: httpx.Client | None = None) -> Witnessed:
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = HeadLog(state / HEADS)
    pinned_file = state / PINNED
    with client or httpx.Client(base_url=url.rstrip("/"), timeout=TIMEOUT_SECONDS) as http:
        auth = {"Authorization": f"Bearer {api_key}"}
        head = TreeHead.of(_get(http, auth, "/v1/audit/tree-heads/latest"))
        kept = store.last()
        if not pinned_file.exists():
            pinned_file.write_text(head.public_key + "\n")
        pinned = pinned_file.read_text().strip()
        if kept is not None and (head.sequence < kept.sequence or head.size < kept.size):
            raise WitnessRefused(
                f"rollback: the ledger's latest head is {head}, behind the kept {kept}: its log or its "
                f"heads went back from size {kept.size} to {head.size}"
            )
        since = _heads_since(http, auth, kept, head) if kept is not None else [head]
        key, rotated_from = _check_chain(kept, since, pinned)
        if kept is not None:
            _check_extends(http, auth, kept, head)
        if kept is None or head.sequence != kept.sequence:
            store.append(head)
        if key != pinned:
            pinned_file.write_text(key + "\n")
    return Witnessed(head, kept, rotated_from)


def _get(http: httpx.Client, auth: dict[str, str], path: str, **params: object) -> object:
    answer = http.get(path, params=params, headers=auth)
    if answer.status_code != 200:
        raise WitnessRefused(f"the ledger answered {answer.status_code} to {path}: {answer.text[:300]}")
    return answer.json()


def _heads_since(http: httpx.Client, auth: dict[str, str], kept: TreeHead, head: TreeHead) -> list[TreeHead]:
    """Every head the ledger signed after the kept one, up to its latest, a page at a time."""
    found: list[TreeHead] = []
    after = kept.sequence
    while after < head.sequence:
        page = _get(http, auth, "/v1/audit/tree-heads", after_sequence=after, limit=HEADS_PAGE_MAX)
        if not page:
            break
        found += [TreeHead.of(h) for h in page]  # type: ignore[union-attr]
        after = found[-1].sequence
    return [h for h in found if h.sequence <= head.sequence]


def _check_chain(kept: TreeHead | None, since: list[TreeHead], pinned: str) -> tuple[str, str | None]:
    """Each head since the kept one is signed, numbered next and names the one before; a new chain
    is refused; a key change is followed only when the pinned key endorsed it. Returns the key the
    ledger signs with now, and the key it rotated from, if it did."""
    key, rotated_from, before = pinned, None, kept
    for head in since:
        if head.public_key != key:
            if head.previous_key != key or not rotation_endorsed(head.as_dict()):
                raise WitnessRefused(
                    f"the ledger's {head} is signed by key {head.public_key}, not the pinned key {key}, and "
                    "the pinned key did not endorse the change"
                )
            rotated_from, key = key, head.public_key
        if head.new_chain_reason and before is not None:
            raise WitnessRefused(
                f"the ledger started a new chain at {head} ({head.new_chain_reason}): it no longer vouches "
                f"that its log extends the kept {before}"
            )
        if not head.verifies():
            raise WitnessRefused(f"the ledger's {head} does not carry a valid signature of its key")
        if before is not None and (head.sequence != before.sequence + 1 or head.previous != before.hash()):
            raise WitnessRefused(
                f"the ledger's {head} does not follow {before}: the chain of heads has a gap"
            )
        before = head
    return key, rotated_from


def _check_extends(http: httpx.Client, auth: dict[str, str], kept: TreeHead, head: TreeHead) -> None:
    if head.size == kept.size:
        if head.root != kept.root:
            raise WitnessRefused(f"inconsistent: the ledger's {head} has another root than the kept {kept}")
        return
    proof = _get(http, auth, "/v1/audit/proofs/consistency", from_size=kept.size, to_size=head.size)
    path = [bytes.fromhex(p) for p in proof.get("proof", [])]  # type: ignore[union-attr]
    if not verify_consistency(kept.size, head.size, bytes.fromhex(kept.root), bytes.fromhex(head.root), path):
        raise WitnessRefused(
            f"inconsistent: the ledger's tree of size {head.size} ({head}) does not extend the kept tree of "
            f"size {kept.size} ({kept})"
        )


def kept_heads(path: Path) -> list[TreeHead]:
    """Heads kept outside the ledger: a witness's state folder, a JSON Lines file of heads, or one
    head as JSON (what `audit head` prints)."""
    if path.is_dir():
        return HeadLog(path / HEADS).read()
    text = path.read_text(encoding="utf-8")
    try:
        return [TreeHead.of(json.loads(text))]  # one head, however it is laid out
    except ValueError:
        return [TreeHead.of(json.loads(line)) for line in text.splitlines() if line.strip()]
