"""Is every event of a window a JSON object? Logstash's beats input closes the connection when one is not.

This check runs on every event a receiver accepts, so it is most of the receiver's cost. orjson (an
optional dependency) checks a 600-byte event in about 2 us, the standard library in about 8. Each
parsed object is dropped as soon as its type is known: a window's worth of live objects would wake
the cyclic garbage collector, which costs more than the parse.

orjson refuses a few things the standard library accepts (integers beyond 64 bits, ``\\ud800``
escapes, numbers too large for a float): a window it refuses is checked again event by event by the
standard library, which has the final word and names the event. Both refuse invalid UTF-8, a byte
order mark, control characters in strings, and NaN or Infinity (not JSON; Logstash's parser refuses
them too).

A window is not checked as one ``[p1,p2,...]`` document: a payload can hold a comma that stands in
for a separator, so ``{"a":"`` ``"}`` ``{},{}`` reads as three objects although none of them is one.
"""

import json
from typing import Sequence

from ..codecs.jsonbytes import orjson  # None on a platform without its wheel: correct, only slower
from ..errors import ProtocolError

_fast_loads = orjson.loads if orjson is not None else None

__all__ = ["check_objects", "looks_like_objects", "parse_object"]

_DICT_ONLY = frozenset({dict})


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
_scan = _DECODER.scan_once


def check_objects(payloads: Sequence[bytes]) -> None:
    """Return if every payload is a UTF-8 JSON object; ``ProtocolError`` naming the first that is not."""
    if _fast_loads is not None:
        try:
            # All in C: parse, take the type, drop the object; the set holds at most a few types.
            if set(map(type, map(_fast_loads, payloads))) <= _DICT_ONLY:
                return
        except ValueError:  # orjson.JSONDecodeError
            pass
    for index, payload in enumerate(payloads, 1):
        try:
            parse_object(payload)
        except ProtocolError as exc:
            raise ProtocolError(f"event {index} of the window: {exc}") from None


def parse_object(payload: bytes) -> dict:
    """The JSON object in ``payload`` (standard library); ``ProtocolError`` when it is not one."""
    try:
        text = payload.decode("utf-8")  # strict: json.loads(bytes) would let UTF-16 and surrogates through
        try:
            value, end = _scan(text, 0)  # compact JSON straight to the C scanner: ~1.5x json.loads
        except StopIteration:  # no value at 0, e.g. leading blanks
            end = -1
        if end != len(text):
            if text.startswith("\ufeff"):
                raise ProtocolError("not valid JSON: it starts with a byte order mark (BOM)")
            value = _DECODER.decode(text)  # blanks around the value, or the precise error
    except RecursionError:
        raise ProtocolError("JSON nested too deeply") from None
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are both ValueErrors
        raise ProtocolError(f"not valid UTF-8 JSON ({exc})") from None
    if type(value) is not dict:
        raise ProtocolError(f"JSON but not an object (got {type(value).__name__})")
    return value


def looks_like_objects(payloads: Sequence[bytes]) -> bool:
    """The cheap check used when full validation is off: every payload reads ``{...}``."""
    return all(payload[:1] == b"{" and payload[-1:] == b"}" for payload in payloads)
