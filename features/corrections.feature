Feature: Corrections
  Nothing is updated or deleted. A fact recorded by mistake is reversed by a reversal fact that
  names it and says why, followed by the right fact; the history keeps all three.
  Rule book: docs/rules.md §10 Audit and corrections, §11 Worked examples.

  Background:
    Given a pool whose members are:
      | party     | role       |
      | bank-a    | bank       |
      | bank-b    | bank       |
      | ins-a     | insurer    |
      | city-fund | government |
    And the rules:
      """
      covers:
        direct:
          split: {city-fund: 4000, bank: remainder}
        insured:
          split: {bank: 2000, insurer: 8000}
      """
    And "bank-a" enrolled and disbursed a direct loan "L1" of 1,000,000.00

  Scenario: W9 — a mistaken repayment is reversed and recorded again
    Given "bank-a" recorded a repayment of 100,000.00 of principal on loan "L1" by mistake
    When "bank-a" reverses that repayment because "keyed 100,000.00 for 10,000.00"
    And "bank-a" records a repayment of 10,000.00 of principal on loan "L1"
    Then the principal repaid on loan "L1" is 10,000.00
    And the exposure of the pool is 990,000.00
    And the history of loan "L1" shows, in order:
      | fact              | recorded by | amount     |
      | Enrolled          | bank-a-ops  |            |
      | Disbursed         | bank-a-ops  |            |
      | Repaid            | bank-a-ops  | 100,000.00 |
      | RepaymentReversed | bank-a-ops  |            |
      | Repaid            | bank-a-ops  | 10,000.00  |

  Scenario: A reversal needs a reason, and a fact is reversed once only
    Given "bank-a" recorded a repayment of 100,000.00 of principal on loan "L1" by mistake
    When "bank-a" reverses that repayment because ""
    Then it is refused with "reason_required"
    And the ledger is unchanged
    When "bank-a" reverses that repayment because "wrong amount"
    Then it is accepted
    When "bank-a" reverses that repayment because "wrong amount"
    Then it is refused with "already_reversed"
    And the ledger is unchanged

  Scenario Outline: Reversing what cannot be reversed records nothing
    When "<who>" reverses the fact "<fact>" because "a mistake"
    Then it is refused with "<code>"
    And the ledger is unchanged

    Examples:
      | who       | fact                          | code         |
      | bank-a    | bank-a:L1:repayment:9         | unknown_fact |
      | bank-a    | not a fact id                 | unknown_fact |
      | bank-b    | bank-a:L1:repayment:1         | unknown_loan |
      | bank-a    | city-fund:contribution:1      | forbidden    |
      | ins-a     | bank-a:L1:repayment:1         | forbidden    |

  Scenario: A contribution already paid out cannot be reversed
    Given loan "L1" defaulted with 1,000,000.00 outstanding
    And the claim on loan "L1" for 500,000.00 was filed and approved
    And "city-fund" paid its share of the claim on loan "L1"
    When "city-fund" reverses the fact "city-fund:contribution:1" because "a mistake"
    Then it is refused with "irreversible"
    And the ledger is unchanged

  Scenario: A repayment before a default cannot be reversed after it
    Given "bank-a" recorded a repayment of 100,000.00 of principal on loan "L1" by mistake
    And loan "L1" defaulted with 900,000.00 outstanding
    When "bank-a" reverses that repayment because "wrong amount"
    Then it is refused with "irreversible"
    And the ledger is unchanged

  Scenario: A contribution recorded twice is reversed, and the fund balance follows
    Given "city-fund" has contributed 2,000,000.00
    When a fund manager reverses the fact "city-fund:contribution:2" because "entered twice"
    Then it is accepted
    And the fund balance of "city-fund" is 10,000,000.00

  Scenario: A recovery whose parts were paid cannot be reversed; its part payment first
    Given loan "L1" defaulted with 1,000,000.00 outstanding
    And the claim on loan "L1" for 500,000.00 was filed and approved
    And "bank-a" recovered 100,000.00 gross with 0.00 costs on the claim on loan "L1"
    And "bank-a" paid "city-fund" its recovery part on the claim on loan "L1"
    When "bank-a" reverses the recovery on the claim on loan "L1" because "cheque bounced"
    Then it is refused with "irreversible"
    And the ledger is unchanged
    When "bank-a" reverses the recovery payment on the claim on loan "L1" because "cheque bounced"
    And "bank-a" reverses the recovery on the claim on loan "L1" because "cheque bounced"
    Then it is accepted
    And the fund balance of "city-fund" is 10,000,000.00

  Scenario: A settlement payment recorded by mistake is reversed and the claim is open again
    Given loan "L1" defaulted with 1,000,000.00 outstanding
    And the claim on loan "L1" for 500,000.00 was filed and approved
    And "city-fund" paid its share of the claim on loan "L1"
    When a fund manager reverses the payment on the claim on loan "L1" because "paid from the wrong account"
    Then it is accepted
    And the claim on loan "L1" is approved
    And the fund balance of "city-fund" is 10,000,000.00

  Scenario: A premium recorded by mistake is reversed by the insurer
    Given "bank-a" enrolled and disbursed an insured loan "I1" of 500,000.00 insured by "ins-a"
    And "ins-a" recorded a premium of 12,500.00 on loan "I1"
    When "ins-a" reverses the fact "bank-a:I1:premium:1" because "premium waived"
    Then it is accepted
    And the premiums of "ins-a" this year are 0.00
