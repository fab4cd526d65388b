"""riskpool-ledger's domain: money, the sharing rules, the aggregates and the application service.

It imports the standard library, `eventsourcing`, pydantic and PyYAML, and nothing of the web,
the ORM, `api` or `projections` (tests/unit/test_layering.py proves it).
"""
