"""Schemes, parties, members, rule versions, targets, contributions and breaker resets."""

from __future__ import annotations

from ledger.actors import PARTY_ROLES, Role
from ledger.commands import (
    AdmitMember,
    CreateScheme,
    PublishRules,
    RecordContribution,
    RegisterParty,
    ResetBreaker,
    SetTargets,
)
from ledger.domain import Party, Scheme
from ledger.errors import AlreadyExists, Forbidden, InvalidRequest
from ledger.ids import check_reference, party_uuid, scheme_uuid
from ledger.rules import load_document
from ledger.rules.breakers import KINDS
from ledger.service.call import Receipt
from ledger.service.unit_of_work import UnitOfWork, fen
from ledger.targets import check_targets
from ledger.text import check_name, check_strings


def create_scheme(uow: UnitOfWork, cmd: CreateScheme) -> Receipt:
    check_reference(cmd.scheme_id, field="scheme id")
    name, day = check_name(cmd.name, field="scheme name"), uow.day(cmd.created_on, "creation date")
    if uow.exists(scheme_uuid(cmd.scheme_id)):
        raise AlreadyExists(f"scheme {cmd.scheme_id!r} already exists", scheme_id=cmd.scheme_id)
    uow.add(Scheme.create(uow.actor, cmd.scheme_id, name, cmd.demo, day))
    return Receipt()


def register_party(uow: UnitOfWork, cmd: RegisterParty) -> Receipt:
    check_reference(cmd.party_id, field="party id")
    if cmd.role not in {r.value for r in PARTY_ROLES}:
        roles = ", ".join(r.value for r in PARTY_ROLES)
        raise InvalidRequest(f"party role {cmd.role!r} is not one of {roles}", field="role")
    name, day = check_name(cmd.name, field="party name"), uow.day(cmd.registered_on, "registration date")
    if uow.exists(party_uuid(cmd.party_id)):
        raise AlreadyExists(f"party {cmd.party_id!r} is already registered", party_id=cmd.party_id)
    uow.add(Party.register(uow.actor, cmd.party_id, cmd.role, name, day))
    return Receipt()


def admit_member(uow: UnitOfWork, cmd: AdmitMember) -> Receipt:
    day = uow.day(cmd.admitted_on, "admission date")
    scheme, party = uow.scheme(cmd.scheme_id), uow.party(cmd.party_id)
    scheme.admit(uow.actor, party, day)
    return Receipt()


def publish_rules(uow: UnitOfWork, cmd: PublishRules) -> Receipt:
    day = uow.day(cmd.published_on, "publication date")
    document = load_document(cmd.document) if isinstance(cmd.document, str) else cmd.document
    check_strings(document, field="document")
    scheme = uow.scheme(cmd.scheme_id)
    uow.expect_version(scheme, f"scheme {cmd.scheme_id}")
    return Receipt(details={"rule_version": scheme.publish(uow.actor, document, day)})


def set_targets(uow: UnitOfWork, cmd: SetTargets) -> Receipt:
    day = uow.day(cmd.set_on, "date")
    check_strings(cmd.targets, field="targets")
    targets = check_targets(cmd.targets)
    scheme = uow.scheme(cmd.scheme_id)
    uow.expect_version(scheme, f"scheme {cmd.scheme_id}")
    scheme.set_targets(uow.actor, targets, day)
    return Receipt()


def record_contribution(uow: UnitOfWork, cmd: RecordContribution) -> Receipt:
    if uow.actor.role is Role.GOVERNMENT and not uow.actor.is_party(cmd.party_id):
        raise Forbidden(
            f"a government principal of {uow.actor.party_id!r} contributes to its own fund only, "
            f"not to {cmd.party_id!r}",
            party_id=cmd.party_id,
        )
    amount_fen, day = fen(cmd.amount, "contribution"), uow.day(cmd.contributed_on, "contribution date")
    scheme = uow.scheme(cmd.scheme_id)
    uow.expect_version(scheme, f"scheme {cmd.scheme_id}")
    return Receipt(fact_id=scheme.record_contribution(uow.actor, cmd.party_id, amount_fen, day))


def reset_breaker(uow: UnitOfWork, cmd: ResetBreaker) -> Receipt:
    kind, _, party_id = cmd.breaker.partition(":") if isinstance(cmd.breaker, str) else ("", "", "")
    if kind not in KINDS or not party_id:
        raise InvalidRequest(
            f"breaker {cmd.breaker!r} is not of the form kind:party with kind one of {', '.join(KINDS)}",
            field="breaker",
        )
    day = uow.day(cmd.reset_on, "reset date")
    scheme = uow.scheme(cmd.scheme_id)
    uow.expect_version(scheme, f"scheme {cmd.scheme_id}")
    scheme.reset_breaker(uow.actor, kind, party_id, cmd.reason, day)
    return Receipt()
