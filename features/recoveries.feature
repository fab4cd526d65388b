Feature: Recoveries
  What the bank recovers after a claim is approved is shared back by each party's unrecovered
  loss, so no party gets back more than it bore. The bank keeps its own part and owes the others
  theirs.
  Rule book: docs/rules.md §6 Recoveries, §11 Worked examples.

  Background:
    Given a pool whose members are:
      | party            | role       |
      | bank-a           | bank       |
      | guar-a           | guarantor  |
      | prov-reguarantee | government |
      | city-fund        | government |
    And the rules:
      """
      covers:
        guaranteed:
          split: {guarantor: 4000, prov-reguarantee: 3000, bank: 2000, city-fund: 1000}
      """
    And "bank-a" enrolled and disbursed a guaranteed loan "L1" of 2,000,000.00 guaranteed by "guar-a"
    And loan "L1" defaulted with 1,234,567.89 outstanding
    And the claim on loan "L1" for 1,234,567.89 was filed and approved
    And every party has paid its share of the claim on loan "L1"

  Scenario: W4 — a recovery shared back by the allocations
    When "bank-a" recovers 300,000.00 gross with 12,345.68 costs on the claim on loan "L1"
    Then it is accepted
    And the recovery is shared:
      | party            | amount     |
      | guar-a           | 115,061.73 |
      | prov-reguarantee | 86,296.30  |
      | bank-a           | 57,530.86  |
      | city-fund        | 28,765.43  |
    And on the claim on loan "L1" "bank-a" owes:
      | party            | amount     |
      | guar-a           | 115,061.73 |
      | prov-reguarantee | 86,296.30  |
      | city-fund        | 28,765.43  |

  Scenario: W4 — recovery costs above 5% of the gross are refused
    When "bank-a" recovers 300,000.00 gross with 15,000.01 costs on the claim on loan "L1"
    Then it is refused with "recovery_costs_exceed_cap"
    And the ledger is unchanged

  Scenario: A recovery on a claim not yet approved is refused
    Given "bank-a" enrolled and disbursed a guaranteed loan "L2" of 500,000.00 guaranteed by "guar-a"
    And loan "L2" defaulted with 400,000.00 outstanding
    When "bank-a" files a claim on loan "L2" for 400,000.00
    And "bank-a" recovers 100,000.00 gross with 0.00 costs on the claim on loan "L2"
    Then it is refused with "invalid_transition"
    And the ledger is unchanged

  Scenario: Net recoveries may not exceed the approved loss
    Given "bank-a" recovered 1,000,000.00 gross with 0.00 costs on the claim on loan "L1"
    When "bank-a" recovers 234,567.90 gross with 0.00 costs on the claim on loan "L1"
    Then it is refused with "recovery_exceeds_loss"
    And the ledger is unchanged

  Scenario: A recovery of the whole loss makes everyone whole
    When "bank-a" recovers 1,234,567.89 gross with 0.00 costs on the claim on loan "L1"
    Then the recovery is shared:
      | party            | amount     |
      | guar-a           | 493,827.15 |
      | prov-reguarantee | 370,370.37 |
      | bank-a           | 246,913.58 |
      | city-fund        | 123,456.79 |

  Scenario: The bank may not pay a party more of the recoveries than it owes it
    Given "bank-a" recovered 300,000.00 gross with 12,345.68 costs on the claim on loan "L1"
    When "bank-a" pays "guar-a" 115,061.74 of the recoveries on the claim on loan "L1"
    Then it is refused with "overpayment"
    And the ledger is unchanged

  Scenario: A government party's recovery part returns to its fund when paid
    Given "bank-a" recovered 300,000.00 gross with 12,345.68 costs on the claim on loan "L1"
    When "bank-a" pays "city-fund" 28,765.43 of the recoveries on the claim on loan "L1"
    Then it is accepted
    And the fund balance of "city-fund" is 9,905,308.64
