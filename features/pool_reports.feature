Feature: The pool's reports
  Exposure against the leverage limit, the claims queue, the loan book and the programme's
  targets, as a fund manager reads them from the read models.
  Rule book: docs/rules.md §3 Schemes and rule versions, §4 Loans, §9 Reports.

  Background:
    Given a pool whose members are:
      | party     | role       |
      | bank-a    | bank       |
      | bank-b    | bank       |
      | guar-a    | guarantor  |
      | city-fund | government |
    And the rules:
      """
      covers:
        direct:
          split: {city-fund: 4000, bank: remainder}
        guaranteed:
          split: {guarantor: 4000, city-fund: 3000, bank: remainder}
      """
    And it is 2019-03-01
    And "bank-a" enrolled and disbursed a direct loan "A1" of 3,000,000.00
    And "bank-a" enrolled and disbursed a guaranteed loan "A2" of 2,000,000.00 guaranteed by "guar-a"
    And "bank-b" enrolled and disbursed a direct loan "B1" of 1,500,000.00
    And "bank-b" repaid 500,000.00 of loan "B1"

  Scenario: Exposure and the headroom left under the leverage limit
    Then the exposure is 6,000,000.00 against a limit of 100,000,000.00, leaving 94,000,000.00

  Scenario: The loan book by bank, state, product and cover
    Given loan "A2" defaulted with 2,000,000.00 outstanding
    Then the loan book shows:
      | bank   | state     | cover      | loans | principal    | exposure     |
      | bank-a | defaulted | guaranteed | 1     | 2,000,000.00 | 2,000,000.00 |
      | bank-a | disbursed | direct     | 1     | 3,000,000.00 | 3,000,000.00 |
      | bank-b | disbursed | direct     | 1     | 1,500,000.00 | 1,000,000.00 |

  Scenario: The claims queue with the age of each claim
    Given loan "A1" defaulted with 3,000,000.00 outstanding
    And loan "A2" defaulted with 2,000,000.00 outstanding
    And "bank-a" filed a claim on loan "A1" for 1,500,000.00 on 2019-10-01
    And checker "fm-alice" approved the claim on loan "A1" for 1,500,000.00 on 2019-10-05
    And "bank-a" filed a claim on loan "A2" for 800,000.00 on 2019-10-02
    And checker "fm-alice" approved the claim on loan "A2" for 800,000.00 on 2019-10-08
    Then on 2019-10-31 the claims queue shows:
      | claim              | status                   | age |
      | bank-a:A1:claim:1  | awaiting_second_approval | 30  |
      | bank-a:A2:claim:1  | approved                 | 29  |

  Scenario: Progress toward the programme's targets, year by year
    Given the programme's targets are:
      | target_id    | metric                   | goal         | by         |
      | lending-2019 | cumulative_lending       | 6,000,000.00 | 2019-12-31 |
      | lending-2020 | cumulative_lending       | 9,000,000.00 | 2020-12-31 |
      | firms-2020   | firms_served             | 3            | 2020-12-31 |
      | fiscal-2020  | cumulative_contributions | 9,000,000.00 | 2020-12-31 |
    And it is 2020-02-01
    And "bank-b" enrolled and disbursed a direct loan "B2" of 1,000,000.00
    Then the targets show:
      | target_id    | reached      | percent | met |
      | lending-2019 | 6,500,000.00 | 108.33  | yes |
      | lending-2020 | 7,500,000.00 | 83.33   | no  |
      | firms-2020   | 4            | 133.33  | yes |
      | fiscal-2020  | 10,000,000.00 | 111.11  | yes |
