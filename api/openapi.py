"""The OpenAPI document: FastAPI's, with what every answer shares stated once.

FastAPI documents each route's own parameters, bodies and answers. Three things hold for every
route because middleware and the error switch make them so, and are added here: refusals are
`application/problem+json` with the `Problem` schema; every answer carries `X-Request-Id`; every
body may be refused with 413. Schemas that nothing reaches (FastAPI's own validation error, which
the error switch replaces) are left out, following references through the schemas themselves.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.errors import PROBLEM

REF = "#/components/schemas/"
PROBLEM_REF = {"$ref": f"{REF}Problem"}
HEADERS = {
    "RequestId": {
        "description": "the request's id (yours from X-Request-Id, or one made for it): quote it in a query",
        "schema": {"type": "string", "examples": ["9b1d4c0e5f6a4b7c8d9e0f1a2b3c4d5e"]},
    },
    "WwwAuthenticate": {"description": "`Bearer`", "schema": {"type": "string", "examples": ["Bearer"]}},
}
TOO_LARGE = "payload_too_large: the body is above its limit (1 MiB; 64 MiB for a loan tape)"


def document(app: FastAPI) -> dict[str, Any]:
    """The document, built once per application."""
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        doc.setdefault("components", {})["headers"] = HEADERS
        for operation in _operations(doc):
            _complete(operation)
        schemas = doc.get("components", {}).get("schemas", {})
        reachable = _reachable({k: v for k, v in doc.items() if k != "components"}, schemas)
        for name in set(schemas) - reachable:
            del schemas[name]
        app.openapi_schema = doc
    return app.openapi_schema


def _operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for item in doc.get("paths", {}).values() for op in item.values() if isinstance(op, dict)]


def _complete(operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    if "requestBody" in operation:
        responses.setdefault("413", {"description": TOO_LARGE})
    for status, response in responses.items():
        if int(status) >= 400:
            response["content"] = {PROBLEM: {"schema": PROBLEM_REF}}
        headers = response.setdefault("headers", {})
        headers["X-Request-Id"] = {"$ref": "#/components/headers/RequestId"}
        if status == "401":
            headers["WWW-Authenticate"] = {"$ref": "#/components/headers/WwwAuthenticate"}


def _reachable(roots: Any, schemas: dict[str, Any]) -> set[str]:
    """The names of the schemas that `roots` refers to, directly or through other schemas."""
    found: set[str] = set()
    pending = [roots]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(REF):
                name = ref[len(REF) :]
                if name not in found and name in schemas:
                    found.add(name)
                    pending.append(schemas[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found
