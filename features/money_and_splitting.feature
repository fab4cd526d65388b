Feature: Money and splitting
  Amounts are yuan strings at every boundary and whole fen inside. Every split of an amount goes
  through one allocation rule whose parts always add up to the whole.
  Rule book: docs/rules.md §1 Money, dates and identifiers, §7 Splitting an amount, §11 Worked examples.

  Scenario Outline: A yuan amount that is not exact, positive and plain is refused
    When the amount <text> is entered
    Then it is refused with "invalid_amount"
    And the refusal names <text>

    Examples:
      | text                   |
      | "-1.00"                |
      | "0"                    |
      | "0.00"                 |
      | "12.345"               |
      | "1e5"                  |
      | "NaN"                  |
      | "Infinity"             |
      | "1,000.00"             |
      | "10000000000000.01"    |
      | " 100"                 |
      | "1."                   |
      | ".5"                   |

  Scenario Outline: A JSON number instead of a string is refused
    When the JSON number <number> is entered as an amount
    Then it is refused with "invalid_amount"

    Examples:
      | number     |
      | 100        |
      | 100.5      |

  Scenario Outline: Plain yuan amounts are read exactly
    When the amount "<text>" is entered
    Then it is read as <fen> fen and printed as "<printed>"

    Examples:
      | text              | fen                | printed           |
      | 1234567.89        | 123456789          | 1234567.89        |
      | 100               | 10000              | 100.00            |
      | 0.05              | 5                  | 0.05              |
      | 10000000000000.00 | 1000000000000000   | 10000000000000.00 |

  Scenario: W1 — splitting 1,234,567.89 by 4000/3000/2000/1000 bp
    When 1,234,567.89 is split by the weights 4000, 3000, 2000, 1000
    Then the parts are 493,827.15, 370,370.37, 246,913.58, 123,456.79

  Scenario: Leftover fen go to the largest remainders, ties to the part that comes first
    When 0.02 is split by the weights 1, 1, 1
    Then the parts are 0.01, 0.01, 0.00

  Scenario: Parts with zero weight get nothing
    When 0.05 is split by the weights 0, 3, 0, 1
    Then the parts are 0.00, 0.04, 0.00, 0.01

  Scenario: A ratio prints half-up to two decimals but is compared exactly
    Then 3.004% prints as 3.00% and is over a threshold of 300 bp
