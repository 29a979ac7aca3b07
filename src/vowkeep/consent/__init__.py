"""Consent: the append-only ledger of people's choices per purpose, and what it allows."""
