"""Sharing: the disclosure register, legal requests, and forwarding erasures and objections to processors."""
