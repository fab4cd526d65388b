"""Free text: the one rule for every name, reason and cell the ledger records, and the one way it
writes a cell for a spreadsheet.

Text the ledger records is shown later to people, in terminals, browsers and spreadsheets, and kept
in stores that refuse some characters (PostgreSQL text holds no NUL). So a name, a reason or a tape
cell may hold none of: C0 and C1 control characters (U+0000-U+001F, U+007F-U+009F: tab and line
breaks included), the line and paragraph separators U+2028/U+2029, bidirectional embeddings,
overrides and isolates (U+202A-U+202E, U+2066-U+2069: text that displays in another order than
it reads), and lone surrogates (no UTF-8 store can keep them); it may not be made only of invisible
characters (whitespace, zero-width characters, fillers); and free text may not start, after any
leading whitespace, like a spreadsheet formula (`=`, `+`, `-`, `@`, tab, CR). Every refusal is
`invalid_request` naming the field.

The ledger's commands call `check_text` for every free-text field and `check_strings` for every
string inside a document (a rule version, a targets list), so the API, the CLI and a loan tape all
meet the same rule; the API's field types call the same functions, to answer 422 naming the field
before anything runs. Cells the ledger writes to CSV or XLSX go through `spreadsheet_cell`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from ledger.errors import InvalidRequest

NAME_CHARS_MAX = 200  # names of schemes, parties, borrowers and API keys
REASON_CHARS_MAX = 2000  # the reason of a rejection, reset, reversal, withdrawal or revocation
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet run a cell as a formula

_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# Characters that show nothing by themselves, besides whitespace and format characters (Cf: the
# zero-width space, joiners, word joiner, BOM, soft hyphen …): the combining grapheme joiner,
# Hangul and Khmer fillers, Mongolian variation selectors, the braille blank, variation selectors.
_INVISIBLE = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u2800\u3164\uffa0"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)
_ASCII_RISKY = ("", "=", "+", "-", "@")  # a first character (after spaces) that needs the full rule
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
_SHOWN_CHARS_MAX = 40


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def invisible(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in ("Cf", "Cc", "Zs") or char in _INVISIBLE


def character_problem(value: str) -> str | None:
    """What is wrong with the characters of `value` (any string the ledger records), or None."""
    found = _FORBIDDEN.search(value)
    if found is not None:
        return (
            f"holds {_describe(found.group())} at position {found.start()}: text may not hold control, "
            "line-separator or bidirectional-override characters"
        )
    if value and all(invisible(char) for char in value):
        return "is made only of invisible characters (whitespace, zero-width characters)"
    return None


def starts_like_formula(value: str) -> bool:
    """Whether a spreadsheet would run `value` as a formula: `=`, `+`, `-`, `@`, tab or CR first,
    after any leading whitespace."""
    for char in value:
        if char in FORMULA_STARTS:
            return True
        if not char.isspace():
            return False
    return False


def text_problem(value: str) -> str | None:
    """What is wrong with `value` as free text (a name, a reason, a tape cell), or None."""
    if value.isascii() and value.isprintable() and value.lstrip(" ")[:1] not in _ASCII_RISKY:
        return None  # the common case, decided in compiled code: printable ASCII, starting plainly
    problem = character_problem(value)
    if problem is None and starts_like_formula(value):
        problem = "starts like a spreadsheet formula (=, +, -, @ first); free text is plain text"
    return problem


def shown(value: str) -> str:
    """A value as a refusal quotes it: escaped, and cut short."""
    return repr(value[:_SHOWN_CHARS_MAX] + ("…" if len(value) > _SHOWN_CHARS_MAX else ""))


def check_text(value: object, *, field: str, max_chars: int, required: bool = True) -> str:
    """Free text as the ledger records it (stripped of surrounding whitespace), or `invalid_request`
    naming the field: not text, above `max_chars`, empty when `required`, or failing the rule."""
    if not isinstance(value, str):
        raise InvalidRequest(f"{field} must be text, not {type(value).__name__}", field=field)
    problem = text_problem(value)
    if problem is not None:
        raise InvalidRequest(f"{field} {shown(value)} {problem}", field=field, value=shown(value))
    if len(value) > max_chars or (required and not value.strip()):
        raise InvalidRequest(
            f"{field} must be {1 if required else 0}-{max_chars} characters, not {len(value)}",
            field=field,
            limit=max_chars,
            length=len(value),
        )
    return value.strip()


def check_strings(value: object, *, field: str) -> None:
    """Every string inside a document (a rule version, a targets list), keys included, meets the
    character rule (no formula rule: a document's strings are amounts, dates, ids, whose own checks
    say what they may be). Refuses with `invalid_request` naming the path of the first bad one."""
    pending: list[tuple[str, object]] = [(field, value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            problem = character_problem(item)
            if problem is not None:
                raise InvalidRequest(f"{path} {shown(item)} {problem}", field=path, value=shown(item))
        elif isinstance(item, dict):
            for key, inner in reversed(list(item.items())):
                if isinstance(key, str) and (problem := character_problem(key)) is not None:
                    raise InvalidRequest(f"{path} has a key {shown(key)} that {problem}", field=path)
                pending.append((f"{path}.{key}", inner))
        elif isinstance(item, (list, tuple)):
            pending.extend((f"{path}.{index}", inner) for index, inner in reversed(list(enumerate(item))))


def spreadsheet_cell(value: Any) -> Any:
    """A cell as the ledger writes it to a CSV or XLSX file, safe to open in a spreadsheet: text a
    spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab or CR first, after any leading
    whitespace) gets a leading apostrophe, which shows it as the text it is. A plain number written
    as text (`-5.00`) is a number to a spreadsheet, never a formula, and is left as it is; so is
    every value that is not text (numbers, dates, None)."""
    if not isinstance(value, str) or not starts_like_formula(value):
        return value
    if _PLAIN_NUMBER.fullmatch(value.strip()):
        return value
    return "'" + value


def check_name(value: object, *, field: str) -> str:
    """A name (of a scheme, party, borrower or key): free text of 1-200 characters."""
    return check_text(value, field=field, max_chars=NAME_CHARS_MAX)
