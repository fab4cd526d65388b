"""API keys: issue, revoke, and authenticate a bearer token in constant time.

A token is `rpk_<key id>_<secret>`. The ledger stores HMAC-SHA256(pepper, secret): the secret is
256 random bits, so a keyed fast hash is as strong as a slow one, and the pepper (from settings)
keeps a stolen event store from confirming guesses offline.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid5

from ledger.actors import Actor, Role
from ledger.domain.guards import require_reason
from ledger.domain.key import ApiKey
from ledger.errors import AlreadyExists, InvalidRequest, InvalidTransition, LedgerError, UnknownParty
from ledger.ids import NAMESPACE, check_reference, party_uuid
from ledger.service.base import LedgerBase, Receipt
from ledger.service.schemes import check_name

TOKEN_PREFIX = "rpk_"
TOKEN_CHARS_MAX = 200


class Unauthenticated(LedgerError):
    """A missing, unknown, malformed or revoked key (401)."""

    code = "unauthenticated"


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    token: str  # shown once; the ledger keeps only its hash
    principal_id: str
    receipt: Receipt


def key_uuid(key_id: str) -> UUID:
    return uuid5(NAMESPACE, f"api-key:{key_id}")


class KeyService(LedgerBase):
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
        """Issue a key for a principal of `role` (acting for `party_id` where the role has one)."""
        try:
            role_ = Role(role)
        except ValueError:
            raise InvalidRequest(f"role {role!r} is not one of {', '.join(r.value for r in Role)}") from None
        name = check_name(name, field="key name")
        key_id = secrets.token_hex(6)
        principal = check_reference(principal_id or f"k-{key_id}", field="principal id")
        Actor(principal, role_, party_id)  # refuses a party role without a party, and the reverse
        if party_id is not None and not self._exists(party_uuid(party_id)):
            raise UnknownParty(f"no party {party_id!r}", party_id=party_id)
        if party_id is not None and self._party(party_id).role != role_.value:
            raise InvalidRequest(f"party {party_id!r} is a {self._party(party_id).role}, not a {role_.value}")
        secret = secrets.token_urlsafe(32)
        day = issued_on or self._today()

        def command() -> Any:
            if self._exists(key_uuid(key_id)):
                raise AlreadyExists(f"key {key_id} exists")
            key = ApiKey._create(
                ApiKey.Issued,
                id=key_uuid(key_id),
                actor=operator,
                business_date=day,
                key_id=key_id,
                principal_id=principal,
                role=role_.value,
                party_id=party_id,
                name=name,
                secret_hash=self._hash(secret),
            )
            return [key], Receipt()

        receipt = self._execute(command)
        return IssuedKey(key_id, f"{TOKEN_PREFIX}{key_id}_{secret}", principal, receipt)

    def revoke_key(self, operator: Actor, key_id: str, reason: str) -> Receipt:
        reason = require_reason(reason, what=f"revoking key {key_id}")

        def command() -> Any:
            key = self._key(key_id)
            if key is None:
                raise InvalidRequest(f"no key {key_id!r}", key_id=key_id)
            if key.revoked_on is not None:
                raise InvalidTransition(f"key {key_id} was revoked on {key.revoked_on}", state="revoked")
            key.trigger_event(ApiKey.Revoked, actor=operator, business_date=self._today(), reason=reason)
            return [key], Receipt()

        return self._execute(command)

    def authenticate(self, token: str | None, *, request_id: str = "") -> Actor:
        """The principal a bearer token stands for, or `unauthenticated` — never saying which
        part of the token was wrong."""
        refused = Unauthenticated("a valid API key is required (Authorization: Bearer rpk_…)")
        if not token or len(token) > TOKEN_CHARS_MAX or not token.startswith(TOKEN_PREFIX):
            raise refused
        key_id, _, secret = token[len(TOKEN_PREFIX) :].partition("_")
        key = (
            self._key(key_id) if len(key_id) == 12 and all(c in "0123456789abcdef" for c in key_id) else None
        )
        expected = key.secret_hash if key is not None else self._hash("")
        matches = hmac.compare_digest(self._hash(secret), expected)
        if key is None or not matches or key.revoked_on is not None:
            raise refused
        return Actor(key.principal_id, Role(key.role), key.party_id, request_id=request_id)

    def _key(self, key_id: str) -> ApiKey | None:
        return self._find(key_uuid(key_id))
