"""The demo's loan book: a few hundred fictional technology SMEs and their loans, by seed."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from ledger.money import Money
from ledger.service import Enrolment
from ledger.uscc import ALPHABET, make_uscc
from riskpool.demo.cast import BANKS, GUARANTOR, INSURER

LOANS = 320
ENROL_FROM, ENROL_DAYS = date(2018, 10, 15), 775  # until late 2020
# chaoge-bank's book goes bad and its loss-rate breaker trips; the other banks' few defaults are
# small loans of 2019 that default a few quarters later, when their books are large enough to absorb them.
# Insured loans never default here: the insurer's breaker stays clear (one tripped breaker).
DEFAULTS_BAD_BANK = ("chaoge-bank", 8)
DEFAULTS_OTHER_BANKS = 4
SMALL_LOAN_FEN = 120_000_000
_PLACES = ["淇滨", "山城", "鹤山", "浚县", "淇县", "示范区", "宝山", "金山"]
_WORDS = [
    "星河",
    "华创",
    "远景",
    "博睿",
    "云帆",
    "中科",
    "新材",
    "智联",
    "恒通",
    "汇能",
    "卓越",
    "启明",
    "瑞达",
    "天工",
    "信诚",
    "明德",
    "合力",
    "安泰",
    "宏图",
    "锐思",
]
_TRADES = ["电子科技", "新材料", "智能装备", "生物医药", "软件", "光电科技", "环保科技", "数控机械"]


@dataclass(frozen=True)
class PlannedLoan:
    bank_id: str
    enrolment: Enrolment
    defaults_at: int | None  # the quarterly instalment it misses, if it defaults

    @property
    def loan_ref(self) -> str:
        return self.enrolment.loan_ref


def plan_loans(seed: int) -> list[PlannedLoan]:
    rng = random.Random(seed)
    drafts = [_draft(rng, i) for i in range(LOANS)]
    defaulting = _choose_defaults(rng, drafts)
    return [
        PlannedLoan(bank, enrolment, _missed_instalment(rng, enrolment) if i in defaulting else None)
        for i, (bank, enrolment) in enumerate(drafts)
    ]


def _draft(rng: random.Random, index: int) -> tuple[str, Enrolment]:
    bank = rng.choice(sorted(BANKS))
    enrolled_on = ENROL_FROM + timedelta(days=rng.randrange(ENROL_DAYS))
    principal_yuan = rng.choice([50, 80, 100, 120, 150, 200, 250, 300, 400, 500, 800, 1200]) * 10_000
    ip_pledge = rng.random() < 0.2
    cover = rng.choices(["direct", "guaranteed", "insured"], weights=[45, 30, 25])[0]
    tags = (["ip_pledge"] if ip_pledge else []) + (["first_loan"] if rng.random() < 0.3 else [])
    return bank, Enrolment(
        loan_ref=f"HB{enrolled_on.year}-{index + 1:04d}",
        borrower_name=f"鹤壁{rng.choice(_PLACES)}{rng.choice(_WORDS)}{rng.choice(_TRADES)}有限公司",
        borrower_uscc=make_uscc("91410600" + "".join(rng.choice(ALPHABET) for _ in range(9))),
        product="ip_pledge_loan" if ip_pledge else "tech_loan",
        principal=Money(principal_yuan * 100),
        rate_bp=rng.randrange(400, 651, 5),
        term_months=rng.choice([12, 24, 36]),
        enrolled_on=enrolled_on,
        cover=cover,
        cover_party_id={"direct": None, "guaranteed": GUARANTOR[0], "insured": INSURER[0]}[cover],
        tags=tuple(tags),
    )


def _choose_defaults(rng: random.Random, drafts: list[tuple[str, Enrolment]]) -> set[int]:
    chosen: set[int] = set()
    for bank in sorted(BANKS):

        def fits(b: str, e: Enrolment, bank: str = bank) -> bool:
            if b != bank or e.cover == "insured":
                return False
            if bank == DEFAULTS_BAD_BANK[0]:
                return e.enrolled_on < date(2019, 4, 1)
            return date(2019, 3, 1) <= e.enrolled_on < date(2020, 1, 1) and e.principal.fen <= SMALL_LOAN_FEN

        candidates = [i for i, (b, e) in enumerate(drafts) if fits(b, e)]
        count = DEFAULTS_BAD_BANK[1] if bank == DEFAULTS_BAD_BANK[0] else DEFAULTS_OTHER_BANKS
        chosen.update(rng.sample(candidates, min(count, len(candidates))))
    return chosen


def _missed_instalment(rng: random.Random, enrolment: Enrolment) -> int:
    """One of the first three quarterly instalments (and never the last), so the default and
    its claim fall inside the pilot's horizon."""
    return rng.randint(1, min(3, enrolment.term_months // 3 - 1))
