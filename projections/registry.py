"""The read models, each a module of its own. A new read model is a new module listed here; on
start it catches up on its own from the first event, and `riskpool projections rebuild --model
NAME` rebuilds one model while the others stay as they are."""

from __future__ import annotations

from projections.audit.model import model as audit
from projections.model import ReadModel
from projections.models import breakers, claims, journal, loans, parties, schemes, targets

MODELS: tuple[ReadModel, ...] = (
    parties.model,
    schemes.model,
    loans.model,
    claims.model,
    journal.model,
    breakers.model,
    targets.model,
    audit,
)


def named(name: str) -> ReadModel:
    for model in MODELS:
        if model.name == name:
            return model
    raise KeyError(f"no read model {name!r}; there are {', '.join(m.name for m in MODELS)}")
