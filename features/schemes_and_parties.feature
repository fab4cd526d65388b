Feature: Schemes, parties and programme targets
  A fund manager creates a scheme, registers the programme's parties once and admits them to
  the schemes they take part in, and records the pilot's targets. Government parties pay into
  their own funds.
  Rule book: docs/rules.md §2 Parties and who may do what, §3 Schemes and rule versions, §9 Reports.

  Background:
    Given a pool whose members are:
      | party     | role       |
      | bank-a    | bank       |
      | city-fund | government |

  Scenario Outline: Set-up acts that the rules do not allow are refused and record nothing
    When <act>
    Then it is refused with "<code>"
    And the ledger is unchanged

    Examples:
      | act                                                            | code           |
      | a fund manager creates the scheme "pool" again                 | already_exists |
      | a fund manager registers "bank-a" as a bank again              | already_exists |
      | a fund manager registers "bank-q" as a lender                  | invalid_request |
      | a fund manager registers "bad id!" as a bank                   | invalid_request |
      | a fund manager admits "nobody" to the pool                     | unknown_party  |
      | a fund manager admits "bank-a" to the pool                     | already_exists |
      | "bank-a" creates the scheme "other"                            | forbidden      |
      | "regulator-cbirc" registers "bank-q" as a bank                 | forbidden      |
      | "city-fund" contributes 1,000.00 to "other-fund"               | forbidden      |
      | "bank-a" contributes 1,000.00 to "city-fund"                   | forbidden      |
      | a fund manager records a contribution of 1,000.00 by "bank-a"  | not_a_member   |

  Scenario: A government party pays into its own fund
    When "city-fund" contributes 1,000,000.00 to "city-fund"
    Then it is accepted
    And the fund balance of "city-fund" is 11,000,000.00

  Scenario: The programme's targets are recorded, and refused with every problem listed
    When a fund manager sets the targets:
      | target_id    | metric             | goal             | by         |
      | lending-2020 | cumulative_lending | 1000000000.00    | 2020-12-31 |
      | firms-2020   | firms_served       | 50               | 2020-12-31 |
    Then it is accepted
    And the scheme has 2 targets
    When a fund manager sets the targets:
      | target_id    | metric             | goal             | by         |
      | lending-2020 | cumulative_lending | 1e9              | 2020-12-31 |
      | lending-2020 | growth             | 50               | 2020-13-01 |
    Then it is refused with "invalid_request"
    And the ledger is unchanged
    And the refusal lists 4 problems
