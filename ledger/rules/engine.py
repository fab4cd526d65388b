"""The sharing rules as pure functions (rule book §5, §6, §7).

Everything here takes plain data (a rule version, a loan's terms, figures already used) and
returns plain data. The aggregates, the what-if endpoint and the tests all call these same
functions; none of them does I/O.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ledger.allot import split
from ledger.money import format_fen
from ledger.rules.document import BP_FULL, Cover, RuleVersion, Share, Tier

ROLE_KEYS = ("bank", "guarantor", "insurer")
OVERFLOW_ROUNDS_MAX = 64


@dataclass(frozen=True)
class LoanTerms:
    """What the rules need to know of a loan."""

    bank_id: str
    principal_fen: int
    tags: tuple[str, ...]
    cover: str
    cover_party_id: str | None = None

    def party_for(self, key: str) -> str | None:
        """The party a split key names for this loan: a role resolved, or a government id."""
        if key == "bank":
            return self.bank_id
        if key in ("guarantor", "insurer"):
            return self.cover_party_id if self.cover == _COVER_OF_ROLE[key] else None
        return key


_COVER_OF_ROLE = {"guarantor": "guaranteed", "insurer": "insured"}


def eligibility_problems(
    rules: RuleVersion, cover: str, principal_fen: int, term_months: int | None
) -> list[str]:
    """Why a loan falls outside the rule version's eligibility (empty when it is eligible)."""
    problems = []
    if cover not in rules.covers:
        problems.append(f"the rule version has no {cover} cover")
    if principal_fen > rules.eligibility.principal_max:
        problems.append(
            f"principal {format_fen(principal_fen)} is above {format_fen(rules.eligibility.principal_max)}"
        )
    if term_months is not None and term_months > rules.eligibility.term_months_max:
        problems.append(f"term {term_months} months is above {rules.eligibility.term_months_max}")
    return problems


def tier_bp(tiers: Sequence[Tier], principal_fen: int) -> int | None:
    """The bp of the first tier whose principal_max is at least the principal."""
    for tier in tiers:
        if tier.principal_max >= principal_fen:
            return tier.bp
    return None


def share_bp(share: Share, principal_fen: int, tags: Sequence[str]) -> int | None:
    base = share.bp if share.tiers is None else tier_bp(share.tiers, principal_fen)
    if base is None:
        return None
    total = base + sum(bonus.bp for bonus in share.bonuses if bonus.tag in tags)
    return total if share.bp_max is None else min(total, share.bp_max)


def resolve_split(cover: Cover, principal_fen: int, tags: Sequence[str]) -> list[tuple[str, int]]:
    """Each split key's bp for this loan, in the split's order; `remainder` takes the rest."""
    resolved: list[tuple[str, int | None]] = []
    for key, value in cover.split.items():
        if value == "remainder":
            resolved.append((key, None))
        elif isinstance(value, Share):
            bp = share_bp(value, principal_fen, tags)
            assert bp is not None, f"no tier of {key!r} covers principal {principal_fen} fen"
            resolved.append((key, bp))
        else:
            resolved.append((key, value))
    fixed = sum(bp for _, bp in resolved if bp is not None)
    assert fixed <= BP_FULL, f"split resolves to {fixed} bp, above {BP_FULL}"
    return [(key, BP_FULL - fixed if bp is None else bp) for key, bp in resolved]


@dataclass(frozen=True)
class CapUsage:
    """What each party has already used against its caps, as the ledger stands (§3).

    All figures are for the calendar year of the final approval: allocations in the whole
    scheme, allocations on claims of this claim's bank, premiums and fees recorded that year.
    """

    year_allocations: Mapping[str, int] = field(default_factory=dict)
    bank_year_allocations: Mapping[str, int] = field(default_factory=dict)
    year_premiums: Mapping[str, int] = field(default_factory=dict)
    year_fees: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AllocationPart:
    party_id: str
    key: str
    bp: int
    split_fen: int
    cut_fen: int
    overflow_fen: int
    allocated_fen: int


@dataclass(frozen=True)
class Allocation:
    approved_fen: int
    parts: tuple[AllocationPart, ...]

    def fen_by_party(self) -> dict[str, int]:
        return {part.party_id: part.allocated_fen for part in self.parts}


