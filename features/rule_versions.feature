Feature: Rule versions
  Schemes differ in their numbers, so the rules are data: a rule version is published by a fund
  manager, checked in full, and refused with every problem listed. It is never retroactive.
  Rule book: docs/rules.md §3 Schemes and rule versions.

  Background:
    Given a pool whose members are:
      | party     | role       |
      | bank-a    | bank       |
      | city-fund | government |

  Scenario: A valid rule version is published as version 1
    When a fund manager publishes the rules:
      """
      effective_from: 2018-10-01
      eligibility: {principal_max: "30000000.00", term_months_max: 36}
      default_after_overdue_days: 90
      claim_window_days: 365
      second_approval_from: "1000000.00"
      leverage_multiple: 10
      recovery_costs_max_bp: 500
      covers:
        direct:
          split: {city-fund: 4000, bank: remainder}
      """
    Then it is accepted
    And the scheme has 1 rule version

  Scenario: An invalid rule version is refused with every problem listed
    When a fund manager publishes the rules:
      """
      effective_from: 2017-06-01
      eligibility: {principal_max: "30000000.00", term_months_max: 36}
      default_after_overdue_days: 90
      claim_window_days: 365
      second_approval_from: "1000000.00"
      leverage_multiple: 10
      recovery_costs_max_bp: 500
      covers:
        direct:
          split:
            city-fund:
              tiers: [{principal_max: "5000000.00", bp: 6000}, {principal_max: "4000000.00", bp: 3000}]
            nobody-fund: 5000
          caps:
            bank: {annual_max: "1.00"}
          overflow: {bank: 5000}
      """
    Then it is refused with "rules_invalid"
    And the ledger is unchanged
    And the problems listed include:
      | problem                                                   |
      | is before the publication date                            |
      | 'nobody-fund' is not a member of the scheme               |
      | principal_max values must increase strictly               |
      | does not reach eligibility.principal_max                  |
      | can reach 11000 bp, above 10000                           |
      | overflow: sums to 5000 bp, not 10000                      |
      | no cap may be set on the bank                             |

  Scenario: A rule version may not take effect before the previous one
    Given the rules:
      """
      covers:
        direct:
          split: {city-fund: 4000, bank: remainder}
      """
    When a fund manager publishes the rules:
      """
      effective_from: 2018-01-01
      eligibility: {principal_max: "30000000.00", term_months_max: 36}
      default_after_overdue_days: 90
      claim_window_days: 365
      second_approval_from: "1000000.00"
      leverage_multiple: 10
      recovery_costs_max_bp: 500
      covers:
        direct:
          split: {city-fund: 3000, bank: remainder}
      """
    Then it is refused with "rules_invalid"
    And the problems listed include:
      | problem                                   |
      | is not after the previous version's       |

  Scenario: Amounts in a rule version are yuan strings, not numbers
    When a fund manager publishes the rules:
      """
      effective_from: 2018-10-01
      eligibility: {principal_max: 30000000.00, term_months_max: 36}
      default_after_overdue_days: 90
      claim_window_days: 365
      second_approval_from: "1000000.00"
      leverage_multiple: 10
      recovery_costs_max_bp: 500
      covers:
        direct:
          split: {city-fund: 4000, bank: remainder}
      """
    Then it is refused with "rules_invalid"
    And the problems listed include:
      | problem                                   |
      | eligibility.principal_max                 |
