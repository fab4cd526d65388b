Feature: Access control
  Each caller holds an API key of one role. A bank sees and acts on its own loans only; a
  regulator reads everything and changes nothing; a second approval needs a second person.
  Nobody learns of another bank's loans: they are answered as if they did not exist.
  Rule book: docs/rules.md §2 Parties and who may do what, §5 Claims and allocation, §12 Error codes.

  Background:
    Given a pool served over HTTP with the banks "bank-a" and "bank-b" and the fund "city-fund"
    And "bank-a" has enrolled and disbursed loan "A1" of 1,500,000.00 over HTTP
    And "bank-b" has enrolled and disbursed loan "B1" of 800,000.00 over HTTP

  Scenario: A bank cannot see another bank's loans
    When "bank-b" lists the loans of the pool
    Then it sees only the loans "B1"
    When "bank-b" asks for loan "A1" of "bank-a"
    Then the answer is 404 "unknown_loan"

  Scenario: A bank cannot act on another bank's loan
    When "bank-b" records a repayment of 1,000.00 on loan "A1" of "bank-a"
    Then the answer is 404 "unknown_loan"
    And nothing was recorded

  Scenario: A regulator reads everything and changes nothing
    Given loan "A1" of "bank-a" has defaulted and "bank-a" has filed a claim of 1,200,000.00 on it
    When the regulator lists the loans of the pool
    Then it sees only the loans "A1, B1"
    When the regulator approves the claim on loan "A1" for 1,200,000.00
    Then the answer is 403 "forbidden"
    And nothing was recorded

  Scenario: A second approval by the same checker is refused
    Given loan "A1" of "bank-a" has defaulted and "bank-a" has filed a claim of 1,200,000.00 on it
    When checker "fm-alice" approves the claim on loan "A1" for 1,200,000.00
    Then the answer is 201 and the claim awaits a second approval
    When checker "fm-alice" approves the claim on loan "A1" for 1,200,000.00
    Then the answer is 409 "same_checker"
    And nothing was recorded
    When checker "fm-bob" approves the claim on loan "A1" for 1,200,000.00
    Then the answer is 201 and the claim is approved

  Scenario: A revoked key opens nothing
    Given the key of "bank-a" has been revoked
    When "bank-a" lists the loans of the pool
    Then the answer is 401 "unauthenticated"
