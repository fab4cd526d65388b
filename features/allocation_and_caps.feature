Feature: Allocation and caps
  When a claim is finally approved, the loss is shared once, under the loan's rule version:
  split by basis points, cut to each capped party's room, the cut handed to the overflow parties,
  and whatever nobody can take borne by the bank. The parts always add up to the approved amount.
  Rule book: docs/rules.md §5 Claims and allocation, §7 Splitting an amount, §11 Worked examples.

  Scenario: W1 — the 4321 split, with the leftover fen going to the largest remainders
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
    When "bank-a" files a claim on loan "L1" for 1,234,567.89
    And checker "fm-alice" approves the claim on loan "L1" for 1,234,567.89
    And checker "fm-bob" approves the claim on loan "L1" for 1,234,567.89
    Then the claim on loan "L1" is approved
    And the claim on loan "L1" allocates:
      | party            | amount     |
      | guar-a           | 493,827.15 |
      | prov-reguarantee | 370,370.37 |
      | bank-a           | 246,913.58 |
      | city-fund        | 123,456.79 |

  Scenario: W2 — the insurer's cap at 150% of the year's premiums, and the overflow
    Given a pool whose members are:
      | party     | role       |
      | bank-a    | bank       |
      | ins-a     | insurer    |
      | city-fund | government |
    And the rules:
      """
      covers:
        insured:
          split: {bank: 2000, insurer: 8000}
          caps:
            insurer: {premium_multiple_max_bp: 15000}
          overflow: {bank: 2000, city-fund: 8000}
      circuit_breakers: {insurer_loss_ratio_max_bp: 12000}
      """
    And it is 2019-01-10
    And "bank-a" enrolled and disbursed an insured loan "L1" of 150,000.00 insured by "ins-a"
    And "bank-a" enrolled and disbursed an insured loan "L2" of 150,000.00 insured by "ins-a"
    And "bank-a" enrolled and disbursed an insured loan "L3" of 150,000.00 insured by "ins-a"
    And "ins-a" records a premium of 100,000.00 on loan "L1"
    And loan "L1" defaulted with 150,000.00 outstanding
    And loan "L2" defaulted with 150,000.00 outstanding
    And loan "L3" defaulted with 150,000.00 outstanding
    When the claim on loan "L1" for 120,000.00 is filed and approved
    Then the claim on loan "L1" allocates:
      | party     | amount    |
      | bank-a    | 24,000.00 |
      | ins-a     | 96,000.00 |
      | city-fund | 0.00      |
    And the insurer breaker of "ins-a" is clear
    When the claim on loan "L2" for 100,000.00 is filed and approved
    Then the claim on loan "L2" allocates:
      | party     | amount    |
      | bank-a    | 25,200.00 |
      | ins-a     | 54,000.00 |
      | city-fund | 20,800.00 |
    And the insurer breaker of "ins-a" tripped at the approval of the claim on loan "L2"
    When the claim on loan "L3" for 50,000.00 is filed and approved
    Then the claim on loan "L3" allocates:
      | party     | amount    |
      | bank-a    | 18,000.00 |
      | ins-a     | 0.00      |
      | city-fund | 32,000.00 |
    And the insurer loss ratio of "ins-a" for 2019 is 150.00%

  Scenario Outline: W3 — tiers on principal, an IP-pledge bonus and bp_max
    Given a pool whose members are:
      | party  | role       |
      | bank-a | bank       |
      | gz-fund | government |
    And the rules:
      """
      covers:
        direct:
          split:
            gz-fund:
              tiers: [{principal_max: "5000000.00", bp: 4000},
                      {principal_max: "15000000.00", bp: 3000},
                      {principal_max: "30000000.00", bp: 2000}]
              bonuses: [{tag: ip_pledge, bp: 1500}]
              bp_max: 5000
            bank: remainder
      """
    And "bank-a" enrolled and disbursed a direct loan "L1" of <principal> tagged <tags>
    And loan "L1" defaulted with <principal> outstanding
    When the claim on loan "L1" for <approved> is filed and approved
    Then the claim on loan "L1" allocates:
      | party   | amount |
      | gz-fund | <fund> |
      | bank-a  | <bank> |

    Examples:
      | principal    | tags      | approved     | fund         | bank         |
      | 3,000,000.00 | ip_pledge | 2,000,000.00 | 1,000,000.00 | 1,000,000.00 |
      | 8,000,000.00 | none      | 5,000,000.00 | 1,500,000.00 | 3,500,000.00 |
      | 5,000,000.00 | none      | 1,234,567.89 | 493,827.16   | 740,740.73   |

  Scenario: W10 — a cap per bank per year, overflowing to the bank, reset by the calendar year
    Given a pool whose members are:
      | party   | role       |
      | bank-a  | bank       |
      | gz-fund | government |
    And the rules:
      """
      covers:
        direct:
          split:
            gz-fund:
              tiers: [{principal_max: "5000000.00", bp: 4000},
                      {principal_max: "15000000.00", bp: 3000},
                      {principal_max: "30000000.00", bp: 2000}]
              bonuses: [{tag: ip_pledge, bp: 1500}]
              bp_max: 5000
            bank: remainder
          caps:
            gz-fund: {per_bank_per_year_max: "2000000.00"}
          overflow: {bank: 10000}
      """
    And it is 2020-03-01
    And "bank-a" enrolled and disbursed a direct loan "L1" of 3,000,000.00 tagged ip_pledge
    And "bank-a" enrolled and disbursed a direct loan "L2" of 8,000,000.00
    And "bank-a" enrolled and disbursed a direct loan "L3" of 3,000,000.00 tagged ip_pledge
    And loan "L1" defaulted with 3,000,000.00 outstanding
    And loan "L2" defaulted with 8,000,000.00 outstanding
    And loan "L3" defaulted with 3,000,000.00 outstanding
    When the claim on loan "L1" for 2,000,000.00 is filed and approved
    Then the claim on loan "L1" allocates:
      | party   | amount       |
      | gz-fund | 1,000,000.00 |
      | bank-a  | 1,000,000.00 |
    When the claim on loan "L2" for 5,000,000.00 is filed and approved
    Then the claim on loan "L2" allocates:
      | party   | amount       |
      | gz-fund | 1,000,000.00 |
      | bank-a  | 4,000,000.00 |
    Given "bank-a" filed a claim on loan "L3" for 2,000,000.00 in 2020
    When both checkers approve the claim on loan "L3" for 2,000,000.00 on 2021-01-04
    Then the claim on loan "L3" allocates:
      | party   | amount       |
      | gz-fund | 1,000,000.00 |
      | bank-a  | 1,000,000.00 |
