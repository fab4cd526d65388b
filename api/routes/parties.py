"""Parties of the programme: banks, guarantors, insurers and government funds."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Cursor, Limit, ReadCall, WriteCall
from api.routes import READ, WRITE
from api.schemas.common import Ref, Written, decode_cursor, encode_cursor
from api.schemas.reports import PartiesPublic
from api.schemas.schemes import PartyCreate, PartyPublic
from ledger.commands import RegisterParty
from ledger.errors import UnknownParty
from projections.models import parties as party_model

router = APIRouter(prefix="/v1/parties", tags=["parties"])


@router.post(
    "", status_code=201, responses=WRITE, response_model=Written, summary="Register a party (fund manager)"
)
async def register_party(body: PartyCreate, call: WriteCall):
    receipt = await call.handle(RegisterParty(body.party_id, body.role, body.name, body.registered_on))
    return call.answer(receipt, {"party": f"/v1/parties/{body.party_id}"})


@router.get("", response_model=PartiesPublic, responses=READ, summary="List the parties")
def list_parties(read: ReadCall, limit: Limit = 100, cursor: Cursor = None) -> PartiesPublic:
    after = decode_cursor(cursor, (str,))
    with read.engine.connect() as conn:
        rows = [
            PartyPublic(**row._mapping) for row in party_model.page(conn, after[0] if after else None, limit)
        ]
    return PartiesPublic(
        items=rows, next_cursor=encode_cursor([rows[-1].party_id]) if len(rows) == limit else None
    )


@router.get("/{party_id}", response_model=PartyPublic, responses=READ, summary="One party")
def get_party(party_id: Ref, read: ReadCall) -> PartyPublic:
    with read.engine.connect() as conn:
        row = party_model.one(conn, party_id)
    if row is None:
        raise UnknownParty(f"no party {party_id!r}", party_id=party_id)
    return PartyPublic(**row._mapping)