def limit_left(cover: Cover, loan: LoanTerms, party_id: str, usage: CapUsage) -> int | None:
    """The smallest (limit − used) over the party's caps before this claim; None if uncapped."""
    limits: list[int] = []
    for key, caps in cover.caps.items():
        if loan.party_for(key) != party_id:
            continue
        year_used = usage.year_allocations.get(party_id, 0)
        if caps.per_claim_max is not None:
            limits.append(caps.per_claim_max)
        if caps.per_bank_per_year_max is not None:
            limits.append(caps.per_bank_per_year_max - usage.bank_year_allocations.get(party_id, 0))
        if caps.annual_max is not None:
            limits.append(caps.annual_max - year_used)
        if caps.premium_multiple_max_bp is not None:
            premiums = usage.year_premiums.get(party_id, 0)
            limits.append(premiums * caps.premium_multiple_max_bp // BP_FULL - year_used)
        if caps.fee_multiple_max_bp is not None:
            fees = usage.year_fees.get(party_id, 0)
            limits.append(fees * caps.fee_multiple_max_bp // BP_FULL - year_used)
    return min(limits) if limits else None


def claim_parties(cover: Cover, loan: LoanTerms) -> list[tuple[str, str]]:
    """(party, key) in the claim's fixed order: split keys, overflow-only keys, then the bank."""
    ordered: dict[str, str] = {}
    keys = list(cover.split) + list(cover.overflow or {})
    for key in [*keys, "bank"]:
        party = loan.party_for(key)
        assert party is not None, f"split key {key!r} names no party for this loan"
        ordered.setdefault(party, key)
    return list(ordered.items())


def allocate(rules: RuleVersion, loan: LoanTerms, approved_fen: int, usage: CapUsage) -> Allocation:
    """Share an approved loss among the parties (§5 steps 1–4). The parts add up exactly."""
    cover = rules.covers[loan.cover]
    parties = claim_parties(cover, loan)
    resolved = resolve_split(cover, loan.principal_fen, loan.tags)
    bp = {loan.party_for(key): value for key, value in resolved}
    split_fen = dict.fromkeys((p for p, _ in parties), 0)
    for (key, _), part in zip(resolved, split(approved_fen, [v for _, v in resolved]), strict=True):
        split_fen[loan.party_for(key)] += part  # type: ignore[index]
    given = dict(split_fen)
    left = {party: limit_left(cover, loan, party, usage) for party, _ in parties}
    cut = dict.fromkeys(given, 0)
    for party, limit in left.items():
        if limit is not None and given[party] > max(0, limit):
            cut[party] = given[party] - max(0, limit)
            given[party] -= cut[party]
    received = _overflow(cover, loan, sum(cut.values()), given, left)
    parts = tuple(
        AllocationPart(
            party_id=party,
            key=key,
            bp=bp.get(party, 0),
            split_fen=split_fen[party],
            cut_fen=cut[party],
            overflow_fen=received[party],
            allocated_fen=given[party],
        )
        for party, key in parties
    )
    assert sum(p.allocated_fen for p in parts) == approved_fen, "allocations must add up"
    return Allocation(approved_fen=approved_fen, parts=parts)


def _overflow(
    cover: Cover,
    loan: LoanTerms,
    cut_fen: int,
    given: dict[str, int],
    left: Mapping[str, int | None],
) -> dict[str, int]:
    """Hand what the caps cut to the overflow parties with room, round after round (§5 step 3).

    Updates `given` in place and returns what each party received; whatever nobody named can
    take, and every cut on a cover without `overflow`, is borne by the bank.
    """
    received = dict.fromkeys(given, 0)

    def room(party: str) -> int | None:
        limit = left[party]
        return None if limit is None else max(0, limit - given[party])

    remaining = cut_fen
    overflow = [(loan.party_for(k), bp) for k, bp in (cover.overflow or {}).items()]
    for _ in range(OVERFLOW_ROUNDS_MAX):
        takers = [(p, bp) for p, bp in overflow if bp > 0 and room(p) != 0]  # type: ignore[arg-type]
        if remaining == 0 or not takers:
            break
        shares = split(remaining, [bp for _, bp in takers])
        remaining = 0
        for (party, _), share in zip(takers, shares, strict=True):
            space = room(party)  # type: ignore[arg-type]
            take = share if space is None else min(share, space)
            given[party] += take  # type: ignore[index]
            received[party] += take  # type: ignore[index]
            remaining += share - take
    else:
        raise AssertionError("overflow did not settle within the round limit")
    given[loan.bank_id] += remaining
    received[loan.bank_id] += remaining
    return received


def share_recovery(net_fen: int, unrecovered: Sequence[int]) -> list[int]:
    """Split a net recovery by each party's unrecovered loss, in the claim's order (§6)."""
    assert 0 <= net_fen <= sum(unrecovered), "a recovery never exceeds the unrecovered loss"
    return split(net_fen, unrecovered)


def rule_in_force(effective_dates: Sequence[str], day: str) -> int | None:
    """The 1-based number of the last version effective on `day` (ISO dates), if any."""
    number = bisect_right(effective_dates, day)
    return number or None
