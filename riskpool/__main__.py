"""`python -m riskpool`: the same as the `riskpool` command."""

from riskpool.cli import main

main()
