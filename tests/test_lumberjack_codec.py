"""Lumberjack v2 codec: tables of bytes, no sockets."""

import zlib

import pytest

from logfwd.codecs import deflate
from logfwd.codecs.lumberjack import (AckDecoder, Event, EventRun, FrameDecoder, Window, encode_ack,
                                     encode_window, foreign_protocol)
from logfwd.errors import ProtocolError

A = b'{"a":1}'
BC = b'{"b":"c"}'


@pytest.mark.parametrize(
    ("payloads", "expected"),
    [
        ([A], b"2W\x00\x00\x00\x01" + b"2J\x00\x00\x00\x01\x00\x00\x00\x07" + A),
        (
            [A, BC],
            b"2W\x00\x00\x00\x02"
            + b"2J\x00\x00\x00\x01\x00\x00\x00\x07" + A
            + b"2J\x00\x00\x00\x02\x00\x00\x00\x09" + BC,
        ),
        ([], b"2W\x00\x00\x00\x00"),
    ],
)
def test_plain_window_bytes(payloads, expected):
    assert encode_window(payloads, compression_level=0) == expected


def test_compressed_window_is_one_c_frame_holding_all_events():
    data = encode_window([A, BC], compression_level=3)
    assert data[:6] == b"2W\x00\x00\x00\x02"
    assert data[6:8] == b"2C"
    length = int.from_bytes(data[8:12], "big")
    assert len(data) == 12 + length  # nothing after the one C frame
    inner = zlib.decompress(data[12:])  # zlib stream with header (RFC 1950)
    assert inner == encode_window([A, BC], compression_level=0)[6:]


def test_compressed_window_decodes_back():
    payloads = [b'{"n":%d,"pad":"%s"}' % (i, b"x" * i) for i in range(300)]
    frames = FrameDecoder().feed(encode_window(payloads, compression_level=6))
    assert frames == [Window(300)] + [Event(i + 1, p) for i, p in enumerate(payloads)]


@pytest.mark.parametrize("engine", ["isal", "zlib"])
@pytest.mark.parametrize("level", range(1, 10))
def test_every_level_writes_a_zlib_stream_any_receiver_inflates(monkeypatch, engine, level):
    if engine == "zlib":
        monkeypatch.setattr(deflate, "isal_zlib", None)  # a platform without the isal wheel
    else:
        assert deflate.isal_zlib is not None, "isal is a dependency"
    inner = encode_window([A, BC] * 500, compression_level=0)[6:]
    stream = deflate.compress(inner, level)
    assert stream[0] & 0x0F == 8 and int.from_bytes(stream[:2], "big") % 31 == 0  # RFC 1950 header: deflate
    assert zlib.decompress(stream) == inner
    assert len(stream) < len(inner) // 2


def test_fast_levels_go_to_isal_and_the_rest_to_zlib(monkeypatch):
    calls = []
    monkeypatch.setattr(deflate, "isal_zlib", type("Spy", (), {"compress": staticmethod(
        lambda data, level: calls.append(level) or zlib.compress(data, 1))}))
    for level in range(1, 10):
        deflate.compress(b"x" * 100, level)
    assert calls == [0, 1, 2]  # levels 1-3 only; 4-9 stayed with zlib


def test_invalid_compression_level():
    with pytest.raises(ValueError, match="0..9"):
        encode_window([A], compression_level=10)


@pytest.mark.parametrize(
    ("seq", "expected"),
    [
        (0, b"2A\x00\x00\x00\x00"),
        (1, b"2A\x00\x00\x00\x01"),
        (2048, b"2A\x00\x00\x08\x00"),
        (2**32 - 1, b"2A\xff\xff\xff\xff"),
    ],
)
def test_ack_bytes(seq, expected):
    assert encode_ack(seq) == expected
    assert AckDecoder().feed(expected) == [seq]


def test_ack_decoder_keepalive_partial_and_complete_in_one_read():
    assert AckDecoder().feed(b"2A\x00\x00\x00\x00" + b"2A\x00\x00\x00\x03" + b"2A\x00\x00\x00\x05") == [0, 3, 5]


def test_ack_decoder_byte_by_byte():
    decoder = AckDecoder()
    stream = encode_ack(0) + encode_ack(7)
    results = [decoder.feed(stream[i : i + 1]) for i in range(len(stream))]
    assert results == [[]] * 5 + [[0]] + [[]] * 5 + [[7]]


