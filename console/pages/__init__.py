"""The console's pages, one module per area, each with its `router`: entry (sign-in, language,
schemes), and the areas of the fund manager, the regulator and the banks."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    found = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: (m.name != "entry", m.name)):
        router = getattr(importlib.import_module(f"{__name__}.{module.name}"), "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return found
