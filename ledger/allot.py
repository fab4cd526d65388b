"""The one allocation function: split an amount in fen by integer weights (rule book §7).

Every split in the ledger (bp splits, overflow, recovery sharing) goes through `split`, so the
parts always add up to the whole, and the same leftover fen always go to the same parts.
"""

from __future__ import annotations

from collections.abc import Sequence

WEIGHTS_MAX = 64


def split(total_fen: int, weights: Sequence[int]) -> list[int]:
    """Split `total_fen` by `weights`, in order.

    Each part gets floor(total·wᵢ / Σw); the fen left over go one each to the parts with the
    largest remainders (total·wᵢ mod Σw), ties to the part that comes first. Parts with zero
    weight get nothing. The parts add up to `total_fen` exactly.
    """
    assert total_fen >= 0, f"cannot split a negative amount {total_fen}"
    assert len(weights) <= WEIGHTS_MAX, f"too many weights: {len(weights)}"
    assert all(w >= 0 for w in weights), f"negative weight in {weights}"
    weight_sum = sum(weights)
    if total_fen == 0:
        return [0] * len(weights)
    assert weight_sum > 0, "cannot split a positive amount by weights that are all zero"
    parts = [total_fen * w // weight_sum for w in weights]
    leftover = total_fen - sum(parts)
    by_remainder = sorted(
        (i for i, w in enumerate(weights) if w > 0),
        key=lambda i: (-(total_fen * weights[i] % weight_sum), i),
    )
    for i in by_remainder[:leftover]:
        parts[i] += 1
    assert sum(parts) == total_fen, "the parts of a split must add up to the whole"
    return parts