def test_ack_decoder_keeps_a_split_frame():
    decoder = AckDecoder()
    assert decoder.feed(b"2A\x00\x00\x00\x01" + b"2A\x00") == [1]
    assert decoder.feed(b"\x00\x00\x02") == [2]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"1A\x00\x00\x00\x01", "version byte '1'.*v1 is not supported"),
        (b"\x00A\x00\x00\x00\x01", "version byte 0x00"),
        (b"2W\x00\x00\x00\x01", "expected an ACK frame, got frame type 'W'"),
    ],
)
def test_ack_decoder_rejects(data, message):
    with pytest.raises(ProtocolError, match=message):
        AckDecoder().feed(data)


@pytest.mark.parametrize("level", [0, 1, 3, 9])
def test_frame_decoder_byte_by_byte(level):
    payloads = [A, BC, b'{"c":[1,2,3]}']
    stream = encode_window(payloads, level) + encode_window([A], level)
    decoder = FrameDecoder()
    frames = []
    for i in range(len(stream)):
        frames += decoder.feed(stream[i : i + 1])
    assert frames == [Window(3), Event(1, A), Event(2, BC), Event(3, b'{"c":[1,2,3]}'), Window(1), Event(1, A)]
    assert decoder.pending == 0


def test_frame_decoder_keeps_partial_frame_until_complete():
    stream = encode_window([A, BC], 0)
    decoder = FrameDecoder()
    assert decoder.feed(stream[:26]) == [Window(2), Event(1, A)]
    assert decoder.pending == 3
    assert decoder.feed(stream[26:]) == [Event(2, BC)]


def c_frame(body: bytes) -> bytes:
    return b"2C" + len(body).to_bytes(4, "big") + body


def compressed(inner: bytes) -> bytes:
    return c_frame(zlib.compress(inner))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"3W\x00\x00\x00\x01", "version byte '3'"),
        (b"1W\x00\x00\x00\x01", "v1 is not supported"),
        (b"2X\x00\x00\x00\x01", "unknown frame type byte 'X'"),
        (b"2A\x00\x00\x00\x01", "unknown frame type byte 'A'"),
        (b"2J\x00\x00\x00\x01\x7f\xff\xff\xff", "JSON frame of 2147483647 bytes exceeds"),
        (b"2C\xff\xff\xff\xff", "compressed frame of 4294967295 bytes exceeds"),
        (b"2C\x00\x00\x00\x06garbage", "not a valid zlib stream"),
        (compressed(b"2J\x00\x00\x00\x01\x00\x00\x00\x07{\"a\""), "ends in the middle of a frame"),
        (compressed(compressed(b"2W\x00\x00\x00\x00")), "unknown frame type byte 'C'.* inside a compressed frame"),
        (c_frame(zlib.compress(b"2W\x00\x00\x00\x00")[:-4]), "truncated"),
        (c_frame(zlib.compress(b"2W\x00\x00\x00\x00") + b"junk"), "padded"),
    ],
)
def test_frame_decoder_rejects(data, message):
    with pytest.raises(ProtocolError, match=message):
        FrameDecoder().feed(data)


@pytest.mark.parametrize("size", [100, 128 * 1024 - 10, 128 * 1024 - 9, 128 * 1024, 3 * 128 * 1024 + 5, 1_000_000])
def test_frame_decoder_inflates_in_steps(size):
    # Highly compressible content: zlib holds output back across the 128 KiB steps.
    payload = b'{"pad":"' + b"x" * (size - 10) + b'"}'
    inner = j_frame(1, payload)
    for limit in (len(inner), len(inner) + 1):
        assert FrameDecoder(max_payload=limit).feed_runs(compressed(inner)) == [EventRun([1], [payload])]
    with pytest.raises(ProtocolError, match=f"inflates beyond the limit of {len(inner) - 1} bytes"):
        FrameDecoder(max_payload=len(inner) - 1).feed_runs(compressed(inner))


def test_frame_decoder_limits_inflated_size():
    bomb = compressed(b"2J\x00\x00\x00\x01\x00\x01\x00\x00" + b" " * 65536)
    with pytest.raises(ProtocolError, match="inflates beyond the limit of 1000 bytes"):
        FrameDecoder(max_payload=1000).feed(bomb)
    assert FrameDecoder(max_payload=100_000).feed(bomb) == [Event(1, b" " * 65536)]


def j_frame(seq: int, payload: bytes) -> bytes:
    return b"2J" + seq.to_bytes(4, "big") + len(payload).to_bytes(4, "big") + payload


