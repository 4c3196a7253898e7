"""``logfwd serve``'s own HTTP/1.1 loop over raw sockets, to real statsd daemons: kept-alive and
pipelined requests, bodies in pieces, and every request it cannot take answered (or the connection
ended) without anything counted."""

import base64
import json
import secrets
import socket
import time
import uuid

import pytest

from logfwd.cli.serve import DrainServer
from logplex_frames import ROUTER_H12, body

PASSWORD = f"pw-{secrets.token_hex(8)}"
DATA = body([("heroku", "router", ROUTER_H12), ("heroku", "web.1", "Error R14 (Memory quota exceeded)")])


@pytest.fixture
def drain(statsd_cluster):
    app = f"app{secrets.token_hex(4)}"
    values = {"source": "logplex", "sink": "statsd", "logplex_max_body": "4096",
              "logplex_credentials": json.dumps({app: f"logplex:{PASSWORD}"}),
              "statsd_cluster": ",".join(c.address for c in statsd_cluster)}
    server = DrainServer(values, environ={})
    server.idle_timeout = 0.5
    with server:
        server.app = app
        yield server


def request(app: str, data: bytes = DATA, *, extra: str = "", length: bool = True, version: str = "1.1") -> bytes:
    auth = base64.b64encode(f"logplex:{PASSWORD}".encode()).decode()
    head = (f"POST /{app}/logs HTTP/{version}\r\nHost: drain\r\nContent-Type: application/logplex-1\r\n"
            f"Logplex-Msg-Count: {data.count(b'<158>')}\r\nLogplex-Frame-Id: {uuid.uuid4().hex}\r\n"
            f"Authorization: Basic {auth}\r\n{extra}")
    if length:
        head += f"Content-Length: {len(data)}\r\n"
    return (head + "\r\n").encode() + data


def connect(server) -> socket.socket:
    sock = socket.create_connection(server.server_address, timeout=10)
    return sock


def answer(sock: socket.socket, pending: bytearray | None = None) -> tuple[int, dict, bytes]:
    """One answer read from ``sock`` (``pending``: bytes already read past the previous one)."""
    data = pending if pending is not None else bytearray()
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed after {bytes(data)!r}"
        data += chunk
    head, _, rest = bytes(data).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    length = int(headers["Content-Length"])
    while len(rest) < length:
        rest += sock.recv(65536)
    data[:] = rest[length:]
    return int(lines[0].split()[1]), headers, rest[:length]


def closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_kept_alive_and_pipelined_requests_are_answered_in_order(drain):
    with connect(drain) as sock:
        sock.sendall(request(drain.app))
        assert answer(sock)[::2] == (200, b"2 frame(s), 2 Heroku error(s) counted\n")
        sock.sendall(request(drain.app) + request(drain.app, DATA[:len(DATA) // 2 - 1], length=True)
                     + request(drain.app))  # three at once, the middle one malformed
        pending = bytearray()
        statuses = [answer(sock, pending)[0] for _ in range(3)]
    assert statuses == [200, 400, 200] and drain.answered == {200: 3, 400: 1}


def test_a_body_that_comes_in_pieces_is_read_whole(drain):
    data = request(drain.app)
    with connect(drain) as sock:
        for start in range(0, len(data), 97):
            sock.sendall(data[start:start + 97])
            time.sleep(0.002)
        assert answer(sock)[::2] == (200, b"2 frame(s), 2 Heroku error(s) counted\n")


@pytest.mark.parametrize("extra, version", [("Connection: close\r\n", "1.1"), ("", "1.0")])
def test_a_client_that_does_not_keep_alive_gets_its_answer_and_the_end(drain, extra, version):
    with connect(drain) as sock:
        sock.sendall(request(drain.app, extra=extra, version=version))
        status, headers, _ = answer(sock)
        assert status == 200 and headers["Connection"] == "close" and closed(sock)


def test_a_head_request_gets_the_answers_head_only(drain):
    with connect(drain) as sock:
        sock.sendall(f"HEAD /{drain.app}/logs HTTP/1.1\r\nHost: drain\r\n\r\n".encode())
        data = bytearray()
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        assert data.startswith(b"HTTP/1.1 405 ") and data.endswith(b"\r\n\r\n") and b"Content-Length: " in data
        sock.sendall(request(drain.app))  # the connection goes on: no body was left to misread
        assert answer(sock)[0] == 200


def test_expect_100_continue_is_answered_before_the_body(drain):
    data = request(drain.app, extra="Expect: 100-continue\r\n")
    head, body_part = data.split(b"\r\n\r\n", 1)
    with connect(drain) as sock:
        sock.sendall(head + b"\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body_part)
        assert answer(sock)[0] == 200


@pytest.mark.parametrize("raw, status, says", [
    (lambda app: request(app, length=False), 411, "a Content-Length is required"),
    (lambda app: request(app, extra="Transfer-Encoding: chunked\r\n", length=False), 411, "chunked"),
    (lambda app: b"HELLO\r\n\r\n", 400, "is not METHOD TARGET HTTP/1.1"),
    (lambda app: b"POST / HTTP/1.1\r\n" + b"X-Big: " + b"x" * 33000 + b"\r\n\r\n", 431, "request head is over"),
    (lambda app: b"POST / HTTP/1.1\r\n" + b"X-Big: " + b"x" * 33000, 431, "request head is over"),  # no end yet
])
def test_a_request_that_cannot_be_read_is_answered_and_the_connection_ended(drain, raw, status, says):
    sent = drain.sink.batches_sent
    with connect(drain) as sock:
        sock.sendall(raw(drain.app))
        got, headers, text = answer(sock)
        assert (got, headers["Connection"]) == (status, "close") and says in text.decode() and closed(sock)
    assert drain.sink.batches_sent == sent


def test_a_body_over_the_limit_is_refused_and_the_connection_goes_on(drain):
    big = body([("heroku", "router", ROUTER_H12)] * 40)  # over logplex_max_body (4096)
    with connect(drain) as sock:
        sock.sendall(request(drain.app, big))
        status, _, text = answer(sock)
        assert status == 413 and b"more than 4096" in text
        sock.sendall(request(drain.app))
        assert answer(sock)[0] == 200


def test_a_client_gone_mid_body_counts_nothing_and_others_are_served(drain):
    sent = drain.sink.batches_sent
    with connect(drain) as sock:
        sock.sendall(request(drain.app)[:-10])
    with connect(drain) as sock:
        time.sleep(0.05)
        assert drain.sink.batches_sent == sent
        sock.sendall(request(drain.app))
        assert answer(sock)[0] == 200


def test_an_idle_connection_is_let_go(drain):
    with connect(drain) as sock:
        sock.sendall(request(drain.app))
        assert answer(sock)[0] == 200
        started = time.monotonic()
        assert closed(sock) and time.monotonic() - started < 5  # idle_timeout is 0.5 s here
