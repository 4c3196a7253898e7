"""Is every event of a window a JSON object? Logstash's beats input closes the connection when one is not.

This check runs on every event a receiver accepts, so it sets much of the receiver's speed. The fastest
checker that can be imported does it (measured on the sink benchmark's 600-byte events): msgspec (the
``receive`` extra) reads every member of an object without building any, 0.7 us an event with the
UTF-8 check its skipped strings need; orjson parses each object and drops it, 2 us; the standard
library takes about 8. Parsed objects are dropped as soon as their type is known: a window's worth of
live objects would wake the cyclic garbage collector, which costs more than the parse.

The fast checkers refuse a few things the standard library accepts (``\\ud800`` escapes; for orjson
also integers beyond 64 bits and numbers too large for a float): a window they refuse is checked again
event by event by the standard library, which has the final word and names the event. All refuse
invalid UTF-8, a byte order mark, control characters in strings, and NaN or Infinity (not JSON;
Logstash's parser refuses them too).

A window is not checked as one ``[p1,p2,...]`` document: a payload can hold a comma that stands in
for a separator, so ``{"a":"`` ``"}`` ``{},{}`` reads as three objects although none of them is one.
"""

import collections
import json
from typing import Sequence

from logfwd.codecs.jsonbytes import orjson  # None on a platform without its wheel: correct, only slower
from logfwd.errors import ProtocolError

try:
    import msgspec
except ImportError:  # installed without the "receive" extra
    msgspec = None

__all__ = ["check_objects", "looks_like_objects", "parse_object", "CHECKER"]

_DICT_ONLY = frozenset({dict})


def _orjson_accepts(payloads: Sequence[bytes]) -> bool:
    try:
        # All in C: parse, take the type, drop the object; the set holds at most a few types.
        return set(map(type, map(orjson.loads, payloads))) <= _DICT_ONLY
    except ValueError:  # orjson.JSONDecodeError
        return False


if msgspec is not None:

    class _Members(msgspec.Struct):
        """An object whose members are all unknown: msgspec checks each one and builds none."""

    _skim = msgspec.json.Decoder(_Members).decode

    def _msgspec_accepts(payloads: Sequence[bytes]) -> bool:
        try:
            collections.deque(map(_skim, payloads), maxlen=0)  # consumed in C, nothing kept
            # Skipped strings are not decoded, so check the UTF-8 on its own. One payload at a time:
            # mostly ASCII, each takes the fast path, which one non-ASCII byte would cost a joined window.
            collections.deque(map(bytes.decode, payloads), maxlen=0)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            return False
        return True

    _fast_accepts, CHECKER = _msgspec_accepts, "msgspec"
elif orjson is not None:
    _fast_accepts, CHECKER = _orjson_accepts, "orjson"
else:
    _fast_accepts, CHECKER = None, "json"


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
_scan = _DECODER.scan_once


def check_objects(payloads: Sequence[bytes]) -> None:
    """Return if every payload is a UTF-8 JSON object; ``ProtocolError`` naming the first that is not."""
    if _fast_accepts is not None and _fast_accepts(payloads):
        return
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
