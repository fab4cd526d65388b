"""The API baseline: a bare FastAPI endpoint at the claim-filing route, validating the same body
with the same pydantic models, answering with the same response model, served as `riskpool serve`
serves the ledger (uvicorn, one process, the same log level). It records nothing.

    python -m bench.bare_api --port 8765
"""

from __future__ import annotations

import itertools

import typer
from fastapi import FastAPI

from api.schemas.claims import ClaimCreate
from api.schemas.common import Ref, Written

app = FastAPI()
positions = itertools.count(1)


@app.post(
    "/v1/schemes/{scheme_id}/banks/{bank_id}/loans/{loan_ref}/claims", status_code=201, response_model=Written
)
def file_claim(scheme_id: Ref, bank_id: Ref, loan_ref: Ref, body: ClaimCreate) -> Written:
    return Written(position=next(positions), claim_id=f"{bank_id}:{loan_ref}:claim:1", status="filed")


@app.get("/v1/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


def main(port: int = 8765, host: str = "127.0.0.1") -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="info")


if __name__ == "__main__":
    typer.run(main)
