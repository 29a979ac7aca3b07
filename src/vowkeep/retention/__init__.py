"""Retention (RET-1..4) and minors (MIN-1..3): the sweeper, holds, backups, the age gate and minor reports."""
