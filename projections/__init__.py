"""The read models: balances, what each party owes, loss ratios, exposure, queues, loan book and
targets, derived from the event log alone, exactly once, rebuildable, and answerable as of any
business date or log position."""
