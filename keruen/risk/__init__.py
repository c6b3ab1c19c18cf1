"""Risk, alerts, cases and measured detection (SPEC C5).

The pure core: `state` (the ledger as detectors see it), `provenance` (FIFO lots with their
chain of holders), `detectors` (one module per rule), `scoring` (one risk per subject,
positive evidence), `lanes` (selectivity), `precheck`, `evaluation`. At the edges: `store`,
`sources` (screening and transit facts), `cases`, `queries`, `service`, `cli`.
"""
