Feature: Audit
  A regulator can prove that the ledger's history was not edited: every fact is a leaf of a Merkle
  tree whose heads the ledger signs; a head the regulator kept proves the log only grew since.
  Rule book: docs/rules.md §10 Audit and corrections.

  Background:
    Given a pool whose members are:
      | party     | role       |
      | bank-a    | bank       |
      | guar-a    | guarantor  |
      | city-fund | government |
    And its ledger is kept in a file and sealed
    And the rules:
      """
      covers:
        guaranteed:
          split: {guarantor: 4000, city-fund: 3000, bank: remainder}
      """
    And "bank-a" enrolled and disbursed a guaranteed loan "L1" of 2,000,000.00 guaranteed by "guar-a"
    And loan "L1" defaulted with 1,500,000.00 outstanding
    And the claim on loan "L1" for 900,000.00 was filed and approved

  Scenario: A regulator verifies the log and proves it only grew from the head it kept
    Given the regulator keeps the latest signed tree head
    When 20 more contributions are recorded
    Then the log verifies against every signed tree head
    And it extends the tree head the regulator kept

  Scenario Outline: A tampered record is detected and located
    When a database administrator <tampers> the stored event at position 12
    Then verification fails, naming position 12 as <finding>

    Examples:
      | tampers                   | finding   |
      | edits                     | edited    |
      | deletes                   | deleted   |
      | swaps with the next one   | reordered |
      | replaces with a forged    | inserted  |
      | truncates the log from    | truncated |
