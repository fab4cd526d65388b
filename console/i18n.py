"""The console's languages: Chinese (zh-CN) by default, English with one click.

Texts are written in English in the templates and the code (`_("Claims")`) and translated through
Babel message catalogs: every `console/locale/zh_CN/LC_MESSAGES/*.po` file is read and merged when
the console starts (one file per area of the console, so that areas do not edit one file). A test
extracts every message the console uses and fails on one without a Chinese translation
(tests/console/test_catalog.py); `pybabel extract -F console/babel.cfg -o messages.pot console`
lists them.

Amounts are the API's yuan strings shown with thousands separators (never through a float); instants
are shown in China time; business dates as they are (they are China dates already).
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
CHINA = ZoneInfo("Asia/Shanghai")
LOCALE = Path(__file__).parent / "locale"

language: ContextVar[str] = ContextVar("console_language", default=DEFAULT_LANGUAGE)


@cache
def translations(lang: str) -> NullTranslations:
    if lang == "en":
        return NullTranslations()
    merged = Catalog(locale="zh_CN")
    for po in sorted((LOCALE / "zh_CN" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as f:
            for message in read_po(f, locale="zh_CN"):
                if message.id and message.string:
                    merged.add(message.id, message.string, context=message.context)
    buffer = io.BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    return Translations(buffer)


def gettext(message: str) -> str:
    return translations(language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(language.get()).ngettext(singular, plural, n)


_ = gettext


N_ = str  # marks a message for extraction; translated when shown

# A role as the console names it (the API sends its value: "fund_manager").
ROLE_NAMES = {
    "government": N_("Government fund"),
    "bank": N_("Partner bank"),
    "guarantor": N_("Guarantor"),
    "insurer": N_("Insurer"),
    "fund_manager": N_("Fund manager"),
    "regulator": N_("Regulator"),
}


def role_name(role: object) -> str:
    """A role's name in the user's language; an unknown value as it is."""
    value = getattr(role, "value", role)
    return gettext(ROLE_NAMES[value]) if value in ROLE_NAMES else str(value)


def chosen(cookie: str | None) -> str:
    return cookie if cookie in LANGUAGES else DEFAULT_LANGUAGE


def yuan(value: str | None) -> str:
    """An API yuan string with thousands separators ("13608532.00" → "13,608,532.00"); never
    rounded or cut. An absent figure is shown as a dash."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return str(value)
    return f"{amount:,.2f}"


def instant(value: str | None) -> str:
    """An ISO 8601 instant shown in China time, to the second."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def percent(value: str | None) -> str:
    """A ratio string from the API ("0.1234") as a percentage ("12.34%")."""
    if value is None or value == "":
        return "—"
    try:
        return f"{Decimal(value) * 100:,.2f}%"
    except InvalidOperation:
        return str(value)
