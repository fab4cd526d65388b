"""Rule versions from YAML or JSON files (JSON is YAML, so one loader reads both)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ledger.errors import RulesInvalid
from ledger.rules.document import RuleVersion

DOCUMENT_BYTES_MAX = 256 * 1024


def load_document(source: str | Path) -> dict[str, Any]:
    """Read a rule version document from a file path, or from YAML/JSON text."""
    text = Path(source).read_text(encoding="utf-8") if isinstance(source, Path) else source
    if len(text.encode("utf-8")) > DOCUMENT_BYTES_MAX:
        raise RulesInvalid([f"document: larger than {DOCUMENT_BYTES_MAX} bytes"])
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RulesInvalid([f"document: not valid YAML or JSON ({error})"]) from None
    if not isinstance(document, dict):
        raise RulesInvalid(["document: must be a mapping of the rule version's fields"])
    return document


def canonical(rules: RuleVersion) -> dict[str, Any]:
    """The stored form of a validated rule version: JSON-ready, amounts as yuan strings."""
    return rules.model_dump(mode="json", exclude_none=True)
