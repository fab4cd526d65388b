"""One handler per command: `handler(unit_of_work, command) -> Receipt`.

A handler checks what was asked, loads what it needs through the unit of work, calls the
aggregates (where the rules live) and says what was recorded. It never saves: the pipeline does
(ledger/service/pipeline.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger import commands as c
from ledger.service.call import Receipt
from ledger.service.handlers import claims, keys, loans, reversals, schemes
from ledger.service.unit_of_work import UnitOfWork

Handler = Callable[[UnitOfWork, Any], Receipt]

HANDLERS: dict[type[c.Command], Handler] = {
    c.CreateScheme: schemes.create_scheme,
    c.RegisterParty: schemes.register_party,
    c.AdmitMember: schemes.admit_member,
    c.PublishRules: schemes.publish_rules,
    c.SetTargets: schemes.set_targets,
    c.RecordContribution: schemes.record_contribution,
    c.ResetBreaker: schemes.reset_breaker,
    c.Reverse: reversals.reverse,
    c.EnrolLoan: loans.enrol_loan,
    c.EnrolTape: loans.enrol_tape,
    c.Disburse: loans.disburse,
    c.Repay: loans.repay,
    c.DeclareDefault: loans.declare_default,
    c.Withdraw: loans.withdraw,
    c.WriteOff: loans.write_off,
    c.RecordPremium: loans.record_premium,
    c.RecordFee: loans.record_fee,
    c.FileClaim: claims.file_claim,
    c.ApproveClaim: claims.approve_claim,
    c.RejectClaim: claims.reject_claim,
    c.PaySettlement: claims.pay_settlement,
    c.RecordRecovery: claims.record_recovery,
    c.PayRecoveryPart: claims.pay_recovery_part,
    c.IssueKey: keys.issue_key,
    c.RevokeKey: keys.revoke_key,
}
