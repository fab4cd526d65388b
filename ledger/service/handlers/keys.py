"""API keys: issued and revoked by an operator at the command line (the secret is the caller's:
the command carries only its keyed hash)."""

from __future__ import annotations

from ledger.actors import Actor, Role
from ledger.commands import IssueKey, RevokeKey
from ledger.domain.guards import require_reason
from ledger.domain.key import ApiKey, key_uuid
from ledger.errors import AlreadyExists, InvalidRequest, InvalidTransition, UnknownParty
from ledger.ids import check_reference, party_uuid
from ledger.service.call import Receipt
from ledger.service.unit_of_work import UnitOfWork
from ledger.text import check_name


def issue_key(uow: UnitOfWork, cmd: IssueKey) -> Receipt:
    try:
        role = Role(cmd.role)
    except ValueError:
        raise InvalidRequest(f"role {cmd.role!r} is not one of {', '.join(r.value for r in Role)}") from None
    name = check_name(cmd.name, field="key name")
    principal = check_reference(cmd.principal_id, field="principal id")
    Actor(principal, role, cmd.party_id)  # refuses a party role without a party, and the reverse
    if cmd.party_id is not None:
        party = uow.find(party_uuid(cmd.party_id))
        if party is None:
            raise UnknownParty(f"no party {cmd.party_id!r}", party_id=cmd.party_id)
        if party.role != role.value:
            raise InvalidRequest(f"party {cmd.party_id!r} is a {party.role}, not a {role.value}")
    if uow.exists(key_uuid(cmd.key_id)):
        raise AlreadyExists(f"key {cmd.key_id} exists")
    day = cmd.issued_on or uow.today()
    uow.add(
        ApiKey.issue(uow.actor, cmd.key_id, principal, role.value, cmd.party_id, name, cmd.secret_hash, day)
    )
    return Receipt()


def revoke_key(uow: UnitOfWork, cmd: RevokeKey) -> Receipt:
    reason = require_reason(cmd.reason, what=f"revoking key {cmd.key_id}")
    key = uow.find(key_uuid(cmd.key_id)) if _well_formed(cmd.key_id) else None
    if key is None:
        raise InvalidRequest(f"no key {cmd.key_id!r}", key_id=cmd.key_id)
    if key.revoked_on is not None:
        raise InvalidTransition(f"key {cmd.key_id} was revoked on {key.revoked_on}", state="revoked")
    key.revoke(uow.actor, reason, uow.today())
    return Receipt()


def _well_formed(key_id: str) -> bool:
    return isinstance(key_id, str) and len(key_id) == 12 and all(c in "0123456789abcdef" for c in key_id)
