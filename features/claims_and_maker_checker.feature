Feature: Claims and maker-checker
  The bank files a claim on a defaulted loan; a fund manager approves or rejects it. At or
  above the second-approval threshold, a different fund-manager principal must confirm the
  amount unchanged. Only the final approval allocates the loss.
  Rule book: docs/rules.md §5 Claims and allocation, §11 Worked examples.

  Background:
    Given a pool whose members are:
      | party     | role       |
      | bank-a    | bank       |
      | bank-b    | bank       |
      | city-fund | government |
    And the rules:
      """
      covers:
        direct:
          split: {city-fund: 4000, bank: remainder}
      """
    And "bank-a" enrolled and disbursed a direct loan "L1" of 2,000,000.00
    And loan "L1" defaulted with 1,500,000.00 outstanding

  Scenario: W8 — an approval at or above 1,000,000.00 needs a second, different checker
    Given "bank-a" filed a claim on loan "L1" for 1,234,567.89
    When checker "fm-alice" approves the claim on loan "L1" for 1,234,567.89
    Then the claim on loan "L1" is awaiting second approval
    And the claim on loan "L1" has no allocation yet
    When checker "fm-alice" approves the claim on loan "L1" for 1,234,567.89
    Then it is refused with "same_checker"
    And the ledger is unchanged
    When checker "fm-bob" approves the claim on loan "L1" for 1,234,567.89
    Then the claim on loan "L1" is approved
    And the claim on loan "L1" allocates:
      | party     | amount     |
      | city-fund | 493,827.16 |
      | bank-a    | 740,740.73 |

  Scenario: W8 — below the threshold one checker suffices
    Given "bank-a" filed a claim on loan "L1" for 999,999.99
    When checker "fm-alice" approves the claim on loan "L1" for 999,999.99
    Then the claim on loan "L1" is approved

  Scenario: W8 — a bank may not approve a claim
    Given "bank-a" filed a claim on loan "L1" for 999,999.99
    When "bank-a" approves the claim on loan "L1" for 999,999.99
    Then it is refused with "forbidden"
    And the ledger is unchanged

  Scenario: The second checker confirms the amount unchanged, or rejects
    Given "bank-a" filed a claim on loan "L1" for 1,234,567.89
    And checker "fm-alice" approved the claim on loan "L1" for 1,200,000.00
    When checker "fm-bob" approves the claim on loan "L1" for 1,234,567.89
    Then it is refused with "invalid_amount"
    And the ledger is unchanged
    When checker "fm-alice" rejects the claim on loan "L1" because "changed my mind"
    Then it is refused with "same_checker"
    And the ledger is unchanged
    When checker "fm-bob" rejects the claim on loan "L1" because "collateral not yet realised"
    Then the claim on loan "L1" is rejected

  Scenario: A rejected claim may be filed again; an open one may not
    Given "bank-a" filed a claim on loan "L1" for 900,000.00
    When "bank-a" files a claim on loan "L1" for 900,000.00
    Then it is refused with "claim_already_open"
    And the ledger is unchanged
    When checker "fm-alice" rejects the claim on loan "L1" because "documents incomplete"
    And "bank-a" files a claim on loan "L1" for 900,000.00
    Then it is accepted
    And the claim on loan "L1" is numbered 2

  Scenario Outline: A filing or a review the rules do not allow is refused and records nothing
    Given "bank-a" filed a claim on loan "L1" for 900,000.00
    When <act>
    Then it is refused with "<code>"
    And the ledger is unchanged

    Examples:
      | act                                                                   | code                     |
      | checker "fm-alice" approves the claim on loan "L1" for 900,000.01     | approval_exceeds_claim   |
      | checker "fm-alice" rejects the claim on loan "L1" because ""          | reason_required          |
      | checker "fm-alice" approves the claim "bank-a:L1:claim:7" for 1.00    | unknown_claim            |
      | "bank-b" reads the claim on loan "L1"                                 | unknown_claim            |
      | checker "fm-alice" approves the claim on loan "L1" for 0.00           | invalid_amount           |

  Scenario: A claim may not exceed the outstanding principal at default
    When "bank-a" files a claim on loan "L1" for 1,500,000.01
    Then it is refused with "claim_exceeds_outstanding"
    And the ledger is unchanged

  Scenario: A claim must be filed within the window after the default
    When "bank-a" files a claim on loan "L1" 366 days after the default
    Then it is refused with "claim_window_closed"
    And the ledger is unchanged
    When "bank-a" files a claim on loan "L1" 365 days after the default
    Then it is accepted

  Scenario: Only a defaulted loan can be claimed on
    Given "bank-a" enrolled and disbursed a direct loan "L2" of 500,000.00
    When "bank-a" files a claim on loan "L2" for 100,000.00
    Then it is refused with "invalid_transition"
    And the ledger is unchanged

  Scenario: A rejected claim cannot be approved
    Given "bank-a" filed a claim on loan "L1" for 900,000.00
    And checker "fm-alice" rejected the claim on loan "L1" because "no collateral report"
    When checker "fm-bob" approves the claim on loan "L1" for 900,000.00
    Then it is refused with "invalid_transition"
    And the ledger is unchanged

  Scenario: A settlement payment is refused above what the party still owes
    Given the claim on loan "L1" for 1,000,000.00 was filed and approved
    When "city-fund" pays 400,000.01 of its share of the claim on loan "L1"
    Then it is refused with "overpayment"
    And the ledger is unchanged
    When "city-fund" pays 400,000.00 of its share of the claim on loan "L1"
    Then the claim on loan "L1" is settled
