"""What every console page shares: the signed-in session, the CSRF check, the API of the session,
rendering a template in the user's language, form errors, and tables as CSV or XLSX."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from console import i18n
from console.client import ROWS_MAX, Api, Refused, TooMany
from console.i18n import _
from console.session import LANGUAGE_COOKIE, SESSION_COOKIE, Session, Sessions
from ledger.actors import Role

TEMPLATES = Path(__file__).parent / "templates"
CSV_MEDIA = "text/csv; charset=utf-8"
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOWNLOAD_ROWS_MAX = ROWS_MAX  # the most rows one table download holds
SHOWN_ROWS_MAX = 200  # the most rows a table shows on a page that lists everything (the rest: its download)
# A cell a spreadsheet would run as a formula (or a DDE call) starts with one of these: such text
# is written with a leading apostrophe, which the spreadsheet shows as text (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
AMOUNT = re.compile(r"-?\d{1,13}\.\d{2}")  # at most 15 significant digits

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
environment.filters["yuan"] = i18n.yuan
environment.filters["instant"] = i18n.instant
environment.filters["percent"] = i18n.percent
environment.filters["role_name"] = i18n.role_name
environment.globals["SHOWN_ROWS_MAX"] = SHOWN_ROWS_MAX


class SignInNeeded(Exception):
    """No live session: the page answers with the sign-in page (a redirect carrying `next`)."""


class CsrfRefused(Exception):
    """A form without the session's CSRF token, or with another: nothing it asked for is done."""


def sessions(request: Request) -> Sessions:
    return request.app.state.console_sessions


def current(request: Request) -> Session:
    """The signed-in session, or SignInNeeded."""
    session = sessions(request).find(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise SignInNeeded()
    request.state.actor = session.actor  # for the access log
    return session


SessionDep = Annotated[Session, Depends(current)]


async def checked(request: Request) -> Session:
    """The signed-in session of a form submission whose CSRF token is the session's; else refused."""
    session = current(request)
    form = await request.form()
    sent = form.get("csrf")
    if not isinstance(sent, str) or not session.csrf_matches(sent):
        raise CsrfRefused()
    return session


FormSession = Annotated[Session, Depends(checked)]


def api(request: Request, session: Session) -> Api:
    """The API as this session's principal (use as `async with api(request, session) as a:`)."""
    return Api(request.app, session, request.state.request_id)


def new_idempotency_key() -> str:
    """A form's Idempotency-Key, made when the form is shown: submitting it twice records once."""
    return f"console-{uuid.uuid4()}"


@dataclass
class FormErrors:
    """What the API refused about a form: a message by field, and one for the whole form."""

    fields: dict[str, str]
    general: str | None

    @classmethod
    def none(cls) -> FormErrors:
        return cls({}, None)

    @classmethod
    def of(cls, refused: Refused, fields: Sequence[str] = ()) -> FormErrors:
        """The refusal's message beside the field it names (one of `fields`), in the user's
        language; a refusal of no field of the form is the form's general message."""
        by_field = {k: v for k, v in refused.field_errors().items() if k in fields}
        message = refusal_message(refused)
        named = refused.problem.get("field")
        if isinstance(named, str) and named in fields and named not in by_field:
            by_field[named] = message
        translated = {k: refusal_message(refused, v) for k, v in by_field.items()}
        return cls(translated, None if by_field and not _others(refused, fields) else message)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)


def _others(refused: Refused, fields: Sequence[str]) -> bool:
    names = set(refused.field_errors())
    return bool(names - set(fields)) or (not names and "field" not in refused.problem)


def refusal_message(refused: Refused, field_message: str | None = None) -> str:
    """A refusal in the user's language: the rule book's sentence for its code (console/errors.py)
    and, after it, the ledger's own sentence, which names the offending value and its figures."""
    from console.errors import explain

    return explain(refused.code, field_message if field_message is not None else refused.detail)


def nav(session: Session, scheme_id: str | None) -> list[tuple[str, str]]:
    """The console's sections for this principal's role: (label, path). Presentation only: what a
    principal may read or do is decided by the API, which answers 403 to anything else."""
    role = session.actor.role
    items: list[tuple[str, str]] = [(_("Schemes"), "/")]
    if scheme_id:
        base = f"/schemes/{quote(scheme_id)}"
        if role in (Role.FUND_MANAGER, Role.REGULATOR, Role.GOVERNMENT):
            items.append((_("Dashboard"), base))
        items.append((_("Loans"), f"{base}/loans"))
        if role == Role.BANK:
            items.append((_("Upload a tape"), f"{base}/tapes"))
        items.append((_("Claims"), f"{base}/claims"))
        items.append((_("Owed"), f"{base}/owed"))
        if role in (Role.FUND_MANAGER, Role.REGULATOR):
            items += [
                (_("Contributions"), f"{base}/contributions"),
                (_("Rule versions"), f"{base}/rules"),
                (_("Targets"), f"{base}/targets"),
                (_("Breakers"), f"{base}/breakers"),
            ]
    if role in (Role.REGULATOR, Role.FUND_MANAGER):
        items.append((_("Audit"), "/audit"))
    items.append((_("API"), "/docs"))
    return items


