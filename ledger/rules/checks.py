"""Publication checks of a rule version (rule book §3): every problem found, listed at once."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import combinations, pairwise

from pydantic import ValidationError

from ledger.errors import RulesInvalid
from ledger.ids import is_reference
from ledger.money import format_fen
from ledger.rules.document import BP_FULL, Cover, RuleVersion, Share
from ledger.rules.engine import ROLE_KEYS, share_bp

BONUS_TAGS_MAX = 8
_ROLE_COVER = {"guarantor": "guaranteed", "insurer": "insured"}


@dataclass(frozen=True)
class Publication:
    """What a rule version is checked against: the scheme's members and its last version."""

    members: Mapping[str, str]  # party id -> role
    previous_effective_from: date | None
    published_on: date


def check_rule_version(document: object, publication: Publication) -> RuleVersion:
    """Validate a rule version document, or refuse with `rules_invalid` listing every problem."""
    try:
        rules = RuleVersion.model_validate(document)
    except ValidationError as error:
        raise RulesInvalid([_describe(e) for e in error.errors()]) from None
    problems = list(_problems(rules, publication))
    if problems:
        raise RulesInvalid(problems)
    return rules


def _describe(error: Mapping[str, object]) -> str:
    location = ".".join(str(part) for part in error["loc"]) or "document"  # type: ignore[attr-defined]
    return f"{location}: {error['msg']}"


def _problems(rules: RuleVersion, publication: Publication) -> Iterator[str]:
    previous = publication.previous_effective_from
    if previous is not None and rules.effective_from <= previous:
        yield f"effective_from: {rules.effective_from} is not after the previous version's {previous}"
    if rules.effective_from < publication.published_on:
        yield (
            f"effective_from: {rules.effective_from} is before the publication date "
            f"{publication.published_on} (no retroactive rules)"
        )
    if rules.second_approval_from <= 0:
        yield "second_approval_from: must be positive"
    for kind, cover in rules.covers.items():
        yield from _cover_problems(f"covers.{kind}", kind, cover, rules, publication.members)


def _cover_problems(
    where: str, kind: str, cover: Cover, rules: RuleVersion, members: Mapping[str, str]
) -> Iterator[str]:
    named = list(cover.split) + list(cover.caps) + list(cover.overflow or {})
    for key in dict.fromkeys(named):
        yield from _key_problems(where, kind, key, members)
    remainders = [key for key, value in cover.split.items() if value == "remainder"]
    if len(remainders) > 1:
        yield f"{where}.split: only one key may be 'remainder', found {remainders}"
    for key, value in cover.split.items():
        if isinstance(value, Share):
            yield from _share_problems(f"{where}.split.{key}", value, rules)
    yield from _sum_problems(where, cover, rules, has_remainder=bool(remainders))
    if cover.overflow is not None and sum(cover.overflow.values()) != BP_FULL:
        yield f"{where}.overflow: sums to {sum(cover.overflow.values())} bp, not {BP_FULL}"
    for key, caps in cover.caps.items():
        if key == "bank":
            yield f"{where}.caps.bank: no cap may be set on the bank"
        if caps.premium_multiple_max_bp is not None and key != "insurer":
            yield f"{where}.caps.{key}: premium_multiple_max_bp applies to the insurer only"
        if caps.fee_multiple_max_bp is not None and key != "guarantor":
            yield f"{where}.caps.{key}: fee_multiple_max_bp applies to the guarantor only"
        if key not in cover.split and key not in (cover.overflow or {}):
            yield f"{where}.caps.{key}: the cover never allocates to {key!r}"


def _key_problems(where: str, kind: str, key: str, members: Mapping[str, str]) -> Iterator[str]:
    if key in _ROLE_COVER and _ROLE_COVER[key] != kind:
        yield f"{where}: {key!r} names no party on a {kind} loan"
    elif key not in ROLE_KEYS:
        role = members.get(key)
        if not is_reference(key):
            yield f"{where}: {key!r} is not a party id"
        elif role is None:
            yield f"{where}: {key!r} is not a member of the scheme"
        elif role != "government":
            yield f"{where}: {key!r} is a {role}; split keys name roles or government parties"


def _share_problems(where: str, share: Share, rules: RuleVersion) -> Iterator[str]:
    if (share.bp is None) == (share.tiers is None):
        yield f"{where}: give exactly one of 'bp' or 'tiers'"
    tiers = share.tiers or []
    maxima = [tier.principal_max for tier in tiers]
    if any(b <= a for a, b in pairwise(maxima)):
        yield f"{where}.tiers: principal_max values must increase strictly (sorted, no overlap)"
    if tiers and maxima[-1] < rules.eligibility.principal_max:
        yield (
            f"{where}.tiers: the last tier ends at {format_fen(maxima[-1])} and does not reach "
            f"eligibility.principal_max {format_fen(rules.eligibility.principal_max)}"
        )
    tags = [bonus.tag for bonus in share.bonuses]
    if len(set(tags)) != len(tags):
        yield f"{where}.bonuses: a tag appears twice"
    for tag in tags:
        if not is_reference(tag):
            yield f"{where}.bonuses: {tag!r} is not a tag"


def _sum_problems(where: str, cover: Cover, rules: RuleVersion, *, has_remainder: bool) -> Iterator[str]:
    """Check the split at every tier boundary and every combination of bonus tags."""
    tags = sorted({b.tag for v in cover.split.values() if isinstance(v, Share) for b in v.bonuses})
    if len(tags) > BONUS_TAGS_MAX:
        yield f"{where}.split: at most {BONUS_TAGS_MAX} distinct bonus tags, found {len(tags)}"
        return
    limit = rules.eligibility.principal_max
    points = {limit} | {
        tier.principal_max
        for v in cover.split.values()
        if isinstance(v, Share)
        for tier in v.tiers or []
        if tier.principal_max <= limit
    }
    sums = set()
    for principal in sorted(points):
        for size in range(len(tags) + 1):
            for chosen in combinations(tags, size):
                total = _fixed_sum(cover, principal, chosen)
                if total is not None:
                    sums.add(total)
    if sums and max(sums) > BP_FULL:
        yield f"{where}.split: can reach {max(sums)} bp, above {BP_FULL}"
    elif sums and not has_remainder and sums != {BP_FULL}:
        yield f"{where}.split: sums to {sorted(sums)} bp; without 'remainder' it must be {BP_FULL}"


def _fixed_sum(cover: Cover, principal_fen: int, tags: tuple[str, ...]) -> int | None:
    total = 0
    for value in cover.split.values():
        if value == "remainder":
            continue
        bp = share_bp(value, principal_fen, tags) if isinstance(value, Share) else value
        if bp is None:
            return None
        total += bp  # type: ignore[operator]
    return total
