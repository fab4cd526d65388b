"""riskpool: the composition root and command-line tool around the ledger."""
