Feature: What each party owes, and the loss ratios
  The fund manager reconciles the pool from the read models: who owes whom on every claim, in
  total and net between each pair of parties, and the loss ratios gross and net of recoveries.
  Every figure is derived from the recorded facts alone.
  Rule book: docs/rules.md §6 Recoveries, §9 Reports, §11 Worked examples.

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

  Scenario: W11 — what each party owes, right after W1's approval and after W4's recovery
    Then the owed report shows:
      | who owes         | whom   | amount     |
      | city-fund        | bank-a | 123,456.79 |
      | guar-a           | bank-a | 493,827.15 |
      | prov-reguarantee | bank-a | 370,370.37 |
    Given every party has paid its share of the claim on loan "L1"
    And "bank-a" recovered 300,000.00 gross with 12,345.68 costs on the claim on loan "L1"
    Then the owed report shows:
      | who owes | whom             | amount     |
      | bank-a   | city-fund        | 28,765.43  |
      | bank-a   | guar-a           | 115,061.73 |
      | bank-a   | prov-reguarantee | 86,296.30  |
    And the scheme's loss ratio is 61.73% gross and 47.35% net
    And the trial balance is zero

  Scenario: Debts both ways between two parties are netted
    Given "bank-a" recovered 300,000.00 gross with 12,345.68 costs on the claim on loan "L1"
    Then the owed report shows:
      | who owes         | whom             | amount     |
      | bank-a           | city-fund        | 28,765.43  |
      | bank-a           | guar-a           | 115,061.73 |
      | bank-a           | prov-reguarantee | 86,296.30  |
      | city-fund        | bank-a           | 123,456.79 |
      | guar-a           | bank-a           | 493,827.15 |
      | prov-reguarantee | bank-a           | 370,370.37 |
    And the net positions are:
      | who owes         | whom   | amount     |
      | city-fund        | bank-a | 94,691.36  |
      | guar-a           | bank-a | 378,765.42 |
      | prov-reguarantee | bank-a | 284,074.07 |

  Scenario: The balances of each party, and its fund
    Given every party has paid its share of the claim on loan "L1"
    Then the fund of "city-fund" shows 10,000,000.00 contributed, 123,456.79 paid out and a balance of 9,876,543.21
    And "guar-a" has borne losses of 493,827.15
    And the loss ratio of "prov-reguarantee" is 3.70% gross over its contributions
