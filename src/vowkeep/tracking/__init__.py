"""Pseudonymous usage events: intake from the banner script, reduction, daily roll-ups and purges (COL-5, CK-5)."""