def page(
    request: Request,
    template: str,
    *,
    session: Session | None,
    title: str,
    scheme_id: str | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page of the console in the user's language."""
    flash = []
    if session is not None:
        flash, session.flash = session.flash, []
    html = environment.get_template(template).render(
        request=request,
        session=session,
        actor=session.actor if session else None,
        csrf=session.csrf if session else "",
        title=title,
        scheme_id=scheme_id,
        nav=nav(session, scheme_id) if session else [],
        lang=i18n.language.get(),
        flash=flash,
        here=here(request),
        url_with=lambda **changes: url_with(request, **changes),
        **context,
    )
    return HTMLResponse(html, status_code=status)


def here(request: Request) -> str:
    """This page's path and query, for `next=` links. A page shown in answer to a form (a refusal)
    stands at the form's POST path, which is no page to come back to: the page the form was on
    (the Referer, sent for this site's own pages only) is."""
    if request.method != "GET":
        referer = urlsplit(request.headers.get("referer", ""))
        if referer.netloc == request.url.netloc and referer.path:
            return local_path(referer.path + (f"?{referer.query}" if referer.query else ""))
        return "/"
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def url_with(request: Request, **changes: Any) -> str:
    """This page's URL with some query parameters changed (None removes one)."""
    query = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = str(value)
    return request.url.path + (f"?{urlencode(query)}" if query else "")


def local_path(target: str | None, default: str = "/") -> str:
    """A `next=` target only if it is a path of this site (no scheme, host or `//`): never an open
    redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 0x20 for c in target):
        return default
    return target


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(local_path(path), status_code=303)


def secure(request: Request) -> bool:
    """Whether the console's cookies are `Secure`: when the request came over TLS (as uvicorn sees
    it: behind a proxy, one whose `X-Forwarded-Proto` it trusts, FORWARDED_ALLOW_IPS), or always
    with RISKPOOL_CONSOLE_SECURE_COOKIES=true (the console is only ever reached over TLS)."""
    return request.url.scheme == "https" or request.app.state.system.settings.console_secure_cookies


def set_language(response: Response, request: Request, lang: str) -> None:
    response.set_cookie(
        LANGUAGE_COOKIE,
        lang,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="strict",
        secure=secure(request),
    )


# Tables as downloads -------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a table: its heading, how to read its value from a row, and its kind
    ("text", "amount" (a yuan string), "int", "date", "instant")."""

    heading: str
    value: Callable[[Any], Any]
    kind: str = "text"
    link: Callable[[Any], str | None] | None = None  # the page a text cell links to


def wants_download(request: Request) -> str | None:
    fmt = request.query_params.get("format")
    return fmt if fmt in ("csv", "xlsx") else None


def download(fmt: str, name: str, columns: Sequence[Column], rows: Sequence[Any]) -> Response:
    """A table as CSV (UTF-8 with a BOM, so a spreadsheet reads Chinese) or XLSX, safe to open:
    text that a spreadsheet would run as a formula is written as text; amounts are exact (in
    XLSX a number with two decimals, which holds every amount of up to 15 digits exactly). The
    file is written in a worker thread as it is sent (never on the event loop); more rows than
    DOWNLOAD_ROWS_MAX are refused (`TooMany`), never cut short."""
    if len(rows) > DOWNLOAD_ROWS_MAX:
        raise TooMany(DOWNLOAD_ROWS_MAX)
    headings = [c.heading for c in columns]
    stamp = datetime.now(i18n.CHINA).strftime("%Y%m%d-%H%M%S")
    filename = f"{name}-{stamp}.{fmt}"
    disposition = f'attachment; filename="{filename.encode("ascii", "replace").decode()}"; ' + (
        f"filename*=UTF-8''{quote(filename)}"
    )
    headers = {"Content-Disposition": disposition}
    language = i18n.language.get()  # the worker thread writes in the user's language too

    def csv_chunks() -> Iterator[bytes]:
        i18n.language.set(language)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        out.write("\ufeff")
        writer.writerow([_safe_text(h) for h in headings])
        for n, row in enumerate(rows, start=1):
            writer.writerow([_csv_cell(c, c.value(row)) for c in columns])
            if n % 1000 == 0:
                yield out.getvalue().encode("utf-8")
                out.seek(0)
                out.truncate()
                i18n.language.set(language)  # each part may be written by another worker thread
        yield out.getvalue().encode("utf-8")

    def xlsx_chunks() -> Iterator[bytes]:
        i18n.language.set(language)
        yield _xlsx(headings, columns, rows)

    if fmt == "csv":
        return StreamingResponse(csv_chunks(), media_type=CSV_MEDIA, headers=headers)
    return StreamingResponse(xlsx_chunks(), media_type=XLSX_MEDIA, headers=headers)


def _safe_text(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_cell(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.kind == "amount" and AMOUNT.fullmatch(str(value)):
        return str(value)
    if column.kind == "int" and isinstance(value, int):
        return str(value)
    if column.kind == "instant":
        return i18n.instant(str(value))
    return _safe_text(value)


def _xlsx(headings: Sequence[str], columns: Sequence[Column], rows: Sequence[Any]) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    sheet = book.add_worksheet()
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": "#,##0.00"})
    for i, heading in enumerate(headings):
        sheet.write_string(0, i, _safe_text(heading), bold)
    for r, row in enumerate(rows, start=1):
        for i, column in enumerate(columns):
            value = column.value(row)
            if value is None:
                continue
            if column.kind == "amount" and AMOUNT.fullmatch(str(value)):
                # an amount of at most 15 significant digits: the double nearest it reads back as
                # the same two-decimal figure (15 < 15.95 decimal digits of a double)
                sheet.write_number(r, i, float(str(value)), money)
            elif column.kind == "int" and isinstance(value, int) and abs(value) < 2**53:
                sheet.write_number(r, i, value)
            elif column.kind == "instant":
                sheet.write_string(r, i, i18n.instant(str(value)))
            else:
                sheet.write_string(r, i, _safe_text(value))
    sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()
