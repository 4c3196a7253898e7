"""The items of ``logfwd check``: what was checked, how it went, and what to do about it.

A module of its own, below everything that checks, so that probes need nothing of the check command.
"""

from dataclasses import asdict, dataclass

OK, WARNING, ERROR, SKIPPED = "ok", "warning", "error", "skipped"
PARAMETERS = "parameters"  # the area of parameter problems: they make the exit code 2


@dataclass(frozen=True)
class Item:
    """One line of the checklist: ``area`` (e.g. "openwhisk api", "logstash host:port"), its status, what
    was found and, unless all is well, what to do."""

    area: str
    status: str
    found: str
    fix: str = ""

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v}


@dataclass(frozen=True)
class Options:
    send_test_event: bool = False  # may a sink be sent one test event?
