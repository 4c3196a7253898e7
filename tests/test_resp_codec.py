"""The RESP2 codec as byte tables: no sockets."""

import pytest

from logfwd.codecs.resp import NEED_DATA, ErrorReply, ReplyDecoder, encode_command
from logfwd.errors import ProtocolError


@pytest.mark.parametrize("args, wire", [
    (("PING",), b"*1\r\n$4\r\nPING\r\n"),
    (("SET", "k", b"\x00\r\n", 42), b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n\x00\r\n\r\n$2\r\n42\r\n"),
    (("GET", "ação"), b"*2\r\n$3\r\nGET\r\n$6\r\na\xc3\xa7\xc3\xa3o\r\n"),
    (("ECHO", ""), b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"),
])
def test_commands_are_arrays_of_bulk_strings(args, wire):
    assert encode_command(*args) == wire


def test_a_command_argument_must_be_text_bytes_or_an_integer():
    with pytest.raises(TypeError):
        encode_command("SET", "k", 1.5)


@pytest.mark.parametrize("wire, reply", [
    (b"+OK\r\n", "OK"),
    (b":-7\r\n", -7),
    (b"$5\r\nhe\r\no\r\n", b"he\r\no"),
    (b"$0\r\n\r\n", b""),
    (b"$-1\r\n", None),
    (b"*-1\r\n", None),
    (b"*0\r\n", []),
    (b"*3\r\n:1\r\n$-1\r\n*2\r\n+a\r\n$1\r\nb\r\n", [1, None, ["a", b"b"]]),
])
def test_replies_decode_to_python_values(wire, reply):
    decoder = ReplyDecoder()
    decoder.feed(wire)
    assert decoder.next_reply() == reply
    assert decoder.next_reply() is NEED_DATA


def test_an_error_reply_is_a_value_with_its_code():
    decoder = ReplyDecoder()
    decoder.feed(b"-WRONGPASS invalid username-password pair\r\n")
    reply = decoder.next_reply()
    assert isinstance(reply, ErrorReply) and reply.code == "WRONGPASS"
    assert reply == "WRONGPASS invalid username-password pair"


def test_replies_split_at_any_byte_come_out_whole_and_in_order():
    wire = b"*2\r\n$3\r\nabc\r\n:5\r\n+OK\r\n$4\r\n\r\n\r\n\r\n"
    for cut in range(1, len(wire)):
        decoder, replies = ReplyDecoder(), []
        for part in (wire[:cut], wire[cut:]):
            decoder.feed(part)
            while (reply := decoder.next_reply()) is not NEED_DATA:
                replies.append(reply)
        assert replies == [[b"abc", 5], "OK", b"\r\n\r\n"], cut


@pytest.mark.parametrize("wire", [
    b"HTTP/1.1 400 Bad Request\r\n",
    b"$abc\r\n",
    b"$-2\r\n",
    b":12x\r\n",
    b"$3\r\nabcde\r\n",
    b"*x\r\n",
])
def test_bytes_that_are_not_resp_are_a_protocol_error(wire):
    decoder = ReplyDecoder()
    decoder.feed(wire)
    with pytest.raises(ProtocolError):
        decoder.next_reply()
