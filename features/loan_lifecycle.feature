Feature: The loan lifecycle
  enrolled → disbursed → (repaid | defaulted → written off); enrolled → withdrawn. Each fact is
  recorded by the loan's own bank, on a business date that never goes backwards along the loan.
  Rule book: docs/rules.md §1 Money, dates and identifiers, §4 Loans.

  Background:
    Given a pool whose members are:
      | party     | role       |
      | bank-a    | bank       |
      | bank-b    | bank       |
      | ins-a     | insurer    |
      | guar-a    | guarantor  |
      | city-fund | government |
    And the rules:
      """
      covers:
        direct:
          split: {city-fund: 4000, bank: remainder}
        insured:
          split: {bank: 2000, insurer: 8000}
        guaranteed:
          split: {guarantor: 4000, city-fund: 3000, bank: remainder}
      """
    And "bank-a" enrolled and disbursed a direct loan "L1" of 1,000,000.00

  Scenario: A loan repaid in full is repaid
    When "bank-a" repays 1,000,000.00 of principal and 20,000.00 of interest on loan "L1"
    Then it is accepted
    And loan "L1" is repaid

  Scenario Outline: A fact the loan's state or figures do not allow is refused and records nothing
    When <act>
    Then it is refused with "<code>"
    And the ledger is unchanged

    Examples:
      | act                                                                   | code                  |
      | "bank-a" repays 1,000,000.01 of principal and 0.00 of interest on loan "L1" | overpayment     |
      | "bank-a" repays 0.00 of principal and 0.00 of interest on loan "L1"   | invalid_amount        |
      | "bank-a" disburses 1,000,000.00 on loan "L1"                          | invalid_transition    |
      | "bank-a" declares loan "L1" in default 89 days overdue                | not_yet_defaulted     |
      | "bank-a" withdraws loan "L1"                                          | invalid_transition    |
      | "bank-a" writes off loan "L1"                                         | invalid_transition    |
      | "bank-b" repays 1.00 of principal and 0.00 of interest on loan "L1"   | unknown_loan          |
      | "bank-a" repays 1.00 of principal and 0.00 of interest on loan "NONE" | unknown_loan          |
      | "city-fund" repays 1.00 of principal and 0.00 of interest on loan "L1" | forbidden            |
      | "ins-a" records a premium of 1,000.00 on loan "L1"                    | unknown_loan          |
      | a fund manager records a premium of 1,000.00 by "ins-a" on loan "L1"  | wrong_cover           |
      | a fund manager records a fee of 1,000.00 by "guar-a" on loan "L1"     | wrong_cover           |

  Scenario: A disbursement must equal the principal
    Given "bank-a" enrolled a direct loan "L2" of 500,000.00
    When "bank-a" disburses 499,999.99 on loan "L2"
    Then it is refused with "disbursement_mismatch"
    And the ledger is unchanged
    When "bank-a" disburses 500,000.00 on loan "L2"
    Then it is accepted

  Scenario: A fact may not be dated before the loan's last fact, nor after today
    Given "bank-a" repaid 100,000.00 of principal on loan "L1" on 2019-06-01
    When "bank-a" repays 100,000.00 of principal on loan "L1" on 2019-05-31
    Then it is refused with "invalid_date"
    And the ledger is unchanged
    When "bank-a" repays 100,000.00 of principal on loan "L1" on 2026-11-28
    Then it is refused with "invalid_date"
    And the ledger is unchanged
    When "bank-a" repays 100,000.00 of principal on loan "L1" on 2019-06-01
    Then it is accepted

  Scenario: The insurer records premiums on the loans it insures, the guarantor fees on its own
    Given "bank-a" enrolled and disbursed an insured loan "I1" of 800,000.00 insured by "ins-a"
    When "ins-a" records a premium of 20,000.00 on loan "I1"
    Then it is accepted
    When "guar-a" records a fee of 1,000.00 on loan "I1"
    Then it is refused with "unknown_loan"
    And the ledger is unchanged
    When "ins-a" records a fee of 1,000.00 on loan "I1"
    Then it is refused with "forbidden"
    And the ledger is unchanged

  Scenario: A defaulted loan is written off once its claim is settled
    Given loan "L1" defaulted with 1,000,000.00 outstanding
    And the claim on loan "L1" for 1,000,000.00 was filed and approved
    When "bank-a" writes off loan "L1"
    Then it is refused with "invalid_transition"
    And the ledger is unchanged
    Given "city-fund" paid its share of the claim on loan "L1"
    When "bank-a" writes off loan "L1"
    Then it is accepted
    And loan "L1" is written_off
