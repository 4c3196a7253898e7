"""Where a receiver puts what it accepted: JSON lines in a file, or a list in memory."""

import json
import os
import threading
from typing import Sequence

from ..errors import ProtocolError

_DECODER = json.JSONDecoder()


def parse_object(payload: bytes) -> dict:
    """The JSON object in ``payload``; ``ProtocolError`` when it is not one (Logstash closes then).

    ``raw_decode`` skips ``json.loads``' encoding detection and whitespace regexes; it is the common,
    compact case. Anything unusual goes through ``json.loads``, which has the final word.
    """
    try:
        text = payload.decode("utf-8")
        try:
            value, end = _DECODER.raw_decode(text)
            if end != len(text):
                value = json.loads(text)
        except ValueError:
            value = json.loads(text)
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are both ValueErrors
        raise ProtocolError(f"event is not valid UTF-8 JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ProtocolError(f"event is JSON but not an object (got {type(value).__name__})")
    return value


class EventLog:
    """Thread-safe store of accepted events.

    With a path, each event becomes one line of the file, flushed before ``append`` returns (a
    receiver ACKs only after that, so an ACK means "written"). Without one, events stay in memory.
    """

    def __init__(self, out: str | os.PathLike | None = None):
        self.path = os.fspath(out) if out is not None else None
        self._lock = threading.Lock()
        self._memory: list[dict] = []
        self._file = open(self.path, "ab") if self.path is not None else None

    def append(self, payloads: Sequence[bytes]) -> None:
        """Validate every payload, then store them all; nothing is stored if one is invalid."""
        objects = [parse_object(payload) for payload in payloads]
        if not objects:
            return
        if self._file is None:
            with self._lock:
                self._memory.extend(objects)
            return
        lines = b"\n".join(payloads)
        if lines.count(b"\n") != len(payloads) - 1 or b"\r" in lines:
            # Pretty-printed JSON: re-serialize so that each event stays on one line.
            lines = b"\n".join(json.dumps(obj, ensure_ascii=False).encode() for obj in objects)
        with self._lock:
            self._file.write(lines + b"\n")
            self._file.flush()

    @property
    def events(self) -> list[dict]:
        """Everything stored so far, oldest first."""
        with self._lock:
            if self._file is None:
                return list(self._memory)
            with open(self.path, "rb") as file:
                return [json.loads(line) for line in file]

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
