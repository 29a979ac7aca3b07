"""Sharing: recipients, disclosures, legal requests, processor webhooks, aggregate reports."""
