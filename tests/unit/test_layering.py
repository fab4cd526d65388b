"""The domain depends on nothing outside it: no web framework, no ORM, no outer layer."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("fastapi", "starlette", "sqlalchemy", "api", "projections", "uvicorn")


def test_importing_the_ledger_loads_no_web_framework_orm_or_outer_layer() -> None:
    code = (
        "import sys, json, ledger, ledger.service, ledger.rules, ledger.domain; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = json.loads(
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    )
    assert not set(FORBIDDEN) & set(loaded), set(FORBIDDEN) & set(loaded)


def test_the_ledger_sources_import_no_outer_layer() -> None:
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2] / "ledger"
    pattern = re.compile(r"^\s*(?:from|import)\s+(" + "|".join(FORBIDDEN) + r")\b", re.M)
    offenders = [str(p) for p in root.rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
