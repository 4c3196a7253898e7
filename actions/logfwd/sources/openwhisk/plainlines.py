"""The JSON of a record's plain log lines: the fast path of ``events.activation_events``. Pure: no I/O.

A plain line is nearly every line: the invoker's shape (owlog's ``_CANONICAL``: a time of 30
characters, its fraction of nine digits or trimmed and padded with spaces, one space, the stream,
``": "``), a real second, no marker, and short enough not to be cut. ``heads(entries, first, heads,
id_prefix_json, fits, marker_prefixes)`` appends the JSON of each plain line from ``entries[first]``
on, the bytes ``events.plain_line_json`` writes for it, and returns the index of the first entry it
does not take: the caller builds that one the general way and calls again past it. ``fits``: the
length in characters up to which a line cannot be cut; ``id_prefix_json``: ``'"ns/id:'`` as JSON.

Two implementations of it, the same bytes: ``_plainlines.c``, compiled where logfwd was installed with
a C compiler (a record's events in half the instructions), and ``python_heads`` here, for where it was
not. tests/test_plainlines.py and tests/test_events.py hold both to the general path, byte for byte.
"""

import threading

from ...codecs import jsonbytes
from ...codecs.owlog import KNOWN_SECONDS, known_second, nine_digits

__all__ = ["heads", "python_heads", "c_heads"]

# The Python path's pieces: per offset, what follows a plain line's message up to its _id's offset, for
# each stream, and the offset that ends the _id; made once for the offsets met (up to _PLAIN_LINES).
_PLAIN_LINES = 10_000  # a record with more lines takes the general path: the tables stay under ~3 MB
_STDOUT_MIDDLES: list[bytes] = []
_STDERR_MIDDLES: list[bytes] = []
_PLAIN_MIDDLES = {"Z stdout: ": _STDOUT_MIDDLES, "Z stderr: ": _STDERR_MIDDLES}
_PLAIN_ENDS: list[bytes] = []
_PLAIN_GROWING = threading.Lock()
_orjson_dumps = jsonbytes.orjson.dumps if jsonbytes.orjson is not None else None


def python_heads(entries: list, first: int, heads: list, id_prefix_json: bytes, fits: int,
                 marker_prefixes: tuple) -> int:
    """``heads`` in Python. Each line is checked with slices and lookups instead of a regular expression,
    and written from ONE orjson call on the whole entry (its first 40 bytes are '"' and the ASCII time
    and stream, so the message's JSON is what follows): half the instructions of ``parse_line`` and
    ``plain_line_json``. Without orjson it takes no line."""
    count = len(entries)
    plain = None  # the record's format, made at its first plain line
    for offset in range(first, count):
        text = entry = entries[offset]
        if type(entry) is not str:
            return offset
        middles = _PLAIN_MIDDLES.get(text[29:39])  # "Z stdout: " | "Z stderr: "
        if middles is None and text[29:31] == "  ":  # a trimmed fraction (1 line in 10): padded, the same way
            text = nine_digits(entry) or entry
            middles = _PLAIN_MIDDLES.get(text[29:39])
        if middles is None or len(text) > fits:
            return offset
        second = text[:20]
        if (not (second in KNOWN_SECONDS or known_second(second))
                or middles is _STDERR_MIDDLES and text.startswith(marker_prefixes, 39)):
            return offset
        if plain is None and (plain := _plain_template(id_prefix_json, count)) is None:
            return offset
        try:
            data = _orjson_dumps(text)
        except TypeError:  # a lone surrogate: the general path replaces it
            return offset
        # The fraction, nine ASCII digits: its bytes are the entry's (bytes.isdigit is ASCII only; another
        # character is written as something else than a digit).
        if not data[21:30].isdigit():
            return offset
        heads.append(plain % (data, data[40:], middles[offset], _PLAIN_ENDS[offset]))
    return count


def _plain_template(id_prefix_json: bytes, lines: int) -> bytes | None:
    """The Python path's format for one record: a line's JSON from its entry's JSON (``%.31b``: the quote
    and the time), its message's JSON, its middle piece and its end piece; None if the record has too
    many lines or orjson is missing."""
    if lines > _PLAIN_LINES or jsonbytes.orjson is None:  # read each time: a test turns orjson off
        return None
    if len(_PLAIN_ENDS) < lines:
        with _PLAIN_GROWING:  # records may be built on several threads; an end comes after its middles
            for offset in range(len(_PLAIN_ENDS), lines):
                _STDOUT_MIDDLES.append(b',"stream":"stdout","log":{"offset":%d},"@metadata":{"_id":' % offset)
                _STDERR_MIDDLES.append(b',"stream":"stderr","log":{"offset":%d},"@metadata":{"_id":' % offset)
                _PLAIN_ENDS.append(b'%d"}' % offset)
    return b'{"@timestamp":%.31b","message":"%b%b' + id_prefix_json.replace(b"%", b"%%") + b"%b"


try:
    from ._plainlines import heads as c_heads
except ImportError:  # not built where logfwd was installed (no C compiler): the Python path, same bytes
    c_heads = None

heads = c_heads if c_heads is not None else python_heads
