"""API keys: issue, revoke, and authenticate a bearer token in constant time.

A token is `rpk_<key id>_<secret>`. The ledger stores HMAC-SHA256(pepper, secret): the secret is
256 random bits, so a keyed fast hash is as strong as a slow one, and the pepper (from settings)
keeps a stolen event store from confirming guesses offline.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import date

from ledger.actors import Actor, Role
from ledger.commands import IssueKey, RevokeKey
from ledger.domain.key import ApiKey, key_uuid
from ledger.errors import Unauthenticated
from ledger.service.application import LedgerApplication
from ledger.service.call import Call, Credential, Receipt

TOKEN_PREFIX = "rpk_"
TOKEN_CHARS_MAX = 200
KEY_ID_CHARS = 12  # hex
VERIFIED_KEYS_MAX = 10_000  # keys whose last verification is remembered (the oldest is forgotten)


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    token: str  # shown once; the ledger keeps only its hash
    principal_id: str
    receipt: Receipt


@dataclass(frozen=True)
class _Verified:
    """A key as it stood when a secret last matched it: its hash, its principal, and the
    credential (the key's id and that version) a command or a read confirms."""

    credential: Credential
    secret_hash: str
    actor: Actor


@dataclass(frozen=True)
class Presented:
    """The principal a bearer token stands for, and the credential still to confirm against the
    store (None: confirmed as it was read)."""

    actor: Actor
    credential: Credential | None


class Keys(LedgerApplication):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._verified: OrderedDict[str, _Verified] = OrderedDict()
        self._verified_lock = threading.Lock()

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
        key_id, secret = secrets.token_hex(KEY_ID_CHARS // 2), secrets.token_urlsafe(32)
        principal = principal_id or f"k-{key_id}"
        command = IssueKey(key_id, role, party_id, name, principal, self._hash(secret), issued_on)
        receipt = self.handle(command, Call(operator))
        return IssuedKey(key_id, f"{TOKEN_PREFIX}{key_id}_{secret}", principal, receipt)

    def revoke_key(self, operator: Actor, key_id: str, reason: str) -> Receipt:
        return self.handle(RevokeKey(key_id, reason), Call(operator))

    def recognise(self, token: str | None, *, request_id: str = "") -> Presented | None:
        """From memory, without asking the store: the principal of a token whose key matched its
        secret before, with the credential a command confirms before its facts are saved (see
        UnitOfWork.confirm_credential) and a read confirms with `confirm`. None when only the
        store can tell (`authenticate`). A malformed token is refused at once."""
        key_id, secret = _parts(token)
        verified = self._verified.get(key_id)
        if verified is None or not hmac.compare_digest(self._hash(secret), verified.secret_hash):
            return None
        return Presented(replace(verified.actor, request_id=request_id), verified.credential)

    def authenticate(self, token: str | None, *, request_id: str = "") -> Actor:
        """The principal a bearer token stands for, as the store has it now, or `unauthenticated`,
        never saying which part of the token was wrong."""
        return self.present(token, request_id=request_id).actor

    def present(self, token: str | None, *, request_id: str = "") -> Presented:
        """`authenticate`, keeping the credential the principal was read with, for a holder that
        presents it again later without the token (a console session): each use confirms it, so
        a revocation ends the session at its next request."""
        presented = self.recognise(token, request_id=request_id)
        if presented is not None:
            self.confirm(presented)
            return presented
        key_id, secret = _parts(token)
        key: ApiKey | None = self.reading().find(key_uuid(key_id))
        hashed = self._hash(secret)
        if key is None:
            hmac.compare_digest(hashed, self._hash(""))  # the same work as for a known key
            raise Unauthenticated()
        if not key.admits(hashed):
            raise Unauthenticated()
        actor = Actor(key.principal_id, Role(key.role), key.party_id)
        verified = _Verified(Credential(key.id, key.version), key.secret_hash, actor)
        self._remember(key_id, verified)
        return Presented(replace(actor, request_id=request_id), verified.credential)

    def confirm(self, presented: Presented) -> Actor:
        """The presented principal, once the store has no later fact of its key than the one its
        secret matched (a revocation, by this process or another): one indexed read."""
        credential = presented.credential
        if credential is not None and self.recorder.select_events(
            credential.key_id, gt=credential.version, limit=1
        ):
            key: ApiKey | None = self.reading().find(credential.key_id)
            if key is None or not key.standing:
                raise Unauthenticated()
        return presented.actor

    def _remember(self, key_id: str, verified: _Verified) -> None:
        with self._verified_lock:
            self._verified[key_id] = verified
            self._verified.move_to_end(key_id)
            while len(self._verified) > VERIFIED_KEYS_MAX:
                self._verified.popitem(last=False)


def _parts(token: str | None) -> tuple[str, str]:
    """The key id and the secret of a well-formed token; `unauthenticated` for any other."""
    if not token or len(token) > TOKEN_CHARS_MAX or not token.startswith(TOKEN_PREFIX):
        raise Unauthenticated()
    key_id, _, secret = token[len(TOKEN_PREFIX) :].partition("_")
    if len(key_id) != KEY_ID_CHARS or not all(c in "0123456789abcdef" for c in key_id):
        raise Unauthenticated()
    return key_id, secret
