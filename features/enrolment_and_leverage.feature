Feature: Enrolment and leverage
  A bank enrols its loans under the rule version in force on the enrolment date. The ledger
  refuses a loan it may not take on, and never lets exposure pass the leverage limit: the
  multiple times what the government funds have paid in.
  Rule book: docs/rules.md §3 Schemes and rule versions, §4 Loans, §11 Worked examples.

  Background:
    Given a pool whose members are:
      | party     | role       |
      | bank-a    | bank       |
      | bank-b    | bank       |
      | guar-a    | guarantor  |
      | city-fund | government |
    And "bank-z" is a registered bank that is not a member of the pool
    And the rules:
      """
      covers:
        direct:
          split: {city-fund: 4000, bank: remainder}
        guaranteed:
          split: {guarantor: 4000, city-fund: 3000, bank: remainder}
      """

  Scenario: W7 — exposure may reach the leverage limit but not pass it
    Given "bank-a" enrolled and disbursed a direct loan "L1" of 30,000,000.00
    And "bank-a" enrolled and disbursed a direct loan "L2" of 30,000,000.00
    And "bank-a" enrolled and disbursed a direct loan "L3" of 30,000,000.00
    And "bank-b" enrolled and disbursed a direct loan "B1" of 9,500,000.00
    And the exposure of the pool is 99,500,000.00
    When "bank-a" enrols a direct loan "L4" of 600,000.00
    Then it is refused with "leverage_exceeded"
    And the ledger is unchanged
    When "bank-a" enrols a direct loan "L4" of 500,000.00
    Then it is accepted
    And the exposure of the pool is 100,000,000.00

  Scenario: Repayments and withdrawals release exposure
    Given "bank-a" enrolled and disbursed a direct loan "L1" of 1,000,000.00
    And "bank-a" repaid 400,000.00 of loan "L1"
    And "bank-a" enrolled a direct loan "L2" of 2,000,000.00 and withdrew it
    Then the exposure of the pool is 600,000.00

  Scenario: Loan references are unique per bank
    Given "bank-a" enrolled and disbursed a direct loan "L1" of 1,000,000.00
    When "bank-a" enrols a direct loan "L1" of 1,000,000.00
    Then it is refused with "duplicate_loan"
    And the ledger is unchanged
    When "bank-b" enrols a direct loan "L1" of 1,000,000.00
    Then it is accepted

  Scenario Outline: An enrolment that breaks a rule is refused and records nothing
    When "<bank>" enrols a direct loan "L9" of <principal> with <change>
    Then it is refused with "<code>"
    And the ledger is unchanged

    Examples:
      | bank   | principal     | change                                 | code              |
      | bank-z | 1,000,000.00  | term of 24-months                      | not_a_member      |
      | bank-a | 1,000,000.00  | guarantor bank-z                       | not_a_member      |
      | bank-a | 1,000,000.00  | guarantor outsider-guarantee           | not_a_member      |
      | bank-a | 30,000,000.01 | term of 24-months                      | ineligible_loan   |
      | bank-a | 1,000,000.00  | term of 48-months                      | ineligible_loan   |
      | bank-a | 1,000,000.00  | enrolment date 2017-12-31              | no_rules_in_force |
      | bank-a | 1,000,000.00  | enrolment date 2026-11-28              | invalid_date      |
      | bank-a | 1,000,000.00  | borrower USCC 91350100M000100Y44       | invalid_uscc      |
      | bank-a | 1,000,000.00  | borrower USCC 91350100m000100Y43       | invalid_uscc      |
      | bank-a | 1,000,000.00  | borrower USCC 91350100M000100Y4        | invalid_uscc      |
      | bank-a | 0.00          | term of 24-months                      | invalid_amount    |

  Scenario: A bank enrols for itself only, and a regulator enrols nothing
    When "bank-a" enrols for "bank-b" a direct loan "L1" of 1,000,000.00
    Then it is refused with "forbidden"
    And the ledger is unchanged
    When "regulator-pboc" enrols for "bank-a" a direct loan "L1" of 1,000,000.00
    Then it is refused with "forbidden"
    And the ledger is unchanged

  Scenario: Enrolling into a scheme that does not exist
    When "bank-a" enrols into scheme "no-such-pool" a direct loan "L1" of 1,000,000.00
    Then it is refused with "unknown_scheme"
    And the ledger is unchanged

  Scenario: A rule version governs the loans enrolled under it for life
    Given a second rule version effective from 2020-01-01 gives city-fund 2000 on direct loans
    And "bank-a" enrolled and disbursed a direct loan "OLD" of 1,000,000.00 on 2019-12-30
    And "bank-a" enrolled and disbursed a direct loan "NEW" of 1,000,000.00 on 2020-01-02
    And loan "OLD" defaulted with 1,000,000.00 outstanding
    And loan "NEW" defaulted with 1,000,000.00 outstanding
    When the claim on loan "OLD" for 500,000.00 is filed and approved
    And the claim on loan "NEW" for 500,000.00 is filed and approved
    Then the claim on loan "OLD" allocates:
      | party     | amount     |
      | city-fund | 200,000.00 |
      | bank-a    | 300,000.00 |
    And the claim on loan "NEW" allocates:
      | party     | amount     |
      | city-fund | 100,000.00 |
      | bank-a    | 400,000.00 |
