"""API keys: issue, revoke, and authenticate a bearer token in constant time.

A token is `rpk_<key id>_<secret>`. The ledger stores HMAC-SHA256(pepper, secret): the secret is
256 random bits, so a keyed fast hash is as strong as a slow one, and the pepper (from settings)
keeps a stolen event store from confirming guesses offline.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import date

from ledger.actors import Actor, Role
from ledger.commands import IssueKey, RevokeKey
from ledger.domain.key import ApiKey, key_uuid
from ledger.errors import LedgerError
from ledger.service.application import LedgerApplication
from ledger.service.call import Call, Receipt

TOKEN_PREFIX = "rpk_"
TOKEN_CHARS_MAX = 200
VERIFIED_KEYS_MAX = 10_000  # keys whose last verification is remembered (the oldest is forgotten)


class Unauthenticated(LedgerError):
    """A missing, unknown, malformed or revoked key (401)."""

    code = "unauthenticated"


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    token: str  # shown once; the ledger keeps only its hash
    principal_id: str
    receipt: Receipt


@dataclass(frozen=True)
class _Verified:
    """A key as it stood at `version`, when a secret last matched it."""

    version: int
    secret_hash: str
    actor: Actor


class Keys(LedgerApplication):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._verified: OrderedDict[str, _Verified] = OrderedDict()

    def _hash(self, secret: str) -> str:
        return hmac.new(self.key_pepper, secret.encode(), hashlib.sha256).hexdigest()

    def issue_key(
        self,
        operator: Actor,
        *,
        role: str,
        party_id: str | None,
        name: str,
        principal_id: str | None = None,
        issued_on: date | None = None,
    ) -> IssuedKey:
        """Issue a key for a principal of `role` (acting for `party_id` where the role has one).
        The secret is made here, shown once in the token, and only its keyed hash is recorded."""
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        principal = principal_id or f"k-{key_id}"
        command = IssueKey(key_id, role, party_id, name, principal, self._hash(secret), issued_on)
        receipt = self.handle(command, Call(operator))
        return IssuedKey(key_id, f"{TOKEN_PREFIX}{key_id}_{secret}", principal, receipt)

    def revoke_key(self, operator: Actor, key_id: str, reason: str) -> Receipt:
        return self.handle(RevokeKey(key_id, reason), Call(operator))

    def authenticate(self, token: str | None, *, request_id: str = "") -> Actor:
        """The principal a bearer token stands for, or `unauthenticated` — never saying which
        part of the token was wrong."""
        refused = Unauthenticated("a valid API key is required (Authorization: Bearer rpk_…)")
        if not token or len(token) > TOKEN_CHARS_MAX or not token.startswith(TOKEN_PREFIX):
            raise refused
        key_id, _, secret = token[len(TOKEN_PREFIX) :].partition("_")
        well_formed = len(key_id) == 12 and all(c in "0123456789abcdef" for c in key_id)
        hashed = self._hash(secret)
        verified = self._verified.get(key_id) if well_formed else None
        # A key that matched before still stands if the store has no later fact of it (a
        # revocation, by this process or another): one indexed read instead of a rebuild.
        if (
            verified is not None
            and hmac.compare_digest(hashed, verified.secret_hash)
            and not self.recorder.select_events(key_uuid(key_id), gt=verified.version, limit=1)
        ):
            return replace(verified.actor, request_id=request_id)
        key: ApiKey | None = self.reading().find(key_uuid(key_id)) if well_formed else None
        matches = hmac.compare_digest(hashed, key.secret_hash if key is not None else self._hash(""))
        if key is None or not matches or key.revoked_on is not None:
            raise refused
        actor = Actor(key.principal_id, Role(key.role), key.party_id)
        self._remember(key_id, _Verified(key.version, key.secret_hash, actor))
        return replace(actor, request_id=request_id)

    def _remember(self, key_id: str, verified: _Verified) -> None:
        self._verified[key_id] = verified
        self._verified.move_to_end(key_id)
        while len(self._verified) > VERIFIED_KEYS_MAX:
            self._verified.popitem(last=False)
