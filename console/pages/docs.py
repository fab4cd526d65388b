"""The API's reference (Swagger UI) served from this process: it works on a network with no
internet, and its Authorize button takes a `Bearer rpk_…` key (the document's `bearer` scheme)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from console import i18n

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
async def docs(request: Request) -> HTMLResponse:
    from console.web import environment

    html = environment.get_template("docs/swagger.html").render(lang=i18n.language.get())
    return HTMLResponse(html)
