"""Who takes part in the demo pilot. Every borrower is fictional; no real firm defaults here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ledger.actors import Actor, Role

SCHEME_NAME = "鹤壁市科技贷款风险补偿资金池 (demo)"
START = date(2018, 9, 30)  # the notice's 成文日期
END = date(2020, 12, 31)  # the pilot's horizon

GOVERNMENT = {
    "hebi-finance": "鹤壁市财政局 科技贷款风险补偿资金 (city fund)",
    "qibin-fund": "淇滨区科技金融专项资金 (county fund)",
    "xunxian-fund": "浚县信贷风险补偿资金 (county fund)",
}
BANKS = {
    "taihang-bank": "太行科创银行鹤壁分行 (fictional)",
    "qihe-bank": "淇河商业银行 (fictional)",
    "chaoge-bank": "朝歌农村商业银行 (fictional)",
    "yunmeng-bank": "云梦科技银行鹤壁支行 (fictional)",
}
GUARANTOR = ("hebi-tech-guarantee", "鹤壁科技融资担保有限公司 (fictional)")
INSURER = ("yuhe-insurance", "豫鹤财产保险鹤壁中心支公司 (fictional)")

CONTRIBUTIONS = [  # (date, party, yuan): 8000万 by 2020, the notice's fiscal target
    (date(2018, 10, 10), "hebi-finance", "30000000.00"),
    (date(2018, 10, 10), "qibin-fund", "5000000.00"),
    (date(2018, 10, 10), "xunxian-fund", "5000000.00"),
    (date(2019, 1, 15), "hebi-finance", "15000000.00"),
    (date(2019, 1, 15), "qibin-fund", "2500000.00"),
    (date(2019, 1, 15), "xunxian-fund", "2500000.00"),
    (date(2020, 1, 15), "hebi-finance", "15000000.00"),
    (date(2020, 1, 15), "qibin-fund", "2500000.00"),
    (date(2020, 1, 15), "xunxian-fund", "2500000.00"),
]

TARGETS = [  # the notice's stage goals (二、目标任务 and the 阶段目标)
    {
        "target_id": "lending-2018",
        "metric": "cumulative_lending",
        "amount": "200000000.00",
        "by": "2018-12-31",
    },
    {
        "target_id": "lending-2019",
        "metric": "cumulative_lending",
        "amount": "300000000.00",
        "by": "2019-12-31",
    },
    {
        "target_id": "lending-2020",
        "metric": "cumulative_lending",
        "amount": "1000000000.00",
        "by": "2020-12-31",
    },
    {"target_id": "firms-2020", "metric": "firms_served", "count": 50, "by": "2020-12-31"},
    {
        "target_id": "fiscal-2020",
        "metric": "cumulative_contributions",
        "amount": "80000000.00",
        "by": "2020-12-31",
    },
]

FM_MAKER = Actor("fm-zhang", Role.FUND_MANAGER, request_id="demo")
FM_CHECKER = Actor("fm-li", Role.FUND_MANAGER, request_id="demo")


@dataclass(frozen=True)
class Cast:
    @staticmethod
    def bank(bank_id: str) -> Actor:
        return Actor(f"{bank_id}-ops", Role.BANK, bank_id, request_id="demo")

    @staticmethod
    def guarantor() -> Actor:
        return Actor(f"{GUARANTOR[0]}-ops", Role.GUARANTOR, GUARANTOR[0], request_id="demo")

    @staticmethod
    def insurer() -> Actor:
        return Actor(f"{INSURER[0]}-ops", Role.INSURER, INSURER[0], request_id="demo")

    @staticmethod
    def payer(party_id: str) -> Actor:
        """Who records a settlement payment: the guarantor or insurer itself, or the fund manager."""
        if party_id == GUARANTOR[0]:
            return Cast.guarantor()
        if party_id == INSURER[0]:
            return Cast.insurer()
        return FM_MAKER


def all_parties() -> list[tuple[str, str, str]]:
    """(party id, role, name) of every member of the demo scheme."""
    return (
        [(p, "government", n) for p, n in GOVERNMENT.items()]
        + [(p, "bank", n) for p, n in BANKS.items()]
        + [(GUARANTOR[0], "guarantor", GUARANTOR[1]), (INSURER[0], "insurer", INSURER[1])]
    )
