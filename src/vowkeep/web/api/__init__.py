"""JSON API routers, one per domain."""
