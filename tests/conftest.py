"""Fixtures shared by every test module."""

from servers import couchdb_server, redis_server  # noqa: F401  (session fixtures: real servers)
