"""Conformance verification (TOOL-3): a live instance checked against its own declaration.

Each module holds one group of checks; each check is a small function taking the `Context` and returning a
`CheckResult` — its name, the promises it proves, whether it passed, and findings that name subjects, items,
tables, records and file offsets, never a value. `report.run` runs them all and renders text, JSON or HTML. The
checks read the raw tables (an auditor may inspect storage); values are decrypted only through the vault
(`vault.inspect`).
"""
