"""The local server's HTTP/1.1 codec, with no I/O: request heads parsed or refused with the right
status, answers written in one buffer."""

import pytest

from logfwd.codecs.http1 import MAX_HEADERS, encode_answer, parse_head
from logfwd.errors import BadRequestError

HEAD = (b"POST /myapp/logs?x=1 HTTP/1.1\r\nHost: drain\r\nContent-Type: application/logplex-1\r\n"
        b"Logplex-Msg-Count: 2\r\nContent-Length: 120")


def test_a_drain_request_head_is_parsed():
    head = parse_head(HEAD)
    assert (head.method, head.target, head.length, head.keep_alive, head.expects_continue) == \
        ("POST", "/myapp/logs?x=1", 120, True, False)
    assert head.headers == {"Host": "drain", "Content-Type": "application/logplex-1", "Logplex-Msg-Count": "2",
                            "Content-Length": "120"}


@pytest.mark.parametrize("version, connection, keep_alive", [
    ("HTTP/1.1", None, True), ("HTTP/1.1", "close", False), ("HTTP/1.1", "Keep-Alive, Close", False),
    ("HTTP/1.0", None, False), ("HTTP/1.0", "keep-alive", True),
])
def test_connections_are_kept_alive_as_the_version_and_the_client_say(version, connection, keep_alive):
    head = f"GET / {version}\r\nHost: h" + (f"\r\nConnection: {connection}" if connection else "")
    assert parse_head(head.encode()).keep_alive is keep_alive


def test_expect_100_continue_is_seen_on_http_1_1_only():
    assert parse_head(HEAD + b"\r\nExpect: 100-Continue").expects_continue
    assert not parse_head(HEAD.replace(b"HTTP/1.1", b"HTTP/1.0") + b"\r\nExpect: 100-continue").expects_continue


@pytest.mark.parametrize("head, status, says", [
    (b"POST /x", 400, "is not METHOD TARGET HTTP/1.1"),
    (b"POST  /x HTTP/1.1", 400, "is not METHOD TARGET HTTP/1.1"),
    (b"\x16\x03\x01\x02\x00 / HTTP/1.1", 400, "is not METHOD TARGET HTTP/1.1"),  # TLS to a plain port
    (b"POST /x HTTP/2.0", 505, "is not HTTP/1.1"),
    (b"POST /x SPDY/3", 400, "is not HTTP/1.1"),
    (HEAD + b"\r\nno colon here", 400, "is not NAME: VALUE"),
    (HEAD + b"\r\nX-Bad : v", 400, "is not NAME: VALUE"),
    (HEAD + b"\r\n: v", 400, "is not NAME: VALUE"),
    (HEAD + b"\r\nTransfer-Encoding: chunked", 411, "chunked bodies are not taken"),
    (HEAD + b"\r\nContent-Length: 121", 400, "is not one number"),
    (HEAD.replace(b"120", b"-5"), 400, "is not one number"),
    (HEAD + b"".join(b"\r\nX-%d: v" % i for i in range(MAX_HEADERS)), 431, f"more than {MAX_HEADERS} header lines"),
])
def test_bad_heads_get_a_status_and_a_reason(head, status, says):
    with pytest.raises(BadRequestError) as caught:
        parse_head(head)
    assert caught.value.status == status and says in str(caught.value)


def test_the_same_length_twice_is_one_length():
    assert parse_head(HEAD + b"\r\ncontent-length: 120").length == 120


def test_an_answer_is_one_buffer_with_its_length():
    data = encode_answer(401, {"WWW-Authenticate": 'Basic realm="x"'}, b"no\n", keep_alive=True,
                         date="Mon, 30 Nov 2026 08:00:00 GMT")
    assert data == (b"HTTP/1.1 401 Unauthorized\r\nDate: Mon, 30 Nov 2026 08:00:00 GMT\r\n"
                    b'WWW-Authenticate: Basic realm="x"\r\nContent-Length: 3\r\n\r\nno\n')
    closing = encode_answer(599, {}, b"", keep_alive=False, date="d")
    assert closing == b"HTTP/1.1 599 \r\nDate: d\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def test_an_answer_header_cannot_write_headers_of_its_own():
    with pytest.raises(ValueError, match="holds a line break"):
        encode_answer(200, {"Retry-After": "5\r\nSet-Cookie: x=1"}, b"", keep_alive=True, date="d")
