"""The project's rule book, docs/rules.md, keeps up with the code and the features that play it."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import ledger
from ledger.errors import LedgerError

ROOT = Path(__file__).resolve().parents[2]
RULE_BOOK = ROOT / "docs" / "rules.md"
SECTION = re.compile(r"^## §(\d+) (.+?)\s*$", re.M)
CODE_ROW = re.compile(r"^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|", re.M)
RULE_BOOK_LINE = re.compile(r"^\s*Rule book: docs/rules\.md (.+)$", re.M)
# The feature's description ends where its first background, scenario or rule begins.
FIRST_BLOCK = re.compile(r"^\s*(?:Background|Scenario|Scenario Outline|Example|Rule):", re.M)
# Codes the HTTP layer answers with by itself; the collector below must find at least these.
HTTP_ONLY = {
    "not_found",
    "method_not_allowed",
    "payload_too_large",
    "projections_behind",
    "read_models_corrupt",
    "internal_error",
}


def rule_book() -> str:
    return RULE_BOOK.read_text(encoding="utf-8")


def sections() -> dict[int, str]:
    """Section number -> title, from the `## §N Title` headings."""
    return {int(number): title for number, title in SECTION.findall(rule_book())}


def section_text(number: int) -> str:
    text = rule_book()
    start = re.search(rf"^## §{number} ", text, re.M)
    assert start is not None, f"docs/rules.md has no heading for §{number}"
    end = re.search(r"^## ", text[start.end() :], re.M)
    return text[start.start() : start.end() + end.start()] if end else text[start.start() :]


def error_table() -> dict[str, int]:
    """Code -> HTTP status, from the rows of §12's table."""
    rows = CODE_ROW.findall(section_text(12))
    table = {code: int(status) for code, status in rows}
    assert len(table) == len(rows), "a code appears twice in §12's table"
    return table


def ledger_codes() -> set[str]:
    """Every code a LedgerError subclass declares, in any module of the ledger package."""
    for module in pkgutil.walk_packages(ledger.__path__, "ledger."):
        importlib.import_module(module.name)
    found, pending = set(), list(LedgerError.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if isinstance(cls.__dict__.get("code"), str):
            found.add(cls.__dict__["code"])
    return found


def http_codes() -> dict[str, int | None]:
    """Code -> HTTP status of the problems the API writes out itself, read from api/'s sources:
    `problem(request, STATUS, "code", …)` calls, `{STATUS: "code"}` maps and problem bodies
    written as dicts with a literal "code"."""
    found: dict[str, int | None] = {}
    for path in sorted((ROOT / "api").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "problem":
                if len(node.args) >= 3 and _is_code(node.args[2]):
                    found[node.args[2].value] = _literal(node.args[1])
            elif isinstance(node, ast.Dict):
                pairs = {_literal(k): v for k, v in zip(node.keys, node.values) if k is not None}
                if "code" in pairs and _is_code(pairs["code"]):
                    found[pairs["code"].value] = _literal(pairs["status"]) if "status" in pairs else None
                elif pairs and all(isinstance(k, int) for k in pairs) and all(map(_is_code, pairs.values())):
                    found |= {value.value: status for status, value in pairs.items()}
    return found


def _literal(node: ast.AST) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _is_code(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and bool(re.fullmatch(r"[a-z]+(?:_[a-z]+)*", node.value))
    )


def test_the_rule_book_has_its_twelve_sections_in_order() -> None:
    numbers = [int(n) for n, _ in SECTION.findall(rule_book())]
    assert numbers == list(range(1, 13))


def test_every_error_code_the_ledger_defines_is_in_the_error_table_of_section_12() -> None:
    codes = ledger_codes()
    assert {"invalid_amount", "rules_invalid", "invalid_request", "unauthenticated"} <= codes
    assert sorted(codes - error_table().keys()) == []


def test_every_code_the_http_layer_answers_with_is_in_the_error_table_of_section_12() -> None:
    codes = http_codes()
    assert codes.keys() >= HTTP_ONLY, f"the collector missed {sorted(HTTP_ONLY - codes.keys())}"
    assert sorted(codes.keys() - error_table().keys()) == []


def test_the_error_table_gives_each_code_the_http_status_the_api_answers_with() -> None:
    from api.errors import status_of

    table = error_table()
    expected = {code: status_of(code) for code in ledger_codes()}
    expected |= {code: status for code, status in http_codes().items() if status is not None}
    wrong = {
        code: (table.get(code), status) for code, status in expected.items() if table.get(code) != status
    }
    assert wrong == {}, "code: (rule book, API)"


def test_the_error_table_names_no_code_the_ledger_never_answers_with() -> None:
    known = ledger_codes() | http_codes().keys()
    assert sorted(error_table().keys() - known) == []


def test_every_feature_names_the_rule_book_sections_it_plays_and_they_exist() -> None:
    headings = sections()
    features = sorted((ROOT / "features").glob("*.feature"))
    assert features, "no feature files found"
    for feature in features:
        text = feature.read_text(encoding="utf-8")
        description = FIRST_BLOCK.split(text, maxsplit=1)[0]
        line = RULE_BOOK_LINE.search(description)
        assert line is not None, f"{feature.name} names no docs/rules.md section in its description"
        # "§1 Money, dates and identifiers, §7 Splitting an amount." -> [(1, "Money, dates …"), (7, …)]
        parts = re.split(r"§(\d+)\s+", line.group(1))
        assert parts[0] == "" and len(parts) > 1, f"{feature.name}: {line.group(0).strip()!r}"
        named = [(int(n), title.strip().rstrip(".,").strip()) for n, title in zip(parts[1::2], parts[2::2])]
        for number, title in named:
            assert number in headings, f"{feature.name} names §{number}, which docs/rules.md lacks"
            assert title == headings[number], f"{feature.name}: §{number} is {headings[number]!r}"


def test_every_worked_example_from_w1_to_w11_has_a_heading_in_section_11() -> None:
    found = re.findall(r"^### (W\d+)\b", section_text(11), re.M)
    assert found == [f"W{n}" for n in range(1, 12)]
