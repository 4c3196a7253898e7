"""The one error hierarchy of logfwd.

Every error names what is wrong and what to do. Classes inherit twice where a caller may want to
catch by intent (``ConfigError`` is also a ``ValueError``), as requests does.
"""


class LogfwdError(Exception):
    """Base class of every error logfwd raises on purpose."""


class ConfigError(LogfwdError, ValueError):
    """A parameter is missing or invalid. The message names the parameter."""

    def __init__(self, parameter: str, problem: str, fix: str = ""):
        self.parameter = parameter
        message = f"parameter '{parameter}': {problem}"
        super().__init__(f"{message}. {fix}" if fix else message)


class ConfigErrors(ConfigError):
    """Several parameters are missing or invalid: every problem, one per line, in one answer."""

    def __init__(self, problems: list[ConfigError]):
        self.problems = problems
        self.parameter = problems[0].parameter
        lines = "\n".join(f"  - {problem}" for problem in problems)
        LogfwdError.__init__(self, f"{len(problems)} problems with the parameters:\n{lines}")


class TransientError(LogfwdError):
    """A failure worth retrying: connection errors, timeouts, 429 and 5xx answers."""


class SourceError(LogfwdError):
    """The log source (e.g. the OpenWhisk API) refused or answered something unusable."""


class SourceTransientError(SourceError, TransientError):
    """The source failed in a way that may pass (network, 429, 5xx)."""


class AuthError(SourceError):
    """The source rejected the credentials (401/403)."""


class NotFoundError(SourceError):
    """The source does not know the namespace, action or activation (404)."""


class BadRecordError(SourceError):
    """A record from the source cannot be turned into events. Names the record."""


class LineFormatError(LogfwdError, ValueError):
    """A log line does not have its documented format; the message names the field. The line is
    forwarded raw, flagged, and counted: never dropped."""


class SinkError(LogfwdError):
    """The sink could not deliver."""


class SinkTransientError(SinkError, TransientError):
    """The sink failed in a way that may pass (connection refused or dropped, no ACK in time)."""


class ProtocolError(SinkError):
    """The peer broke the wire protocol; the connection cannot be used any further."""


class DeliveryError(SinkError):
    """Events were not all acknowledged. ``acked`` of them (the first ones) are safe.

    A tee of several sinks also says, per sink, how far that sink's share is safe (``acked_by``: name
    -> the position of its first payload not delivered), so a unit that some sinks took whole can be
    told so (``Unit.partly``)."""

    def __init__(self, message: str, acked: int = 0, acked_by: dict[str, int] | None = None):
        super().__init__(message)
        self.acked = acked
        self.acked_by = acked_by or {}

    def took_whole(self, end: int) -> list[str]:
        """The sinks of a tee that took every payload of theirs before position ``end``."""
        return [name for name, position in self.acked_by.items() if position >= end]


class BadRequestError(LogfwdError):
    """An HTTP request the local server cannot take; ``status`` is the answer it gets (400, 411, 431...)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class CheckpointError(LogfwdError):
    """The checkpoint store failed to load or save."""


class CheckpointTransientError(CheckpointError, TransientError):
    """The checkpoint store failed in a way that may pass (network, 5xx, server loading)."""


class ConflictError(CheckpointError):
    """Another writer changed the checkpoint since it was loaded (compare-and-swap failed)."""


class LeaseHeldError(CheckpointError):
    """Another run holds the lease; this run must not forward."""

    def __init__(self, message: str, until: float | None = None):
        super().__init__(message)
        self.until = until
