"""A local OpenWhisk REST API emulator: activations, logs and actions of one namespace.

It stands in for OpenWhisk in demos, tests, the fault soak and the benchmark. Faithful to what the
forwarder depends on: list paging and bounds, filters on ``start``, records that appear only after
the activation ended and in lists only after a lag, the platform's log line format and errors.
"""

from .api import DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT
from .loglines import format_line, format_time
from .records import DEFAULT_CATALOG, STATUSES, ActionSpec
from .server import DEFAULT_API_KEY, Emulator

__all__ = [
    "Emulator",
    "DEFAULT_API_KEY",
    "DEFAULT_CATALOG",
    "ActionSpec",
    "STATUSES",
    "DEFAULT_LIST_LIMIT",
    "MAX_LIST_LIMIT",
    "format_line",
    "format_time",
]