W2 = b"2W\x00\x00\x00\x02"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (W2 + j_frame(1, A) + j_frame(2, BC), [Window(2), EventRun([1, 2], [A, BC])]),
        (W2 + compressed(j_frame(1, A) + j_frame(2, BC)), [Window(2), EventRun([1, 2], [A, BC])]),
        # A W frame ends a run, and so does a C frame: each C frame's events are a run of their own.
        (W2 + j_frame(1, A) + j_frame(2, BC) + W2 + j_frame(1, BC),
         [Window(2), EventRun([1, 2], [A, BC]), Window(2), EventRun([1], [BC])]),
        (W2 + compressed(j_frame(1, A)) + compressed(j_frame(2, BC)),
         [Window(2), EventRun([1], [A]), EventRun([2], [BC])]),
        (W2 + compressed(j_frame(1, A)) + j_frame(2, BC), [Window(2), EventRun([1], [A]), EventRun([2], [BC])]),
        (compressed(W2 + j_frame(7, A) + j_frame(9, BC)), [Window(2), EventRun([7, 9], [A, BC])]),
        (j_frame(1, b""), [EventRun([1], [b""])]),  # the codec frames; what a payload must hold is the receiver's call
        (b"2W\x00\x00\x00\x00", [Window(0)]),
    ],
)
def test_frame_decoder_groups_consecutive_events_into_runs(data, expected):
    assert FrameDecoder().feed_runs(data) == expected
    flat = [Event(s, p) for run in expected if isinstance(run, EventRun) for s, p in zip(run.seqs, run.payloads)]
    assert [f for f in FrameDecoder().feed(data) if isinstance(f, Event)] == flat


def test_frame_decoder_runs_hold_bytes_not_views_of_its_buffer():
    decoder = FrameDecoder()
    [_, run] = decoder.feed_runs(bytearray(W2 + j_frame(1, A) + j_frame(2, BC)))
    assert [type(p) for p in run.payloads] == [bytes, bytes]


def test_frame_decoder_run_split_across_reads():
    stream = W2 + j_frame(1, A) + j_frame(2, BC)
    decoder = FrameDecoder()
    assert decoder.feed_runs(stream[:25]) == [Window(2), EventRun([1], [A])]
    assert decoder.feed_runs(stream[25:35]) == []
    assert decoder.pending == 12
    assert decoder.feed_runs(stream[35:]) == [EventRun([2], [BC])]
    assert decoder.pending == 0


@pytest.mark.parametrize("level", [0, 3])
def test_frame_decoder_runs_of_a_large_window_fed_in_chunks(level):
    payloads = [b'{"n":%d,"pad":"%s"}' % (i, b"x" * (i % 50)) for i in range(2048)]
    stream = encode_window(payloads, level) + encode_window(payloads[:5], level)
    decoder = FrameDecoder()
    runs = []
    for i in range(0, len(stream), 1000):
        runs += decoder.feed_runs(stream[i : i + 1000])
    windows = [r.count for r in runs if isinstance(r, Window)]
    events = [(s, p) for r in runs if isinstance(r, EventRun) for s, p in zip(r.seqs, r.payloads)]
    assert windows == [2048, 5]
    assert events == list(enumerate(payloads, 1)) + list(enumerate(payloads[:5], 1))
    assert decoder.pending == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (W2 + j_frame(1, A) + b"3J" + b"\x00" * 8, "version byte '3'"),
        (W2 + j_frame(1, A) + b"2X\x00\x00\x00\x00", "unknown frame type byte 'X'"),
        (compressed(j_frame(1, A) + b"2A\x00\x00\x00\x01"), "unknown frame type byte 'A'.* inside a compressed"),
        (compressed(j_frame(1, A) + j_frame(2, BC)[:-1]), "ends in the middle of a frame"),
        (j_frame(1, A) + b"2J\x00\x00\x00\x02\x7f\xff\xff\xff", "JSON frame of 2147483647 bytes exceeds"),
    ],
)
def test_frame_decoder_rejects_after_events(data, message):
    with pytest.raises(ProtocolError, match=message):
        FrameDecoder().feed_runs(data)


@pytest.mark.parametrize("data, spoken", [
    (b"HTTP/1.1 400 Bad Request\r\n", "HTTP"),
    (b"HTTP/1.0 400", "HTTP"),
    (b"<!DOCTYPE HTML>", "HTTP"),           # an error page without a status line
    (b"\r\n<html>", "HTTP"),
    (b"\x15\x03\x03\x00\x02\x02\x46", "TLS"),  # an alert record (protocol_version)
    (b"\x16\x03\x01\x00\xa5\x01", "TLS"),      # a handshake record
    (b"2A\x00\x00\x00\x01", None),           # an ACK: Lumberjack itself
    (b"\x15", None),                         # too short to tell
    (b"SSH-2.0-OpenSSH_9.2", None),
    (b"", None),
])
def test_what_a_peer_that_is_not_lumberjack_speaks(data, spoken):
    assert foreign_protocol(data) == spoken
