"""Every text the console shows has its Chinese: the messages extracted from the console's code and
templates (as `pybabel extract -F console/babel.cfg` does), the role names it shows, and the
rule book's refusal sentences, each translated in console/locale/zh_CN."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

import console
from console import i18n
from console.errors import SENTENCES
from console.i18n import ROLE_NAMES

CONSOLE = Path(console.__file__).parent
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}


def used_messages() -> set[str]:
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        CONSOLE, METHODS, options_map=OPTIONS, keywords=KEYWORDS
    ):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.add(text)
    return found


def test_the_extraction_finds_the_console_s_messages():
    used = used_messages()
    assert "Skip to the content" in used  # a template's (base.html)
    assert "Your role may not do this." in used  # a refusal's (N_ in console/errors.py)
    assert "Rule versions" in used  # the code's (console/web.py)


def test_every_message_the_console_shows_has_its_chinese():
    translations = i18n.translations("zh-CN")
    missing = sorted(
        m
        for m in used_messages() | set(SENTENCES.values()) | set(ROLE_NAMES.values())
        if translations.gettext(m) == m
    )
    assert not missing, f"{len(missing)} messages without Chinese in console/locale/zh_CN: {missing}"


def test_english_is_the_messages_themselves():
    token = i18n.language.set("en")
    try:
        assert i18n.gettext("Sign in") == "Sign in"
    finally:
        i18n.language.reset(token)


def test_no_message_is_translated_twice_differently():
    """Two catalogs giving one message two Chinese texts would make the merge order decide."""
    from babel.messages.pofile import read_po

    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for po in sorted((CONSOLE / "locale" / "zh_CN" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as f:
            for message in read_po(f):
                if not message.id or not message.string:
                    continue
                if message.id in seen and seen[message.id][0] != message.string:
                    clashes.append((message.id, seen[message.id][1], po.name))
                seen.setdefault(message.id, (str(message.string), po.name))
    assert not clashes, clashes
