"""The statsd line protocol, with no I/O: metrics in, datagram payloads out.

A line is ``name:value|type`` (``c`` counter, ``ms`` timer); a datagram carries several lines
separated by ``\\n``. Names are cleaned as Etsy's statsd does with ``keyNameSanitize`` (whitespace to
``_``, ``/`` to ``-``, anything outside ``[A-Za-z0-9_.;=-]`` removed), so the name we route on is the
name the collector stores. Packets stay within ``packet_size`` bytes of payload: 1432 is statsd's
figure for an intranet (Fast Ethernet, headers accounted for), 512 for the open Internet.
"""

import re
from functools import lru_cache
from typing import Iterable

__all__ = ["DEFAULT_PACKET_SIZE", "sanitize", "counters_and_timers", "pack", "metric_name"]

DEFAULT_PACKET_SIZE = 1432
MAX_PACKET_SIZE = 65507  # the most one UDP datagram over IPv4 can carry

_WHITESPACE = re.compile(r"\s+")
_FORBIDDEN = re.compile(r"[^A-Za-z0-9_.;=-]")


@lru_cache(maxsize=4096)  # the same few names (app x code) come in every request
def sanitize(name: str) -> str:
    """``name`` as statsd would store it."""
    return _FORBIDDEN.sub("", _WHITESPACE.sub("_", name).replace("/", "-"))


def counters_and_timers(metrics: Iterable[tuple[str, str, int]]) -> list[bytes]:
    """Lines for ``(name, type, value)`` metrics: counters of the same name summed into one line (in
    the order names first appear), every timer its own line. Names are sanitized; an empty one is
    dropped. Types other than ``c`` and ``ms`` raise ``ValueError``."""
    raw_counts: dict[str, int] = {}
    timers = []
    for name, kind, value in metrics:
        if kind == "c":
            raw_counts[name] = raw_counts.get(name, 0) + value
        elif kind == "ms":
            name = sanitize(name)
            if name:
                timers.append(b"%s:%d|ms" % (name.encode(), max(0, value)))
        else:
            raise ValueError(f"statsd metric type {kind!r} is not c or ms")
    counts: dict[str, int] = {}
    for name, count in raw_counts.items():  # each distinct name is cleaned once
        name = sanitize(name)
        if name:
            counts[name] = counts.get(name, 0) + count
    return [b"%s:%d|c" % (name.encode(), count) for name, count in counts.items()] + timers


def pack(lines: Iterable[bytes], packet_size: int = DEFAULT_PACKET_SIZE) -> list[bytes]:
    """Lines joined by ``\\n`` into as few payloads of at most ``packet_size`` bytes as order allows.
    A line longer than that travels alone (the network may fragment it)."""
    packets, current, size = [], [], 0
    for line in lines:
        added = len(line) + (1 if current else 0)
        if current and size + added > packet_size:
            packets.append(b"\n".join(current))
            current, size, added = [], 0, len(line)
        current.append(line)
        size += added
    if current:
        packets.append(b"\n".join(current))
    return packets


def metric_name(line: bytes) -> bytes:
    """The name a line is routed by: its text before the first ``:`` (as statsd's proxy keys it)."""
    return line.split(b":", 1)[0]
