"""Lumberjack v2 codec: tables of bytes, no sockets."""

import zlib

import pytest

from logfwd.codecs.lumberjack import AckDecoder, Event, FrameDecoder, Window, encode_ack, encode_window
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


def test_frame_decoder_limits_inflated_size():
    bomb = compressed(b"2J\x00\x00\x00\x01\x00\x01\x00\x00" + b" " * 65536)
    with pytest.raises(ProtocolError, match="inflates beyond the limit of 1000 bytes"):
        FrameDecoder(max_payload=1000).feed(bomb)
    assert FrameDecoder(max_payload=100_000).feed(bomb) == [Event(1, b" " * 65536)]
