"""Where a receiver puts what it accepted: JSON lines in a file, or a list in memory."""

import json
import os
import threading
from typing import Sequence

from .validate import check_objects, looks_like_objects


def _one_line(payload: bytes) -> bytes:
    """``payload`` on one line. In valid JSON a raw CR or LF can only be a blank between tokens (a
    string may not hold one), so a space stands in for it and the value stays the same, byte for byte."""
    return payload.replace(b"\r", b" ").replace(b"\n", b" ")


class EventLog:
    """Thread-safe store of accepted events, one JSON line each: in a file, or in memory.

    With a path, lines are flushed before ``append`` returns (a receiver ACKs only after that, so an
    ACK means "written"); an existing file is appended to. ``validate=False`` replaces the full JSON
    check by a glance at each payload's first and last byte. Stored lines are parsed only when
    ``events`` is read.
    """

    def __init__(self, out: str | os.PathLike | None = None, *, validate: bool = True):
        self.path = os.fspath(out) if out is not None else None
        self.validate = validate
        self._lock = threading.Lock()
        self._memory: list[bytes] = []
        self._file = open(self.path, "ab") if self.path is not None else None

    def append(self, payloads: Sequence[bytes]) -> None:
        """Check every payload, then store them all with one write; nothing is stored if one is invalid."""
        if not payloads:
            return
        checked = self.validate or not looks_like_objects(payloads)
        if checked:
            check_objects(payloads)
        lines = b"\n".join(payloads)
        if lines.count(b"\n") != len(payloads) - 1 or b"\r" in lines:  # pretty-printed JSON
            if not checked:
                check_objects(payloads)  # _one_line relies on the payloads being valid JSON
            lines = b"\n".join(map(_one_line, payloads))
        with self._lock:
            if self._file is None:
                self._memory.append(lines)
            else:
                # Two writes, not lines + b"\n": that copy of a window costs more than the write (page faults).
                self._file.write(lines)
                self._file.write(b"\n")
                self._file.flush()

    @property
    def events(self) -> list[dict]:
        """Everything stored so far, oldest first (read back from the file when there is one)."""
        with self._lock:
            if self._file is None:
                return [json.loads(line) for block in self._memory for line in block.split(b"\n")]
            with open(self.path, "rb") as file:
                return [json.loads(line) for line in file]

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
