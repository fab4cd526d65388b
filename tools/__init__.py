"""Tools that stand on their own, for people outside the ledger (regulators, auditors)."""
