"""Commands on schemes: creation, parties and members, rule versions, targets, contributions,
and breaker resets."""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.actors import PARTY_ROLES, Actor, Role, require_role
from ledger.calendar import check_not_before
from ledger.domain import Party, Scheme
from ledger.errors import AlreadyExists, Forbidden, InvalidRequest
from ledger.ids import check_reference, party_uuid, scheme_uuid
from ledger.money import Money
from ledger.rules import load_document
from ledger.rules.breakers import KINDS
from ledger.service.base import LedgerBase, Receipt
from ledger.targets import check_targets
from ledger.text import NAME_CHARS_MAX, check_strings, check_text


def check_name(value: object, *, field: str) -> str:
    """A name (of a scheme, party, borrower or key): free text of 1-200 characters (ledger/text.py)."""
    return check_text(value, field=field, max_chars=NAME_CHARS_MAX)


class SchemeService(LedgerBase):
    def create_scheme(
        self, actor: Actor, scheme_id: str, name: str, *, created_on: date, demo: bool = False
    ) -> Receipt:
        require_role(actor, Role.FUND_MANAGER, action="create a scheme")
        check_reference(scheme_id, field="scheme id")
        name = check_name(name, field="scheme name")
        day = self._day(created_on, "creation date")

        def command() -> Any:
            if self._exists(scheme_uuid(scheme_id)):
                raise AlreadyExists(f"scheme {scheme_id!r} already exists", scheme_id=scheme_id)
            scheme = Scheme._create(
                Scheme.Created,
                id=scheme_uuid(scheme_id),
                actor=actor,
                business_date=day,
                scheme_id=scheme_id,
                name=name,
                demo=demo,
            )
            return [scheme], Receipt()

        return self._execute(command)

    def register_party(
        self, actor: Actor, party_id: str, role: str, name: str, *, registered_on: date
    ) -> Receipt:
        require_role(actor, Role.FUND_MANAGER, action="register a party")
        check_reference(party_id, field="party id")
        if role not in {r.value for r in PARTY_ROLES}:
            raise InvalidRequest(
                f"party role {role!r} is not one of {', '.join(r.value for r in PARTY_ROLES)}",
                field="role",
            )
        name = check_name(name, field="party name")
        day = self._day(registered_on, "registration date")

        def command() -> Any:
            if self._exists(party_uuid(party_id)):
                raise AlreadyExists(f"party {party_id!r} is already registered", party_id=party_id)
            party = Party._create(
                Party.Registered,
                id=party_uuid(party_id),
                actor=actor,
                business_date=day,
                party_id=party_id,
                role=role,
                name=name,
            )
            return [party], Receipt()

        return self._execute(command)

    def admit_member(self, actor: Actor, scheme_id: str, party_id: str, *, admitted_on: date) -> Receipt:
        require_role(actor, Role.FUND_MANAGER, action="admit a party to a scheme")
        day = self._day(admitted_on, "admission date")

        def command() -> Any:
            scheme, party = self._scheme(scheme_id), self._party(party_id)
            check_not_before(
                day,
                date.fromisoformat(party.registered_on),
                field="admission date",
                what=f"the registration of party {party_id!r}",
            )
            scheme.admit(actor, party_id, party.role, party.name, day)
            return [scheme], Receipt()

        return self._execute(command)

    def publish_rules(
        self, actor: Actor, scheme_id: str, document: dict[str, Any] | str, *, published_on: date
    ) -> Receipt:
        require_role(actor, Role.FUND_MANAGER, action="publish a rule version")
        day = self._day(published_on, "publication date")
        if isinstance(document, str):
            document = load_document(document)
        check_strings(document, field="document")

        def command() -> Any:
            scheme = self._scheme(scheme_id)
            self._check_version(scheme, f"scheme {scheme_id}")
            number = scheme.publish(actor, document, day)
            return [scheme], Receipt(details={"rule_version": number})

        return self._execute(command)

    def set_targets(
        self, actor: Actor, scheme_id: str, targets: list[dict[str, Any]], *, set_on: date
    ) -> Receipt:
        require_role(actor, Role.FUND_MANAGER, action="set programme targets")
        day = self._day(set_on, "date")
        check_strings(targets, field="targets")
        checked = check_targets(targets)

        def command() -> Any:
            scheme = self._scheme(scheme_id)
            self._check_version(scheme, f"scheme {scheme_id}")
            scheme.set_targets(actor, checked, day)
            return [scheme], Receipt()

        return self._execute(command)

    def record_contribution(
        self, actor: Actor, scheme_id: str, party_id: str, amount: Money, *, contributed_on: date
    ) -> Receipt:
        require_role(actor, Role.FUND_MANAGER, Role.GOVERNMENT, action="record a contribution")
        if actor.role is Role.GOVERNMENT and not actor.is_party(party_id):
            raise Forbidden(
                f"a government principal of {actor.party_id!r} contributes to its own fund only, "
                f"not to {party_id!r}",
                party_id=party_id,
            )
        amount_fen = self._fen(amount, "contribution")
        day = self._day(contributed_on, "contribution date")

        def command() -> Any:
            scheme = self._scheme(scheme_id)
            self._check_version(scheme, f"scheme {scheme_id}")
            fact_id = scheme.record_contribution(actor, party_id, amount_fen, day)
            return [scheme], Receipt(fact_id=fact_id)

        return self._execute(command)

    def reset_breaker(
        self, actor: Actor, scheme_id: str, breaker: str, reason: str, *, reset_on: date
    ) -> Receipt:
        require_role(actor, Role.FUND_MANAGER, action="reset a circuit breaker")
        kind, _, party_id = breaker.partition(":") if isinstance(breaker, str) else ("", "", "")
        if kind not in KINDS or not party_id:
            raise InvalidRequest(
                f"breaker {breaker!r} is not of the form kind:party with kind one of {', '.join(KINDS)}",
                field="breaker",
            )
        day = self._day(reset_on, "reset date")

        def command() -> Any:
            scheme = self._scheme(scheme_id)
            self._check_version(scheme, f"scheme {scheme_id}")
            scheme.reset_breaker(actor, kind, party_id, reason, day)
            return [scheme], Receipt()

        return self._execute(command)
