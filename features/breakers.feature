Feature: Funds and circuit breakers
  A government fund pays its shares from its balance and never goes below zero. A breaker trips
  when its figure goes over the threshold, blocks the enrolments it names, and stays tripped
  until a fund manager resets it with a written reason.
  Rule book: docs/rules.md §5 Claims and allocation, §8 Circuit breakers, §11 Worked examples.

  Scenario: W5 — a fund shortfall, a drawdown breaker, and a top-up
    Given a pool without contributions whose members are:
      | party     | role       |
      | bank-a    | bank       |
      | city-fund | government |
    And "city-fund" has contributed 500,000.00
    And the rules:
      """
      covers:
        direct:
          split: {city-fund: 5000, bank: remainder}
      circuit_breakers: {fund_drawdown_max_bp: 5000}
      """
    And "bank-a" enrolled and disbursed a direct loan "L1" of 1,500,000.00
    And loan "L1" defaulted with 1,500,000.00 outstanding
    And the claim on loan "L1" for 1,200,000.00 was filed and approved
    When "city-fund" pays 600,000.00 of its share of the claim on loan "L1"
    Then it is refused with "fund_insufficient"
    And the ledger is unchanged
    When "city-fund" pays 500,000.00 of its share of the claim on loan "L1"
    Then it is accepted
    And the fund balance of "city-fund" is 0.00
    And "city-fund" still owes 100,000.00 on the claim on loan "L1"
    And the fund drawdown breaker of "city-fund" has tripped at 100.00%
    Given "city-fund" has contributed 1,000,000.00
    When "city-fund" pays 100,000.00 of its share of the claim on loan "L1"
    Then it is accepted
    And the fund balance of "city-fund" is 900,000.00
    And "city-fund" still owes 0.00 on the claim on loan "L1"
    And the fund drawdown of "city-fund" is 40.00%
    And the fund drawdown breaker of "city-fund" is still tripped

  Scenario: W6 — a bank's loss-rate breaker blocks that bank until it is reset
    Given a pool whose members are:
      | party     | role       |
      | bank-b    | bank       |
      | bank-c    | bank       |
      | city-fund | government |
    And the rules:
      """
      covers:
        direct:
          split: {city-fund: 4000, bank: remainder}
      circuit_breakers: {bank_loss_rate_max_bp: 300}
      """
    And "bank-b" enrolled and disbursed a direct loan "L1" of 1,500,000.00
    And "bank-b" enrolled and disbursed a direct loan "L2" of 100,000.00
    And "bank-b" enrolled and disbursed a direct loan "L3" of 24,200,000.00
    And "bank-b" enrolled and disbursed a direct loan "L4" of 24,200,000.00
    When loan "L1" defaults with 1,500,000.00 outstanding
    Then the loss-rate breaker of "bank-b" is clear at 3.00%
    When loan "L2" defaults with 100,000.00 outstanding
    Then the loss-rate breaker of "bank-b" has tripped at 3.20%
    When "bank-b" enrols a direct loan "L5" of 100,000.00
    Then it is refused with "circuit_breaker_open"
    And the ledger is unchanged
    When "bank-c" enrols a direct loan "C1" of 100,000.00
    Then it is accepted
    When a fund manager resets the loss-rate breaker of "bank-b" without a reason
    Then it is refused with "reason_required"
    And the ledger is unchanged
    When a fund manager resets the loss-rate breaker of "bank-b" because "bank-b has provisioned the losses"
    And "bank-b" enrols a direct loan "L5" of 100,000.00
    Then it is accepted

  Scenario: Resetting a breaker that is clear is refused
    Given a pool whose members are:
      | party     | role       |
      | bank-b    | bank       |
      | city-fund | government |
    And the rules:
      """
      covers:
        direct:
          split: {city-fund: 4000, bank: remainder}
      circuit_breakers: {bank_loss_rate_max_bp: 300}
      """
    When a fund manager resets the loss-rate breaker of "bank-b" because "checking"
    Then it is refused with "invalid_transition"
    And the ledger is unchanged

  Scenario: A tripped insurer breaker blocks new insured enrolments with that insurer
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
        direct:
          split: {city-fund: 4000, bank: remainder}
      circuit_breakers: {insurer_loss_ratio_max_bp: 12000}
      """
    And "bank-a" enrolled and disbursed an insured loan "L1" of 200,000.00 insured by "ins-a"
    And loan "L1" defaulted with 200,000.00 outstanding
    And the claim on loan "L1" for 200,000.00 was filed and approved
    When "bank-a" enrols an insured loan "L2" of 100,000.00 insured by "ins-a"
    Then it is refused with "circuit_breaker_open"
    And the ledger is unchanged
    When "bank-a" enrols a direct loan "L3" of 100,000.00
    Then it is accepted
