"""Small helpers for the running figures aggregates keep in nested dicts of int fen.

Aggregate state must survive a JSON snapshot, so figures are kept in dicts with string keys
(party ids, years as "2019"), never tuples or sets.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from ledger.rules.document import RuleVersion


def add(figures: dict[str, Any], *path_and_delta: Any) -> None:
    """add(d, "ins-a", "2019", 500) adds 500 to d["ins-a"]["2019"], creating what is missing."""
    *path, last, delta = path_and_delta
    for key in path:
        figures = figures.setdefault(key, {})
    figures[last] = figures.get(last, 0) + delta


def get(figures: dict[str, Any], *path: str) -> int:
    for key in path[:-1]:
        figures = figures.get(key, {})
    return figures.get(path[-1], 0)


def document_json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


@lru_cache(maxsize=256)
def parse_rules(document_json: str) -> RuleVersion:
    """The validated model of a stored rule version (documents are immutable, so cached)."""
    return RuleVersion.model_validate(json.loads(document_json))
