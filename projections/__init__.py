"""The read models: balances, what each party owes, loss ratios, exposure, queues, loan book and
targets, and the audit trail's Merkle tree and index, derived from the event log alone, exactly
once per model, each rebuildable on its own, and answerable as of any business date or position.

- model.py: what a read model is; registry.py: the models, one module each under models/ (and
  audit/model.py), each with its tables, its handlers and its queries;
- rows.py: a model's rows in memory, whose writes mark them for the batch; subjects.py: who an
  aggregate is, read from the log itself;
- projector.py, runner.py, store.py, bulk.py: decoding a batch, applying it to the models, writing
  every model's rows and position in one transaction;
- replay.py, check.py: as-of answers and the comparison with a fresh replay; lease.py: one runner
  per store; tables.py and reports.py: the tables and queries by their former names.
"""
